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

The code is in three parts beside this file, all re-exported here:
server_base.py (programs, ports, configuration files, probes, processes),
server_queries.py (asking the stores) and server_private.py (a store of a
test's own).  As a module, the tests use load(), influx_query(), influx_series(),
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
import sys
import time

# The parts, re-exported: `import servers` is what the tests and scripts use.
from server_base import (  # noqa: F401
    DATABASE, EXPORT_END_S, INFLUXD_CONF, MOSQUITTO_CONF, START_ATTEMPTS, START_TIMEOUT_S, STATE_FILE,
    STOP_TIMEOUT_S, VICTORIA_DATA, VICTORIA_LOG, VICTORIA_RETENTION, ServerError, _alive, _http, _influx_pings,
    _influxd_env, _log_tail, _mqtt_roundtrip, _spawn, _tcp_accepts, _terminate, _victoria_answers, _victoria_argv,
    _write_influxd_conf, _write_mosquitto_conf, find_program, free_port)
from server_private import Influxd, Victoria, _Private, start_influxd, start_victoria  # noqa: F401
from server_queries import (  # noqa: F401
    VM_DROP_COUNTERS, influx_count, influx_query, influx_series, load, quote_ident, quote_string, vm_counters,
    vm_export, vm_flush, vm_samples)


# ---------------------------------------------------------------- the shared servers

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
