#!/usr/bin/env python3
"""SIGHUP while readings flow: the new configuration applied without a
restart, an invalid one and a forbidden one refused, nothing lost.

    test_reload.py TRYGGD SOURCE_DIR SERVERS_DIR

A simulated 40 minutes at speed 120 (20 s), window 60 s, against the
fixture's broker and influxd, three sim sensors: sky (light), door and old
(footfall).  While it runs:

  1. A new file: sky unchanged, door sampled every 2 s instead of 5, old
     gone, extra (light) new, [mqtt] health_interval changed.  SIGHUP.
  2. A file with an unknown key.  SIGHUP: refused with FILE:LINE, the
     previous configuration runs on.
  3. A file that moves the gateway to another district.  SIGHUP: refused,
     [gateway] cannot change while tryggd runs.

Then, window by window, in the store and on MQTT: sky and door have every
window of the 40 minutes, once; sky's all read whole (it was never
touched); old has an unbroken run of windows from the start to the reload
and extra one from the reload to the end, meeting in the same window; the
retained alert of old is cleared; `seq` rises by exactly 1 from the first
reading to the last across the reload.  tryggd exits 0.

Exit 0 when all hold, 1 with the list of what did not.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import capture
from capture import Problems, load_servers, read_messages, start_subscriber, stop_process, wait_for_marker

START = "2026-11-02T06:00:00Z"
END = "2026-11-02T06:40:00Z"
SPEED = 120
WINDOWS = 40
RELOADED = re.compile(r"SIGHUP: configuration reloaded: (\d+) sensors kept, (\d+) changed, (\d+) added, "
                      r"(\d+) removed; MQTT (\w+), store (\w+)")


def write_config(path, work, source, info, gateway_id, prefix, sensors, district="Skiftinge", health="60s",
                 extra_gateway=()):
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", f"district = {district}", "window = 60",
                     f"state_dir = {os.path.join(work, 'state')}", *extra_gateway]),
        ("simulation", [f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}", f"start = {START}",
                        f"end = {END}", f"speed = {SPEED}", "drain_timeout = 20"]),
        ("mqtt", [f"uri = tcp://127.0.0.1:{info['mqtt_port']}", f"topic_prefix = {prefix}",
                  f"health_interval = {health}"]),
        ("influx", [f"url = http://127.0.0.1:{info['influx_port']}"]),
        *capture.sim_sensors(sensors),
    ], comment="Written by tests/integration/test_reload.py")


def reload(proc, path, writer):
    """Replace the file whole, then SIGHUP."""
    temporary = path + ".new"
    writer(temporary)
    os.replace(temporary, path)
    proc.send_signal(signal.SIGHUP)


def window_starts(servers, info, measurement, gateway_id, sensor):
    rows = servers.influx_series(
        info, f'SELECT "coverage" FROM "{measurement}" WHERE "gateway" = {servers.quote_string(gateway_id)} '
              f'AND "sensor" = {servers.quote_string(sensor)}')
    return [(row["time"], row["coverage"]) for series in rows for row in series["rows"]]


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    work = tempfile.mkdtemp(prefix="reload-", dir=os.path.dirname(servers_dir))
    token = uuid.uuid4().hex[:8]
    gateway_id, prefix = f"reload-{token}", f"tryggtest-{token}"
    config = os.path.join(work, "tryggd.conf")
    first = {"sky": ("light", {"interval": 5}), "door": ("footfall", {"interval": 5}),
             "old": ("footfall", {"interval": 5})}
    second = {"sky": ("light", {"interval": 5}), "door": ("footfall", {"interval": 2}),
              "extra": ("light", {"interval": 5})}
    write_config(config, work, source, info, gateway_id, prefix, first)
    p = Problems()
    mqtt_capture = os.path.join(work, "mqtt.txt")
    subscriber = start_subscriber(servers, info, prefix, mqtt_capture)
    log_path = os.path.join(work, "tryggd.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        time.sleep(5)
        reload(proc, config, lambda path: write_config(path, work, source, info, gateway_id, prefix, second,
                                                       health="30s"))
        time.sleep(4)
        reload(proc, config, lambda path: write_config(path, work, source, info, gateway_id, prefix, second,
                                                       health="30s", extra_gateway=["bogus = 1"]))
        time.sleep(3)
        reload(proc, config, lambda path: write_config(path, work, source, info, gateway_id, prefix, second,
                                                       district="Årby", health="30s"))
        try:
            status = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            status = None
        wait_for_marker(servers, info, subscriber, mqtt_capture, f"{prefix}/_test/end", "end", 15)
    finally:
        if proc.poll() is None:
            proc.kill()
        stop_process(subscriber)
        log.close()

    with open(log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    p.expect(status == 0, "tryggd exits 0", f"status {status}; {text[-1500:]}")
    reloaded = RELOADED.findall(text)
    print(f"reloads applied: {reloaded}")
    p.expect(reloaded == [("1", "1", "1", "1", "reopened", "unchanged")],
             "one reload applied: sky kept, door changed, extra added, old removed, MQTT reopened", str(reloaded))
    p.expect(re.search(r"tryggd\.conf:\d+: unknown key 'bogus' in \[gateway\]", text) is not None,
             "the invalid file's problem is logged as FILE:LINE: message")
    p.expect(text.count("is not valid (see above); the configuration loaded before keeps running") == 1,
             "the invalid file is refused, once")
    p.expect(text.count("[gateway] (its id, district, site, window, state_dir or position) cannot change "
                        "while tryggd runs") == 1, "a new district is refused, once")

    series = {name: window_starts(servers, info, kind, gateway_id, name)
              for name, kind in (("sky", "light"), ("door", "footfall"), ("old", "footfall"), ("extra", "light"))}
    start_s = capture.parse_iso(START) // 1000
    every = [start_s + 60 * i for i in range(WINDOWS)]
    for name in ("sky", "door"):
        times = [t for t, _ in series[name]]
        p.expect(times == every, f"{name}: every window of the 40 minutes, once ({len(times)})",
                 f"missing {sorted(set(every) - set(times))[:5]}, extra {sorted(set(times) - set(every))[:5]}")
    sky_coverage = [c for _, c in series["sky"]]
    p.expect(all(c == 1 for c in sky_coverage), "sky, never touched by the reload: every window read whole",
             str([c for c in sky_coverage if c != 1]))
    old, extra = [t for t, _ in series["old"]], [t for t, _ in series["extra"]]
    print(f"old: {len(old)} windows, extra: {len(extra)} windows")
    if p.expect(old and extra, "old and extra both have windows", f"{len(old)}, {len(extra)}"):
        p.expect(old == every[:len(old)], "old: an unbroken run of windows from the start")
        p.expect(extra == every[-len(extra):], "extra: an unbroken run of windows to the end")
        p.expect(old[-1] == extra[0], "old's last window is the one extra starts in (the reload's)",
                 f"{old[-1]} and {extra[0]}")

    messages = read_messages(mqtt_capture, prefix, p)
    seqs = [json.loads(payload)["seq"] for _, topic, payload in messages if topic.endswith("/reading")]
    gaps = [(a, b) for a, b in zip(seqs, seqs[1:]) if b != a + 1]
    print(f"seq {seqs[0] if seqs else None}..{seqs[-1] if seqs else None} ({len(seqs)} readings)")
    p.expect(seqs and seqs[0] == 1 and not gaps, "seq rises by exactly 1 across the reload", str(gaps[:3]))
    windows = {}
    for _, topic, payload in messages:
        if topic.endswith("/window"):
            w = json.loads(payload)
            windows.setdefault(w["sensor"], []).append(w)
    for name in series:
        p.expect(len(windows.get(name, [])) == len(series[name]),
                 f"{name}: as many window messages as points ({len(windows.get(name, []))})")
    cleared = [retained for retained, topic, payload in messages
               if topic.endswith(f"/{gateway_id}/old/alert") and payload == b""]
    p.expect(len(cleared) == 1, "old's retained alert is cleared once", str(cleared))
    return p.verdict(work, "a reload applied what changed and lost nothing; invalid and forbidden ones refused",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
