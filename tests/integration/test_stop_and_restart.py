#!/usr/bin/env python3
"""What a stop and a restart leave behind, seen by an independent subscriber
and the store.

    test_stop_and_restart.py TRYGGD SOURCE_DIR SERVERS_DIR

  1. Real time, SIGTERM in the middle of a window: tryggd exits 0 within a
     few seconds; the window it was in is flushed with the share of it that
     was read (0 < coverage < 1); every window message also reached the
     store; the retained status is now {"state":"offline"}.
  2. Restart on the same state_dir: `seq` goes on from the last number the
     first run used, +1 per reading across both runs, no number used twice.
  3. A stop and a start within one window (simulated clock): the window's
     one point in the store holds what both runs read in it.

Exit 0 when all hold, 1 with the list of what did not.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

# Beside this file.
import capture
import capture as capture_module
from capture import (
    Problems, load_servers, mqtt_args, read_messages, start_subscriber, stop_process, wait_for_marker)

WINDOW_S = 2


def write_config(path, work, source, info, gateway_id, prefix, simulation):
    timing = [f"start = {simulation[0]}", f"end = {simulation[1]}", "speed = 0", "drain_timeout = 10"] \
        if simulation else []
    capture.write_config(path, [
        # Real time on a test machine whose kernel may not call its clock
        # synchronised: trusted, so that windows are stamped.
        ("gateway", [f"id = {gateway_id}", "district = Skiftinge", f"window = {WINDOW_S if simulation is None else 60}",
                     f"state_dir = {os.path.join(work, 'state')}", *(["clock = trusted"] if simulation is None else [])]),
        ("simulation", [f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}", *timing]),
        ("mqtt", [f"uri = tcp://127.0.0.1:{info['mqtt_port']}", f"topic_prefix = {prefix}"]),
        ("influx", [f"url = http://127.0.0.1:{info['influx_port']}"]),
        *capture.sim_sensors(capture.SKY_AND_DOOR),
    ])

def decode(messages, leaf):
    return [json.loads(payload) for _, topic, payload in messages if topic.endswith("/" + leaf)]


def sigterm_mid_window(servers, info, tryggd, source, work, problems):
    print("SIGTERM in the middle of a window (real time)")
    token = uuid.uuid4().hex[:8]
    gateway_id, prefix = f"stop-{token}", f"tryggtest-{token}"
    config = os.path.join(work, "stop.conf")
    write_config(config, os.path.join(work, "stop"), source, info, gateway_id, prefix, None)
    capture = os.path.join(work, "stop-mqtt.txt")
    subscriber = start_subscriber(servers, info, prefix, capture)
    log = open(os.path.join(work, "stop.log"), "wb")
    proc = subprocess.Popen([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        # Run a few windows, then stop half way into one.
        time.sleep(3 * WINDOW_S)
        now = time.time()
        time.sleep(WINDOW_S - now % WINDOW_S + WINDOW_S / 2)
        proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        try:
            status = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            status = None
        took = time.monotonic() - stopped
        problems.expect(status == 0, "exit 0 after SIGTERM", f"status {status}")
        problems.expect(took < 7, f"stopped within 7 s ({took:.1f} s)")
        wait_for_marker(servers, info, subscriber, capture, f"{prefix}/_test/end", "end", 15)
    finally:
        if proc.poll() is None:
            proc.kill()
        stop_process(subscriber)
        log.close()

    messages = read_messages(capture, prefix, problems)
    windows = decode(messages, "window")
    by_sensor = {}
    for w in windows:
        by_sensor.setdefault(w["sensor"], []).append(w)
    for sensor in ("sky", "door"):
        got = by_sensor.get(sensor, [])
        if not problems.expect(len(got) >= 3, f"{sensor}: at least 3 windows", f"{len(got)}"):
            continue
        last = got[-1]
        problems.expect(0 < last["coverage"] < 1,
                        f"{sensor}: the window cut short is flushed with 0 < coverage < 1 ({last['coverage']})",
                        f"coverage {last['coverage']!r}")
        # The windows before it were read from start to end (the first one
        # may have begun before tryggd did).
        full = [w["coverage"] for w in got[1:-1]]
        problems.expect(all(c == 1 for c in full), f"{sensor}: windows in between have coverage 1", f"{full}")

    where = f'"gateway" = {servers.quote_string(gateway_id)}'
    points = sum(servers.influx_count(info, m, where) for m in ("light", "footfall"))
    problems.expect(points == len(windows), f"every window message is a point in the store ({points} of {len(windows)})")

    retained = subprocess.run(
        [servers.find_program("mosquitto_sub"), *mqtt_args(info), "-C", "1", "-W", "3",
         "-t", f"{prefix}/skiftinge/{gateway_id}/status"],
        capture_output=True, timeout=10).stdout.decode().strip()
    problems.expect(retained == '{"state":"offline"}', "retained status is offline", retained)


def restart_continues_seq(servers, info, tryggd, source, work, problems):
    print("restart on the same state_dir")
    token = uuid.uuid4().hex[:8]
    gateway_id, prefix = f"restart-{token}", f"tryggtest-{token}"
    capture = os.path.join(work, "restart-mqtt.txt")
    subscriber = start_subscriber(servers, info, prefix, capture)
    runs = (("2026-11-02T07:00:00Z", "2026-11-02T07:20:00Z"), ("2026-11-02T07:20:00Z", "2026-11-02T07:40:00Z"))
    try:
        for number, simulation in enumerate(runs, 1):
            config = os.path.join(work, f"restart-{number}.conf")
            write_config(config, os.path.join(work, "restart"), source, info, gateway_id, prefix, simulation)
            done = subprocess.run([tryggd, "-c", config], capture_output=True, timeout=120)
            problems.expect(done.returncode == 0, f"run {number} exits 0",
                            done.stderr.decode(errors="replace")[-400:])
            wait_for_marker(servers, info, subscriber, capture, f"{prefix}/_test/run{number}", "run", 15)
    finally:
        stop_process(subscriber)

    seqs_by_run, run = [[], []], 0
    for _, topic, payload in read_messages(capture, prefix, problems):
        if topic.endswith("/reading"):
            seqs_by_run[run].append(json.loads(payload)["seq"])
        elif topic.endswith("/status") and json.loads(payload).get("state") == "offline" and seqs_by_run[0]:
            run = 1
    first, second = seqs_by_run
    if not (problems.expect(first and second, "readings from both runs", f"{len(first)} and {len(second)}")):
        return
    print(f"  run 1: seq {first[0]}..{first[-1]} ({len(first)} readings); "
          f"run 2: seq {second[0]}..{second[-1]} ({len(second)} readings)")
    problems.expect(first[0] == 1, "a new state_dir starts at seq 1", f"{first[0]}")
    problems.expect(second[0] == first[-1] + 1, "the restart goes on from the last seq + 1",
                    f"{first[-1]} then {second[0]}")
    both = first + second
    gaps = [(a, b) for a, b in zip(both, both[1:]) if b != a + 1]
    problems.expect(not gaps, "seq rises by exactly 1 across both runs", f"first breaks: {gaps[:3]}")


def restart_within_the_window(servers, info, tryggd, source, work, problems):
    """A stop at 07:02:30 and a start at 07:02:40 (simulated clock, window
    60 s): the window 07:02 was flushed cut short at the stop; the start
    goes on with it, so its one point in the store holds both parts:
    every reading of both runs in that window, as the subscriber saw them."""
    print("stop and start within one window")
    token = uuid.uuid4().hex[:8]
    gateway_id, prefix = f"resume-{token}", f"tryggtest-{token}"
    capture = os.path.join(work, "resume-mqtt.txt")
    subscriber = start_subscriber(servers, info, prefix, capture)
    runs = (("2026-11-03T07:00:00Z", "2026-11-03T07:02:30Z"), ("2026-11-03T07:02:40Z", "2026-11-03T07:05:00Z"))
    try:
        for number, simulation in enumerate(runs, 1):
            config = os.path.join(work, f"resume-{number}.conf")
            write_config(config, os.path.join(work, "resume"), source, info, gateway_id, prefix, simulation)
            done = subprocess.run([tryggd, "-c", config], capture_output=True, timeout=120)
            problems.expect(done.returncode == 0, f"run {number} exits 0",
                            done.stderr.decode(errors="replace")[-400:])
            if number == 2:
                problems.expect(b"goes on with the window the stop cut short" in done.stderr,
                                "run 2 says it goes on with the window the stop cut short")
            wait_for_marker(servers, info, subscriber, capture, f"{prefix}/_test/run{number}", "run", 15)
    finally:
        stop_process(subscriber)

    start_ms = capture_ms("2026-11-03T07:02:00Z")
    readings = {"sky": [], "door": []}
    for w in decode(read_messages(capture, prefix, problems), "reading"):
        if start_ms <= capture_ms(w["ts"]) < start_ms + 60000:
            readings[w["sensor"]].append(w["value"])
    where = f'"gateway" = {servers.quote_string(gateway_id)} AND time = \'2026-11-03T07:02:00Z\''
    for sensor, measurement, field in (("sky", "light", "samples"), ("door", "footfall", "count")):
        rows = [r for series in servers.influx_series(
            info, f'SELECT "samples", "count", "coverage" FROM "{measurement}" WHERE {where}') for r in series["rows"]]
        if not problems.expect(len(rows) == 1, f"{sensor}: one point for the window 07:02", f"{rows}"):
            continue
        row = rows[0]
        expected = len(readings[sensor]) if field == "samples" else sum(readings[sensor])
        print(f"  {sensor}: {len(readings[sensor])} readings in the window from both runs; the point: "
              f"samples {row['samples']}, count {row.get('count')}, coverage {row['coverage']:.3f}")
        # Light publishes every sample; footfall each pass, as it counts.
        problems.expect(row["samples"] == 50, f"{sensor}: 30 samples before the stop and 20 after "
                        f"({row['samples']})")
        problems.expect(row[field] == expected,
                        f"{sensor}: the window's point holds both runs' part ({field} {row[field]} = {expected})")
        problems.expect(abs(row["coverage"] - 50 / 60) < 1e-9, f"{sensor}: coverage 50/60 ({row['coverage']})")


def capture_ms(text):
    """Unix ms of a payload's time (with milliseconds) or a config's."""
    return capture_module.parse_rfc3339_ms(text) if "." in text else capture_module.parse_iso(text)


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    work = tempfile.mkdtemp(prefix="stop_and_restart-", dir=os.path.dirname(servers_dir))
    problems = Problems()
    sigterm_mid_window(servers, info, tryggd, source, work, problems)
    restart_continues_seq(servers, info, tryggd, source, work, problems)
    restart_within_the_window(servers, info, tryggd, source, work, problems)
    return problems.verdict(work, "a stop flushes and says offline, a restart goes on counting")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
