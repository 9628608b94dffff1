#!/usr/bin/env python3
r"""A private MQTT broker (mosquitto) and two time-series stores (influxd 1.6
and VictoriaMetrics 1.79) for the integration tests and the demo.

    servers.py start DIR     start all three in DIR, wait until they answer,
                             create the database, write DIR/servers.json
    servers.py stop DIR      stop what DIR/servers.json names (TERM, then KILL)
    servers.py query DIR Q   run one InfluxQL statement, print the JSON answer

The servers listen on 127.0.0.1 only, on free ports picked at start, so they
never collide with a system mosquitto/influxdb/victoria-metrics or with a
second checkout.  They run in their own session, with their output in files
under DIR, so they outlive the `start` call (a CTest fixture starts them in
one test and stops them in another) and never hold a pipe of whoever called
`start` open.

As a module, the tests use load(), influx_query(), influx_series(),
influx_count(), vm_export(), vm_samples(), vm_flush(), vm_counters(),
free_port() and find_program(); and start_influxd() / start_victoria() for a
store of a test's own that it can stop, kill and start again on the same data
and port (an outage), which the shared one of `start` must never be.

VictoriaMetrics, as these tests run it (measured on 1.79.5):
  - /write?db=D stores `m,tags f1=..,f2=.. ts` as metrics m_f1, m_f2 with the
    tags as labels plus db="D" (unless the line has a db tag); /api/v2/write
    (bucket=, org=) adds no db label.  precision= is honoured (s, ms, u, ns;
    absent or unknown: guessed from the size of the timestamp).
  - Every write answers 204, even when lines are malformed (skipped, logged,
    vm_rows_invalid_total) or dated outside [now - retention, now + 2 days]
    (dropped, logged, vm_rows_ignored_total{reason="small_timestamp" or
    "big_timestamp"}).  The upper limit follows the machine's clock: a
    simulated date more than two days ahead of it is never stored.
  - A sample of a series it already has shows in /api/v1/export within about
    a second, one of a new series within about 10 s; vm_flush() makes both
    visible at once.
  - It keeps every sample written, a resend of the same (series, timestamp)
    too (export shows both) unless started with dedup (then the last written
    wins, as in influxd).
  - It unescapes `\\` in tag values to one backslash (influxd keeps both).
  - SIGTERM keeps everything; after SIGKILL the samples it acknowledged in
    the last several seconds (6 s: lost, 11 s: kept) are gone, force_flush
    or not.  influxd keeps every acknowledged point either way.

Python 3.11 standard library only (Debian 12).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
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


# ---------------------------------------------------------------- queries

def load(directory):
    """What `start` wrote to DIR/servers.json."""
    with open(os.path.join(directory, STATE_FILE), encoding="utf-8") as f:
        return json.load(f)


def _port(server):
    # Accept servers.json's dict, a port number, a servers directory or an
    # Influxd of start_influxd().
    if isinstance(server, Influxd):
        return server.port
    if isinstance(server, dict):
        return server["influx_port"]
    if isinstance(server, int):
        return server
    return load(server)["influx_port"]


def influx_query(server, q, db=DATABASE, epoch="s", post=False, timeout_s=30.0):
    """Run InfluxQL q and return the decoded JSON answer (its "results").
    server: servers.json's dict, the influx port, or the servers directory.
    Raises ServerError for an HTTP error or an error in any statement."""
    params = {"q": q}
    if db:
        params["db"] = db
    if epoch:
        params["epoch"] = epoch
    url = f"http://127.0.0.1:{_port(server)}/query"
    body = urllib.parse.urlencode(params)
    try:
        if post:
            status, raw = _http(url, data=body.encode(), timeout_s=timeout_s)
        else:
            status, raw = _http(f"{url}?{body}", timeout_s=timeout_s)
    except (OSError, urllib.error.URLError) as e:
        raise ServerError(f"influx query {q!r}: {e}") from e
    try:
        answer = json.loads(raw.decode("utf-8"))
    except ValueError as e:
        raise ServerError(f"influx query {q!r}: HTTP {status}, not JSON: {raw[:200]!r}") from e
    if status != 200 or "error" in answer:
        raise ServerError(f"influx query {q!r}: HTTP {status}: {answer.get('error')}")
    for result in answer.get("results", []):
        if "error" in result:
            raise ServerError(f"influx query {q!r}: {result['error']}")
    return answer["results"]


def influx_series(server, q, db=DATABASE, epoch="s"):
    """The series of a one-statement query, each as
    {"name": measurement, "tags": {...}, "rows": [{column: value}, ...]}."""
    out = []
    for result in influx_query(server, q, db=db, epoch=epoch):
        for series in result.get("series", []):
            columns = series["columns"]
            out.append({
                "name": series.get("name"),
                "tags": series.get("tags", {}),
                "rows": [dict(zip(columns, values)) for values in series.get("values", [])],
            })
    return out


def influx_count(server, measurement, where="", db=DATABASE):
    """Points of a measurement (counted on the `coverage` field every point
    carries), optionally restricted by an InfluxQL WHERE clause."""
    q = f'SELECT count("coverage") FROM {quote_ident(measurement)}'
    if where:
        q += f" WHERE {where}"
    total = 0
    for series in influx_series(server, q, db=db):
        for row in series["rows"]:
            total += row.get("count") or 0
    return total


def quote_ident(name):
    """An InfluxQL identifier in double quotes."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(text):
    """An InfluxQL string literal in single quotes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _vm_url(server):
    # Accept servers.json's dict, a servers directory, a port number, a URL
    # or a Victoria of start_victoria().
    if isinstance(server, Victoria):
        return server.url
    if isinstance(server, dict):
        return server["victoria_url"]
    if isinstance(server, int):
        return f"http://127.0.0.1:{server}"
    if isinstance(server, str) and server.startswith(("http://", "https://")):
        return server.rstrip("/")
    return load(server)["victoria_url"]


def _vm_time(t):
    # Seconds (int or float) or a string VictoriaMetrics reads as is
    # (RFC 3339, or a number with a unit).
    return t if isinstance(t, str) else f"{t:.3f}".rstrip("0").rstrip(".")


def _vm_get(server, path, params=(), timeout_s=30.0):
    url = f"{_vm_url(server)}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        status, raw = _http(url, timeout_s=timeout_s)
    except (OSError, urllib.error.URLError) as e:
        raise ServerError(f"victoria-metrics GET {path}: {e}") from e
    if status != 200:
        raise ServerError(f"victoria-metrics GET {path}: HTTP {status}: "
                          f"{raw[:300].decode('utf-8', errors='replace')}")
    return raw


def vm_export(server, match, start=None, end=None):
    """The decoded lines of GET /api/v1/export?match[]=...: one dict per
    series, {"metric": {"__name__": ..., label: value}, "values": [...],
    "timestamps": [ms, ...]}, samples in time order (a sample written twice
    shows twice unless the server deduplicates).
    server: servers.json's dict, the servers directory, a port, a URL or a
    Victoria.  match: a series selector ('footfall_count{gateway="g"}',
    '{__name__=~"footfall_.*"}') or a list of them.  start, end: seconds
    since the epoch or a string VictoriaMetrics reads (RFC 3339); both ends
    included; end defaults to 2100, not VictoriaMetrics' own "now", which
    would leave out the points dated up to two days ahead that it accepts.
    Points written in the last seconds may be missing: vm_flush() first."""
    params = [("match[]", m) for m in ([match] if isinstance(match, str) else match)]
    if start is not None:
        params.append(("start", _vm_time(start)))
    params.append(("end", _vm_time(EXPORT_END_S if end is None else end)))
    raw = _vm_get(server, "/api/v1/export", params)
    try:
        return [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    except ValueError as e:
        raise ServerError(f"victoria-metrics export {match!r}: not JSON lines: {raw[:200]!r}") from e


def vm_samples(server, match, start=None, end=None):
    """vm_export() flattened: [(labels dict with __name__, timestamp in
    seconds (float), value)], sorted by name, labels and time."""
    out = []
    for series in vm_export(server, match, start, end):
        for ts, value in zip(series["timestamps"], series["values"]):
            out.append((series["metric"], ts / 1000.0, value))
    out.sort(key=lambda s: (sorted(s[0].items()), s[1]))
    return out


def vm_flush(server):
    """GET /internal/force_flush: what was written (answered 204) before
    this call shows in vm_export() at once, instead of within about a
    second (new samples of a known series) or ten (a new series)."""
    _vm_get(server, "/internal/force_flush")


VM_DROP_COUNTERS = ('vm_rows_inserted_total{type="influx"}', 'vm_rows_invalid_total{type="influx"}',
                    "vm_rows_ignored_total", "vm_rows_added_to_storage_total")


def vm_counters(server, prefixes=VM_DROP_COUNTERS):
    """The server's own metrics (GET /metrics) whose line starts with one of
    prefixes (a string or a tuple), as {'name{labels}': value}.  The default
    is what a 204 can hide: lines parsed (vm_rows_inserted_total{type=
    "influx"}, one per field), malformed lines skipped (vm_rows_invalid_total
    {type="influx"}), samples dropped for their date (vm_rows_ignored_total
    {reason="small_timestamp"}: older than the retention; "big_timestamp":
    more than two days ahead of the clock) and samples stored
    (vm_rows_added_to_storage_total)."""
    out = {}
    for line in _vm_get(server, "/metrics").decode("utf-8", errors="replace").splitlines():
        if line.startswith(prefixes):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


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


def stop(directory, quiet=False):
    """Stop the servers DIR/servers.json names.  Leaves every file alone (the
    logs and data stay for a post-mortem).  Nothing recorded: nothing to do."""
    try:
        info = load(directory)
    except FileNotFoundError:
        if not quiet:
            print(f"servers: nothing recorded in {directory}")
        return
    confs = {"mosquitto": os.path.join(directory, MOSQUITTO_CONF),
             "influxd": os.path.join(directory, INFLUXD_CONF),
             "victoria-metrics": os.path.join(directory, VICTORIA_DATA)}
    for name, pid in info.get("pids", {}).items():
        outcome = _terminate(pid, confs.get(name, ""))
        if not quiet:
            print(f"servers: {name} (pid {pid}): {outcome}")


def _distinct_ports(n):
    ports = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _influxd_env():
    # INFLUXDB_* variables override the configuration file: keep them out.
    return {k: v for k, v in os.environ.items() if not k.startswith("INFLUXDB_")}


def _start_once(directory):
    mqtt_port, influx_port, rpc_port, vm_port = _distinct_ports(4)

    mosquitto_conf = _write_mosquitto_conf(directory, mqtt_port)
    influxd_conf = _write_influxd_conf(directory, influx_port, rpc_port)
    vm_data = os.path.join(directory, VICTORIA_DATA)
    procs = {}
    confs = {"mosquitto": mosquitto_conf, "influxd": influxd_conf, "victoria-metrics": vm_data}
    logs = {"mosquitto": "mosquitto.log", "influxd": "influxd.log", "victoria-metrics": VICTORIA_LOG}
    try:
        procs["mosquitto"] = _spawn([find_program("mosquitto"), "-c", mosquitto_conf],
                                    os.path.join(directory, logs["mosquitto"]))
        procs["influxd"] = _spawn([find_program("influxd"), "run", "-config", influxd_conf],
                                  os.path.join(directory, logs["influxd"]), env=_influxd_env())
        procs["victoria-metrics"] = _spawn(_victoria_argv(vm_data, vm_port),
                                           os.path.join(directory, logs["victoria-metrics"]))
    except (ServerError, OSError):
        # A program missing: stop what did start.
        for name, proc in procs.items():
            _terminate(proc.pid, confs[name])
            proc.wait()
        raise

    def give_up(why):
        for name, proc in procs.items():
            _terminate(proc.pid, confs[name])
            proc.wait()
        raise ServerError(why)

    deadline = time.monotonic() + START_TIMEOUT_S
    mqtt_ok = influx_ok = vm_ok = False
    while not (mqtt_ok and influx_ok and vm_ok):
        for name, proc in procs.items():
            if proc.poll() is not None:
                log = os.path.join(directory, logs[name])
                give_up(f"{name} exited with status {proc.returncode}; {log}:\n{_log_tail(log)}")
        if time.monotonic() > deadline:
            give_up(f"servers did not answer within {START_TIMEOUT_S:.0f} s "
                    f"(mqtt {'ok' if mqtt_ok else 'no'}, influx {'ok' if influx_ok else 'no'}, "
                    f"victoria-metrics {'ok' if vm_ok else 'no'})")
        if not mqtt_ok and _tcp_accepts(mqtt_port):
            mqtt_ok = _mqtt_roundtrip(mqtt_port)
        if not influx_ok:
            influx_ok = _influx_pings(influx_port)
        if not vm_ok:
            vm_ok = _victoria_answers(vm_port, vm_data)
        if not (mqtt_ok and influx_ok and vm_ok):
            time.sleep(0.1)
    # All answered; make sure it was them and not a process that took a
    # port in the meantime (then ours would have failed to bind and exited).
    for name, proc in procs.items():
        if proc.poll() is not None:
            give_up(f"{name} exited with status {proc.returncode} while starting")

    try:
        influx_query(influx_port, f"CREATE DATABASE {quote_ident(DATABASE)}", db=None,
                     epoch=None, post=True)
    except ServerError as e:
        give_up(str(e))

    return {
        "dir": directory,
        "mqtt_port": mqtt_port,
        "mqtt_uri": f"tcp://127.0.0.1:{mqtt_port}",
        "influx_port": influx_port,
        "influx_url": f"http://127.0.0.1:{influx_port}",
        "influx_rpc_port": rpc_port,
        "database": DATABASE,
        "victoria_port": vm_port,
        "victoria_url": f"http://127.0.0.1:{vm_port}",
        "victoria_data": vm_data,
        "victoria_retention": VICTORIA_RETENTION,
        "pids": {name: proc.pid for name, proc in procs.items()},
    }


def start(directory):
    """Start the three servers in DIR (created when missing) and return what
    was written to DIR/servers.json.  Servers still recorded there from an
    earlier run are stopped first, and the stores start empty."""
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    stop(directory, quiet=True)
    # Fresh stores each time: counts in the tests then mean this run.
    shutil.rmtree(os.path.join(directory, "influxdb"), ignore_errors=True)
    shutil.rmtree(os.path.join(directory, VICTORIA_DATA), ignore_errors=True)
    for name in ("mosquitto.log", "influxd.log", VICTORIA_LOG, STATE_FILE):
        try:
            os.unlink(os.path.join(directory, name))
        except FileNotFoundError:
            pass

    last_error = None
    for _ in range(START_ATTEMPTS):
        try:
            info = _start_once(directory)
            break
        except ServerError as e:
            # Most likely a port was taken between choosing and binding it.
            last_error = e
    else:
        raise last_error

    tmp = os.path.join(directory, STATE_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(directory, STATE_FILE))
    return info


# ---------------------------------------------------------------- a store of a test's own

class _Private:
    """One server a test starts, stops (SIGTERM), kills (SIGKILL), pauses
    (SIGSTOP: connections are accepted, nothing is answered) and starts
    again on the same port and the same data: an outage of the store, which
    the shared one of `start` must never have.  Its output is appended to
    a log file in its folder.  close() (or leaving a `with`) stops it; the
    folder is left for a post-mortem."""

    name = "server"

    def __init__(self, directory, port):
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.port = port or free_port()
        self.proc = None
        self.starts = 0
        self.log = os.path.join(self.directory, f"{self.name}.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _argv(self):
        raise NotImplementedError

    def _env(self):
        return None

    def _answers(self):
        raise NotImplementedError

    def _ready(self):
        """Once it answers, before start() returns."""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout_s=START_TIMEOUT_S):
        """Start and wait until it answers; time.monotonic() at that moment
        (the store is "back").  ServerError when it exits or stays silent
        (it is stopped then), say because the port was taken meanwhile."""
        if self.running():
            raise ServerError(f"{self.name} on port {self.port} is running already")
        self.proc = _spawn(self._argv(), self.log, env=self._env())
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with status {self.proc.returncode}; "
                                  f"{self.log}:\n{_log_tail(self.log)}")
            if self._answers():
                break
            if time.monotonic() > deadline:
                self.kill()
                raise ServerError(f"{self.name} did not answer on port {self.port} within "
                                  f"{timeout_s:.0f} s; {self.log}:\n{_log_tail(self.log)}")
            time.sleep(0.02)
        back = time.monotonic()
        try:
            self._ready()
        except ServerError:
            self.kill()
            raise
        return back

    def stop(self, timeout_s=STOP_TIMEOUT_S):
        """SIGTERM (after SIGCONT, should it be paused) and wait: it shuts
        down cleanly, keeping all it acknowledged.  SIGKILL after timeout_s.
        The exit status (None when it had to be killed or was not running)."""
        if not self.running():
            return None
        self.resume()
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        """SIGKILL: a crash.  What it had not yet written out is lost."""
        if self.running():
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    def pause(self):
        """SIGSTOP: the port still accepts connections, nothing answers."""
        if self.running():
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        if self.running():
            self.proc.send_signal(signal.SIGCONT)

    def close(self):
        self.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        state = "running" if self.running() else "stopped"
        return f"<{type(self).__name__} {self.url} {state}, {self.directory}>"


class Victoria(_Private):
    """A VictoriaMetrics of a test's own: data in DIR/data, log in
    DIR/victoria-metrics.log.  retention, dedup: see _victoria_argv();
    args: more command-line flags.  The vm_* helpers take it as server.
    kill() loses what it acknowledged in about the last ten seconds (1.79.5
    keeps recent samples in memory; /internal/force_flush makes them
    searchable, not durable): an outage test that must find every point
    afterwards uses stop(), or waits that long before kill()."""

    name = "victoria-metrics"

    def __init__(self, directory, port=None, retention=VICTORIA_RETENTION, dedup=None, args=()):
        super().__init__(directory, port)
        self.data = os.path.join(self.directory, "data")
        self.retention = retention
        self.dedup = dedup
        self.args = tuple(args)

    def _argv(self):
        return _victoria_argv(self.data, self.port, self.retention, self.dedup, self.args)

    def _answers(self):
        return _victoria_answers(self.port, self.data)

    def write_url(self, db=DATABASE, precision="s"):
        return f"{self.url}/write?" + urllib.parse.urlencode({"db": db, "precision": precision})


class Influxd(_Private):
    """An influxd 1.6 of a test's own: configuration DIR/influxdb.conf,
    data under DIR/influxdb, log DIR/influxd.log, the database `trygghet`
    created at each start (kept across restarts).  The influx_* helpers
    take it as server."""

    name = "influxd"

    def __init__(self, directory, port=None, rpc_port=None):
        super().__init__(directory, port)
        self.rpc_port = rpc_port or free_port()
        while self.rpc_port == self.port:
            self.rpc_port = free_port()
        self.conf = _write_influxd_conf(self.directory, self.port, self.rpc_port)

    def _argv(self):
        return [find_program("influxd"), "run", "-config", self.conf]

    def _env(self):
        return _influxd_env()

    def _answers(self):
        return _influx_pings(self.port)

    def _ready(self):
        influx_query(self.port, f"CREATE DATABASE {quote_ident(DATABASE)}", db=None,
                     epoch=None, post=True)

    def write_url(self, db=DATABASE, precision="s"):
        return f"{self.url}/write?" + urllib.parse.urlencode({"db": db, "precision": precision})


def start_victoria(directory, port=None, retention=VICTORIA_RETENTION, dedup=None, args=()):
    """A Victoria in DIR (created when missing), started and answering.
    Stop it with .stop() / .close() or a `with` block."""
    server = Victoria(directory, port, retention, dedup, args)
    server.start()
    return server


def start_influxd(directory, port=None):
    """An Influxd in DIR (created when missing), started and answering, the
    database created.  Stop it with .stop() / .close() or a `with` block."""
    server = Influxd(directory, port)
    server.start()
    return server


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("start", help="start mosquitto, influxd and victoria-metrics in DIR").add_argument("dir")
    sub.add_parser("stop", help="stop the servers recorded in DIR").add_argument("dir")
    query = sub.add_parser("query", help="run InfluxQL against the store in DIR")
    query.add_argument("dir")
    query.add_argument("q")
    query.add_argument("--db", default=DATABASE)
    args = parser.parse_args(argv)

    try:
        if args.command == "start":
            t0 = time.monotonic()
            info = start(args.dir)
            print(f"servers: mosquitto {info['mqtt_uri']} (pid {info['pids']['mosquitto']}), "
                  f"influxd {info['influx_url']} (pid {info['pids']['influxd']}), "
                  f"victoria-metrics {info['victoria_url']} (pid {info['pids']['victoria-metrics']}), "
                  f"database {info['database']}; ready in {time.monotonic() - t0:.1f} s; "
                  f"{os.path.join(info['dir'], STATE_FILE)}")
        elif args.command == "stop":
            stop(os.path.abspath(args.dir))
        else:
            print(json.dumps(influx_query(os.path.abspath(args.dir), args.q, db=args.db),
                             ensure_ascii=False, indent=2))
    except (ServerError, OSError) as e:
        print(f"servers: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
