#!/usr/bin/env python3
"""A private MQTT broker (mosquitto) and time-series store (influxd 1.6) for
the integration tests and the demo.

    servers.py start DIR     start both in DIR, wait until they answer,
                             create the database, write DIR/servers.json
    servers.py stop DIR      stop what DIR/servers.json names (TERM, then KILL)
    servers.py query DIR Q   run one InfluxQL statement, print the JSON answer

Both servers listen on 127.0.0.1 only, on free ports picked at start, so they
never collide with a system mosquitto/influxdb or with a second checkout.  They
run in their own session, with their output in files under DIR, so they
outlive the `start` call (a CTest fixture starts them in one test and stops
them in another) and never hold a pipe of whoever called `start` open.

As a module, the tests use load(), influx_query(), influx_series(),
influx_count(), free_port() and find_program().  Python 3.11 standard library
only (Debian 12).
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


# ---------------------------------------------------------------- queries

def load(directory):
    """What `start` wrote to DIR/servers.json."""
    with open(os.path.join(directory, STATE_FILE), encoding="utf-8") as f:
        return json.load(f)


def _port(server):
    # Accept servers.json's dict, a port number or a servers directory.
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
             "influxd": os.path.join(directory, INFLUXD_CONF)}
    for name, pid in info.get("pids", {}).items():
        outcome = _terminate(pid, confs.get(name, ""))
        if not quiet:
            print(f"servers: {name} (pid {pid}): {outcome}")


def _start_once(directory):
    mqtt_port, influx_port, rpc_port = free_port(), free_port(), free_port()
    while len({mqtt_port, influx_port, rpc_port}) < 3:
        influx_port, rpc_port = free_port(), free_port()

    mosquitto_conf = _write_mosquitto_conf(directory, mqtt_port)
    influxd_conf = _write_influxd_conf(directory, influx_port, rpc_port)
    # INFLUXDB_* variables override the configuration file: keep them out.
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFLUXDB_")}
    procs = {
        "mosquitto": _spawn([find_program("mosquitto"), "-c", mosquitto_conf],
                            os.path.join(directory, "mosquitto.log")),
        "influxd": _spawn([find_program("influxd"), "run", "-config", influxd_conf],
                          os.path.join(directory, "influxd.log"), env=env),
    }
    confs = {"mosquitto": mosquitto_conf, "influxd": influxd_conf}

    def give_up(why):
        for name, proc in procs.items():
            _terminate(proc.pid, confs[name])
            proc.wait()
        raise ServerError(why)

    deadline = time.monotonic() + START_TIMEOUT_S
    mqtt_ok = influx_ok = False
    while not (mqtt_ok and influx_ok):
        for name, proc in procs.items():
            if proc.poll() is not None:
                log = os.path.join(directory, f"{name}.log")
                give_up(f"{name} exited with status {proc.returncode}; {log}:\n{_log_tail(log)}")
        if time.monotonic() > deadline:
            give_up(f"servers did not answer within {START_TIMEOUT_S:.0f} s "
                    f"(mqtt {'ok' if mqtt_ok else 'no'}, influx {'ok' if influx_ok else 'no'})")
        if not mqtt_ok and _tcp_accepts(mqtt_port):
            mqtt_ok = _mqtt_roundtrip(mqtt_port)
        if not influx_ok:
            influx_ok = _influx_pings(influx_port)
        if not (mqtt_ok and influx_ok):
            time.sleep(0.1)
    # Both answered; make sure it was them and not a process that took a
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
        "pids": {name: proc.pid for name, proc in procs.items()},
    }


def start(directory):
    """Start both servers in DIR (created when missing) and return what was
    written to DIR/servers.json.  Servers still recorded there from an
    earlier run are stopped first, and the store starts empty."""
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    stop(directory, quiet=True)
    # A fresh store each time: counts in the tests then mean this run.
    shutil.rmtree(os.path.join(directory, "influxdb"), ignore_errors=True)
    for name in ("mosquitto.log", "influxd.log", STATE_FILE):
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("start", help="start mosquitto and influxd in DIR").add_argument("dir")
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
