"""The parts every private server of the tests is made of: finding the
programs, free ports, configuration files for mosquitto and influxd, the
command line of VictoriaMetrics, probes that say a server answers, and
starting and stopping a process in a session of its own (servers.py says
what the servers are for; server_queries.py asks them, server_private.py
is a server a test starts, stops and kills itself).

Python 3.11 standard library only (Debian 12).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid

DATABASE = "trygghet"
STATE_FILE = "servers.json"
MOSQUITTO_CONF = "mosquitto.conf"
INFLUXD_CONF = "influxdb.conf"
# VictoriaMetrics has no configuration file: its data folder, one argument of
# its command line, is what identifies it as ours (see _ours()).
VICTORIA_DATA = "victoria-metrics"
VICTORIA_LOG = "victoria-metrics.log"
# Tests write points dated from 2024 on; VictoriaMetrics drops (silently,
# answering 204) what is older than now - retention.  A number alone would be
# months (the default is 1); 100y keeps anything a test writes.
VICTORIA_RETENTION = "100y"
# /api/v1/export ends at "now" by default, which would hide the points dated
# up to two days ahead that VictoriaMetrics does accept.
EXPORT_END_S = 4102444800  # 2100-01-01T00:00:00Z
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
START_ATTEMPTS = 3


class ServerError(Exception):
    """A server could not be started, reached or queried."""


# ---------------------------------------------------------------- helpers

def find_program(name):
    """The path of an executable: PATH first, then the sbin directories a
    non-root PATH often lacks (mosquitto lives in /usr/sbin)."""
    path = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"
    found = shutil.which(name, path=path)
    if not found:
        raise ServerError(f"{name} not found (scripts/deps installs it)")
    return found


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now.  Another
    process could take it before we use it; start() retries when a server
    fails to bind."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _toml_string(text):
    # A JSON string is a valid TOML basic string for every path we write.
    return json.dumps(text)


def _log_tail(path, lines=20):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def _alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            # The state follows the command name, which is in parentheses.
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def _ours(pid, conf_path):
    """The pid still is the server we started: its command line names our
    configuration file.  Guards against killing a recycled pid."""
    return os.fsencode(conf_path) in _cmdline(pid)


# ---------------------------------------------------------------- mosquitto

def _write_mosquitto_conf(directory, port):
    conf = os.path.join(directory, MOSQUITTO_CONF)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(
            "# Written by scripts/lib/servers.py: a throw-away broker for tests.\n"
            f"listener {port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            # stderr goes to a file servers.py opened: mosquitto drops root
            # privileges to its own user and might not be allowed to open a
            # log file in DIR itself.
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n"
            "log_type notice\n"
            "log_type information\n"
            "connection_messages true\n"
            "log_timestamp_format %Y-%m-%dT%H:%M:%S\n"
            # A test subscriber must see every message even when tryggd
            # publishes a simulated day faster than it reads: the default
            # limit (1000 queued per client) would drop the excess.
            "max_queued_messages 0\n"
        )
    return conf


def _mqtt_roundtrip(port, timeout_s=5.0):
    """Publish a retained token and read it back with a new subscriber: the
    broker on port accepts connections, subscriptions and messages.  The
    retained message is cleared afterwards."""
    pub, sub = find_program("mosquitto_pub"), find_program("mosquitto_sub")
    topic = "servers-py/ready"
    token = uuid.uuid4().hex
    common = ["-h", "127.0.0.1", "-p", str(port)]
    try:
        subprocess.run([pub, *common, "-q", "1", "-r", "-t", topic, "-m", token],
                       check=True, capture_output=True, timeout=timeout_s)
        got = subprocess.run([sub, *common, "-C", "1", "-W", str(int(timeout_s)), "-t", topic],
                             capture_output=True, text=True, timeout=timeout_s + 2)
        ok = got.returncode == 0 and got.stdout.strip() == token
        subprocess.run([pub, *common, "-q", "1", "-r", "-n", "-t", topic],
                       capture_output=True, timeout=timeout_s)
        return ok
    except (subprocess.SubprocessError, OSError):
        return False


def _tcp_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- influxd

def _write_influxd_conf(directory, http_port, rpc_port):
    base = os.path.join(directory, "influxdb")
    conf = os.path.join(directory, INFLUXD_CONF)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(
            "# Written by scripts/lib/servers.py: a throw-away store for tests.\n"
            "reporting-disabled = true\n"
            # The backup/restore RPC service binds too: give it a free port
            # instead of the default 8088.
            f"bind-address = {_toml_string(f'127.0.0.1:{rpc_port}')}\n"
            "\n[meta]\n"
            f"  dir = {_toml_string(os.path.join(base, 'meta'))}\n"
            "\n[data]\n"
            f"  dir = {_toml_string(os.path.join(base, 'data'))}\n"
            f"  wal-dir = {_toml_string(os.path.join(base, 'wal'))}\n"
            "  query-log-enabled = false\n"
            # No _internal database: the tests count what is in the store.
            "\n[monitor]\n"
            "  store-enabled = false\n"
            "\n[subscriber]\n"
            "  enabled = false\n"
            "\n[http]\n"
            "  enabled = true\n"
            f"  bind-address = {_toml_string(f'127.0.0.1:{http_port}')}\n"
            "  auth-enabled = false\n"
            "  log-enabled = false\n"
            # Whole answers: the tests compare every window of a day.
            "  max-row-limit = 0\n"
            "\n[logging]\n"
            "  suppress-logo = true\n"
        )
    return conf


def _http(url, data=None, timeout_s=10.0):
    """(status, body) of a GET, or of a POST when data is given."""
    request = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _influx_pings(port):
    try:
        status, _ = _http(f"http://127.0.0.1:{port}/ping", timeout_s=2.0)
        return status == 204
    except (OSError, urllib.error.URLError):
        return False


# ---------------------------------------------------------------- victoria-metrics

def _victoria_argv(data_dir, port, retention=VICTORIA_RETENTION, dedup=None, args=()):
    """The command line of a VictoriaMetrics on 127.0.0.1:port with its data
    in data_dir.  dedup: None (keep every sample written, so a test sees
    each resend) or an interval such as "1ms" (one sample per series and
    interval, the last written)."""
    argv = [find_program("victoria-metrics"),
            # Two arguments, not -storageDataPath=DIR: _ours() looks for the
            # folder as one argument of the command line.
            "-storageDataPath", data_dir,
            f"-httpListenAddr=127.0.0.1:{port}",
            f"-retentionPeriod={retention}",
            # Answers from the data, never from a cache of an earlier query,
            # and no hold-back of the newest points in /api/v1/query_range.
            "-search.disableCache",
            "-search.latencyOffset=0s"]
    if dedup:
        argv.append(f"-dedup.minScrapeInterval={dedup}")
    return argv + list(args)


def _victoria_answers(port, data_dir):
    """GET /health says OK and /flags names our data folder: the server on
    port is up and is the one we started, not another that had the port."""
    try:
        status, body = _http(f"http://127.0.0.1:{port}/health", timeout_s=2.0)
        if status != 200 or body.strip() != b"OK":
            return False
        status, body = _http(f"http://127.0.0.1:{port}/flags", timeout_s=2.0)
        return status == 200 and f'-storageDataPath="{data_dir}"'.encode() in body
    except (OSError, urllib.error.URLError):
        return False


# ---------------------------------------------------------------- start/stop

def _spawn(argv, log_path, env=None):
    log = open(log_path, "ab")
    try:
        # A new session: the server survives this process and the process
        # group of whoever ran us (ctest, a shell's job control).
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, env=env, close_fds=True)
    finally:
        log.close()


def _terminate(pid, conf_path, timeout_s=STOP_TIMEOUT_S):
    """TERM, wait, then KILL.  Returns a word for the report."""
    if not _alive(pid):
        return "not running"
    if not _ours(pid, conf_path):
        return "pid now belongs to another program; left alone"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return "stopped"
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return "killed"


def _influxd_env():
    # INFLUXDB_* variables override the configuration file: keep them out.
    return {k: v for k, v in os.environ.items() if not k.startswith("INFLUXDB_")}
