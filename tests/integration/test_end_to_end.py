#!/usr/bin/env python3
"""End to end: one simulated day through a real broker and a real store.

    test_end_to_end.py TRYGGD SOURCE_DIR SERVERS_DIR

SERVERS_DIR holds servers.json from `scripts/lib/servers.py start`.  The test
writes a config for a fresh gateway (unique id and topic prefix, a district
and a site that need escaping), subscribes to everything under the prefix
with an independent mosquitto_sub, runs tryggd over 2026-11-02 UTC at full
speed and then checks what arrived, on both sides:

  MQTT   every window of the day exactly once per sensor, aligned, with the
         gateway's identity; readings numbered +1 without a gap; readings
         that add up to the windows they fall in; a retained online status.
  store  one point per sensor per window with exactly the values of the
         window message, the tags byte for byte as configured, the field
         types of CONTRACT.md, and coverage 1.

Exit 0 when everything matches, 1 with a list of mismatches otherwise.  The
working directory (config, tryggd's log, the raw subscription) is kept on
failure and printed.
"""

import collections
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

# Beside this file.
import capture
from capture import (
    is_int, load_servers, mqtt_args, parse_iso, parse_rfc3339_ms, read_messages, start_subscriber, stop_process,
    wait_for_marker)

DAY_START = "2026-11-02T00:00:00Z"
DAY_END = "2026-11-03T00:00:00Z"
WINDOW_S = 60
# A district with a non-ASCII name and its topic level per CONTRACT.md's
# slug rule, and a site with characters line protocol must escape.
DISTRICT = "Årby"
DISTRICT_SLUG = "arby"
SITE = "Torget 3, ingång=öst"

# name -> (type, keys of its [sensor.NAME] section).  Intervals that divide
# the window, so each window holds whole samples; the lamp samples less
# often than its light sensor.  One sensor names its profile, the others
# take the gateway's district.
SENSORS = {
    "sky": ("light", {"interval": "5", "dark_lux": "10", "seed": "11"}),
    "lamp-1": ("lamp", {"interval": "10", "light": "sky", "seed": "12"}),
    "door_a": ("footfall", {"seed": "13", "profile": DISTRICT}),
}
UNITS = {"footfall": "count", "light": "lx", "lamp": "on"}

# Fields each measurement must carry in the store, by type (CONTRACT.md).
INTEGER_FIELDS = {"count", "in", "out", "dark_s", "samples", "on_s", "fault_s"}
FLOAT_FIELDS = {"lux_min", "lux_mean", "lux_max", "coverage"}
IDENTITY_KEYS = {"start", "end", "gateway", "district", "site", "sensor", "type"}
TAG_KEYS = {"district", "gateway", "sensor", "site"}

TRYGGD_TIMEOUT_S = 420      # a simulated day; CTest's TIMEOUT is larger
SUBSCRIBER_TIMEOUT_S = 30   # for the subscriber to catch up at the end

def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Problems:
    """Mismatches by kind: a count and the first few examples of each, so a
    systematic error reads as one line, not 1440."""

    EXAMPLES = 5

    def __init__(self):
        self.kinds = collections.OrderedDict()

    def add(self, kind, detail=""):
        count, examples = self.kinds.get(kind, (0, []))
        if len(examples) < self.EXAMPLES and detail:
            examples.append(detail)
        self.kinds[kind] = (count + 1, examples)

    def __bool__(self):
        return bool(self.kinds)

    def report(self):
        for kind, (count, examples) in self.kinds.items():
            print(f"FAIL: {kind} ({count}x)")
            for example in examples:
                print(f"        {example}")


# ---------------------------------------------------------------- setup

def write_config(path, work, source, info, gateway_id, prefix):
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", f"district = {DISTRICT}", f"site = {SITE}", f"window = {WINDOW_S}",
                     f"state_dir = {os.path.join(work, 'state')}"]),
        ("simulation", [f"start = {DAY_START}", "speed = 0", f"end = {DAY_END}",
                        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}"]),
        ("mqtt", [f"uri = {info['mqtt_uri']}", f"topic_prefix = {prefix}", "qos = 1", "publish_readings = yes"]),
        ("influx", [f"url = {info['influx_url']}", "api = v1", f"database = {info['database']}"]),
        *capture.sim_sensors(SENSORS),
    ], comment="Written by tests/integration/test_end_to_end.py")


# ---------------------------------------------------------------- MQTT checks

def check_identity(problems, what, msg, sensor, kind, gateway_id):
    expected = {"gateway": gateway_id, "district": DISTRICT, "site": SITE,
                "sensor": sensor, "type": kind}
    for key, value in expected.items():
        if msg.get(key) != value:
            problems.add(f"{what}: wrong '{key}'", f"{sensor}: {msg.get(key)!r}, expected {value!r}")


def check_window_message(problems, sensor, kind, msg, gateway_id):
    check_identity(problems, "window", msg, sensor, kind, gateway_id)
    start, end = parse_rfc3339_ms(msg.get("start")), parse_rfc3339_ms(msg.get("end"))
    if start is None or end is None:
        problems.add("window: start/end not RFC 3339 UTC with ms",
                     f"{sensor}: {msg.get('start')!r} {msg.get('end')!r}")
        return None
    if start % (WINDOW_S * 1000) != 0:
        problems.add("window: start not aligned to the window", f"{sensor}: {msg['start']}")
    if end - start != WINDOW_S * 1000:
        problems.add("window: end - start is not the window", f"{sensor}: {msg['start']} {msg['end']}")

    samples, coverage = msg.get("samples"), msg.get("coverage")
    if not is_int(samples) or samples < 0:
        problems.add("window: samples missing or not a count", f"{sensor} {msg['start']}: {samples!r}")
    if not is_number(coverage) or not 0 <= coverage <= 1:
        problems.add("window: coverage missing or outside 0-1", f"{sensor} {msg['start']}: {coverage!r}")

    def count_field(key, maximum=None):
        value = msg.get(key)
        if not is_int(value) or value < 0 or (maximum is not None and value > maximum):
            problems.add(f"window: {key} missing or out of range", f"{sensor} {msg['start']}: {value!r}")
            return None
        return value

    if kind == "footfall":
        count = count_field("count")
        if ("in" in msg) != ("out" in msg):
            problems.add("window: footfall has only one of in/out", f"{sensor} {msg['start']}")
        elif "in" in msg:
            inward, outward = count_field("in"), count_field("out")
            if None not in (count, inward, outward) and inward + outward != count:
                problems.add("window: in + out != count",
                             f"{sensor} {msg['start']}: {inward}+{outward} != {count}")
    elif kind == "light":
        count_field("dark_s", WINDOW_S)
        if is_int(samples) and samples > 0:
            lux = [msg.get(k) for k in ("lux_min", "lux_mean", "lux_max")]
            if not all(is_number(v) for v in lux) or not 0 <= lux[0] <= lux[1] <= lux[2]:
                problems.add("window: lux_min <= lux_mean <= lux_max does not hold",
                             f"{sensor} {msg['start']}: {lux}")
    elif kind == "lamp":
        on_s, fault_s = count_field("on_s", WINDOW_S), count_field("fault_s", WINDOW_S)
        if None not in (on_s, fault_s) and on_s + fault_s > WINDOW_S:
            problems.add("window: on_s + fault_s longer than the window",
                         f"{sensor} {msg['start']}: {on_s}+{fault_s}")
    return start


def check_reading(problems, sensor, kind, msg, gateway_id, day):
    check_identity(problems, "reading", msg, sensor, kind, gateway_id)
    ts = parse_rfc3339_ms(msg.get("ts"))
    if ts is None:
        problems.add("reading: ts not RFC 3339 UTC with ms", f"{sensor}: {msg.get('ts')!r}")
    elif not day[0] <= ts < day[1]:
        problems.add("reading: ts outside the simulated day", f"{sensor}: {msg['ts']}")
    if not is_int(msg.get("seq")):
        problems.add("reading: seq missing or not an integer", f"{sensor}: {msg.get('seq')!r}")
    if not is_number(msg.get("value")):
        problems.add("reading: value missing or not a number", f"{sensor}: {msg.get('value')!r}")
    if msg.get("unit") != UNITS[kind]:
        problems.add("reading: wrong unit", f"{sensor}: {msg.get('unit')!r}, expected {UNITS[kind]!r}")
    if "dir" in msg and (kind != "footfall" or msg["dir"] not in ("in", "out")):
        problems.add("reading: bad dir", f"{sensor} ({kind}): {msg['dir']!r}")
    if kind == "lamp" and msg.get("value") not in (0, 1):
        problems.add("reading: lamp value is not 0 or 1", f"{sensor}: {msg.get('value')!r}")
    return ts


def overlap_ms(a0, a1, b0, b1):
    return max(0, min(a1, b1) - max(a0, b0))


def check_readings_against_windows(problems, sensor, kind, keys, readings, windows):
    """The readings of a window must add up to what the window says.  Every
    sample stands for the interval after it (window.h); sampling is aligned
    to the interval, which divides the window, so nothing carries over."""
    wms = WINDOW_S * 1000
    by_window = collections.defaultdict(list)
    for ts, msg in readings:
        by_window[ts - ts % wms].append((ts, msg))

    for start, window in windows.items():
        got = by_window.get(start, [])
        values = [m["value"] for _, m in got if is_number(m.get("value"))]
        label = f"{sensor} {window.get('start')}"
        if kind == "footfall":
            for key, pick in (("count", None), ("in", "in"), ("out", "out")):
                if key not in window:
                    continue
                total = sum(m["value"] for _, m in got
                            if is_number(m.get("value")) and (pick is None or m.get("dir") == pick))
                if total != window[key]:
                    problems.add(f"footfall readings do not add up to the window's {key}",
                                 f"{label}: readings {total}, window {window[key]}")
            continue

        if len(got) != window.get("samples"):
            problems.add(f"{kind}: readings in a window != its samples",
                         f"{label}: {len(got)} readings, samples {window.get('samples')!r}")
            continue
        interval_ms = int(keys["interval"]) * 1000
        if kind == "light":
            if values and (min(values) != window.get("lux_min") or max(values) != window.get("lux_max")):
                problems.add("light: lux_min/lux_max differ from the readings",
                             f"{label}: readings {min(values)!r}..{max(values)!r}, "
                             f"window {window.get('lux_min')!r}..{window.get('lux_max')!r}")
            if values and not (is_number(window.get("lux_mean")) and
                               math.isclose(sum(values) / len(values), window["lux_mean"],
                                            rel_tol=1e-12, abs_tol=1e-12)):
                problems.add("light: lux_mean differs from the mean of the readings",
                             f"{label}: {sum(values) / len(values)!r} vs {window.get('lux_mean')!r}")
            dark_lux = float(keys["dark_lux"])
            dark_ms = sum(overlap_ms(ts, ts + interval_ms, start, start + wms)
                          for ts, m in got if m["value"] < dark_lux)
            if window.get("dark_s") != dark_ms // 1000:
                problems.add("light: dark_s differs from the dark readings",
                             f"{label}: readings give {dark_ms / 1000:g} s, window {window.get('dark_s')!r}")
        elif kind == "lamp":
            on_ms = sum(overlap_ms(ts, ts + interval_ms, start, start + wms)
                        for ts, m in got if m["value"] == 1)
            if window.get("on_s") != on_ms // 1000:
                problems.add("lamp: on_s differs from the readings",
                             f"{label}: readings give {on_ms / 1000:g} s, window {window.get('on_s')!r}")


def check_mqtt(problems, messages, prefix, gateway_id, day, tryggd_version):
    """Returns {sensor: {window start ms: window message}} and figures."""
    base = f"{prefix}/{DISTRICT_SLUG}/{gateway_id}"
    topic_re = re.compile(re.escape(base) + r"/(?:([^/]+)/)?([^/]+)$")
    windows = {name: collections.defaultdict(list) for name in SENSORS}
    readings = {name: [] for name in SENSORS}
    seqs, statuses = [], []
    by_topic = collections.Counter()

    for retained, topic, payload in messages:
        m = topic_re.match(topic)
        if not m:
            problems.add("message on a topic outside PREFIX/D/G", topic)
            continue
        sensor, leaf = m.groups()
        try:
            msg = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            problems.add("payload is not UTF-8 JSON", f"{topic}: {payload[:120]!r}")
            continue
        if not isinstance(msg, dict):
            problems.add("payload is not a JSON object", f"{topic}: {payload[:120]!r}")
            continue
        by_topic[leaf] += 1
        if sensor is None:
            if leaf == "status":
                statuses.append((retained, msg))
            continue
        if sensor not in SENSORS:
            problems.add("message for a sensor not in the config", topic)
            continue
        kind, keys = SENSORS[sensor]
        if leaf == "window":
            if retained:
                problems.add("window message retained", topic)
            start = check_window_message(problems, sensor, kind, msg, gateway_id)
            if start is not None:
                windows[sensor][start].append(msg)
        elif leaf == "reading":
            if retained:
                problems.add("reading message retained", topic)
            ts = check_reading(problems, sensor, kind, msg, gateway_id, day)
            if is_int(msg.get("seq")):
                seqs.append(msg["seq"])
            if ts is not None:
                readings[sensor].append((ts, msg))

    # Status: retained, online, with version and time.
    online = [msg for retained, msg in statuses if msg.get("state") == "online"]
    if not online:
        problems.add("no online status message", f"statuses seen: {[m for _, m in statuses]}")
    for retained, msg in statuses:
        if not retained:
            problems.add("status message not retained", json.dumps(msg))
    for msg in online:
        version = msg.get("version")
        if not isinstance(version, str) or not version or version not in tryggd_version:
            problems.add("online status without the version tryggd --version prints",
                         f"{version!r} vs {tryggd_version!r}")
        if parse_rfc3339_ms(msg.get("ts")) is None:
            problems.add("online status without an RFC 3339 ts", repr(msg.get("ts")))

    # Readings: one sequence per gateway, +1 each, no gap, in arrival order.
    if not seqs:
        problems.add("no reading messages")
    for previous, current in zip(seqs, seqs[1:]):
        if current != previous + 1:
            problems.add("reading seq does not rise by exactly 1", f"{previous} then {current}")

    # Windows: every window of the day exactly once per sensor.
    expected = set(range(day[0], day[1], WINDOW_S * 1000))
    by_start = {}
    for sensor, starts in windows.items():
        missing = sorted(expected - starts.keys())
        extra = sorted(starts.keys() - expected)
        twice = sorted(s for s, msgs in starts.items() if len(msgs) > 1)
        if missing:
            problems.add(f"{sensor}: windows missing on MQTT",
                         f"{len(missing)} of {len(expected)}, first at {iso(missing[0])}")
        if extra:
            problems.add(f"{sensor}: windows outside the day on MQTT", f"{len(extra)}, first {iso(extra[0])}")
        if twice:
            problems.add(f"{sensor}: windows published more than once", f"{len(twice)}, first {iso(twice[0])}")
        by_start[sensor] = {start: msgs[0] for start, msgs in starts.items()}
        for start, msg in by_start[sensor].items():
            # The simulated day is all inside [start, end): a sensor that
            # samples from the first instant covers every window completely.
            if start in expected and msg.get("coverage") != 1:
                problems.add(f"{sensor}: coverage of a full window is not 1",
                             f"{iso(start)}: {msg.get('coverage')!r}")
        kind, keys = SENSORS[sensor]
        check_readings_against_windows(problems, sensor, kind, keys, readings[sensor], by_start[sensor])

    figures = {"by_topic": by_topic,
               "readings_by_sensor": {s: len(r) for s, r in readings.items()},
               "statuses": [m for _, m in statuses]}
    return by_start, figures


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


# ---------------------------------------------------------------- store checks

def check_store(problems, servers, info, gateway_id, mqtt_windows):
    points = collections.Counter()
    for kind in sorted({k for k, _ in SENSORS.values()}):
        measurement = servers.quote_ident(kind)
        tag_keys = {row["tagKey"] for s in servers.influx_series(info, f"SHOW TAG KEYS FROM {measurement}")
                    for row in s["rows"]}
        field_types = {row["fieldKey"]: row["fieldType"]
                       for s in servers.influx_series(info, f"SHOW FIELD KEYS FROM {measurement}")
                       for row in s["rows"]}
        if not TAG_KEYS <= tag_keys:
            problems.add(f"{kind}: tags missing in the store", f"have {sorted(tag_keys)}")
        for field, kind_of in field_types.items():
            want = "integer" if field in INTEGER_FIELDS else "float" if field in FLOAT_FIELDS else None
            if want and kind_of != want:
                problems.add(f"{kind}: field of the wrong type", f"{field} is {kind_of}, CONTRACT says {want}")

        q = (f"SELECT * FROM {measurement} WHERE "
             f"\"gateway\" = {servers.quote_string(gateway_id)}")
        rows = [row for s in servers.influx_series(info, q, epoch="s") for row in s["rows"]]
        seen = collections.Counter()
        for row in rows:
            tags = {k: row.get(k) for k in tag_keys}
            fields = {k: v for k, v in row.items() if k != "time" and k not in tag_keys and v is not None}
            sensor = tags.get("sensor")
            label = f"{kind} {sensor} {iso(row['time'] * 1000) if is_int(row.get('time')) else row.get('time')}"
            for key, want in (("district", DISTRICT), ("site", SITE), ("gateway", gateway_id)):
                if tags.get(key) != want:
                    # Compare the UTF-8 bytes: that is what "exactly the same
                    # string" means for a tag.
                    problems.add(f"store: tag '{key}' not byte for byte as configured",
                                 f"{label}: {str(tags.get(key)).encode()!r} vs {want.encode()!r}")
            if sensor not in SENSORS or SENSORS[sensor][0] != kind:
                problems.add("store: point for a sensor not in the config", label)
                continue
            start_ms = row["time"] * 1000
            seen[(sensor, start_ms)] += 1
            window = mqtt_windows.get(sensor, {}).get(start_ms)
            if window is None:
                problems.add("store: point without a window message", label)
                continue
            mqtt_fields = {k: v for k, v in window.items() if k not in IDENTITY_KEYS}
            # The store has every field of the window message (window_fields()
            # writes both), and no other.
            required = set(mqtt_fields)
            if not required <= fields.keys():
                problems.add("store: point lacks fields the window message has",
                             f"{label}: missing {sorted(required - fields.keys())}")
            for key, value in fields.items():
                # Both sides are JSON numbers printed to round-trip a double:
                # equal means bit for bit the same value.
                if key not in mqtt_fields:
                    problems.add("store: field the window message does not have", f"{label}: {key}")
                elif not is_number(value) or value != mqtt_fields[key]:
                    problems.add("store: value differs from the window message",
                                 f"{label} {key}: store {value!r}, mqtt {mqtt_fields[key]!r}")
            if fields.get("coverage") != 1:
                problems.add("store: coverage of a full window is not 1", f"{label}: {fields.get('coverage')!r}")
        points[kind] = len(rows)

        for sensor, (sensor_kind, _) in SENSORS.items():
            if sensor_kind != kind:
                continue
            expected = set(mqtt_windows.get(sensor, {}))
            stored = {start for (s, start) in seen if s == sensor}
            missing = sorted(expected - stored)
            if missing:
                problems.add(f"store: {sensor}: windows missing",
                             f"{len(missing)} of {len(expected)}, first {iso(missing[0])}")
            twice = sorted(start for (s, start), n in seen.items() if s == sensor and n > 1)
            if twice:
                problems.add(f"store: {sensor}: window stored more than once",
                             f"{len(twice)}, first {iso(twice[0])}")
    return points


# ---------------------------------------------------------------- main

def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    token = uuid.uuid4().hex[:10]
    gateway_id = f"e2e-{token}"
    prefix = f"tryggtest-{token}"
    work = os.path.join(os.path.dirname(servers_dir), f"end_to_end-{token}")
    os.makedirs(work)
    config = os.path.join(work, "tryggd.conf")
    write_config(config, work, source, info, gateway_id, prefix)
    day = (parse_iso(DAY_START), parse_iso(DAY_END))
    print(f"gateway {gateway_id}, topics {prefix}/{DISTRICT_SLUG}/{gateway_id}/..., work dir {work}")

    version = subprocess.run([tryggd, "--version"], capture_output=True, text=True, timeout=10)
    tryggd_version = version.stdout + version.stderr

    sub_out = os.path.join(work, "subscription.txt")
    subscriber = start_subscriber(servers, info, prefix, sub_out)
    try:
        log_path = os.path.join(work, "tryggd.log")
        t0 = time.monotonic()
        with open(log_path, "wb") as log:
            try:
                run = subprocess.run([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, timeout=TRYGGD_TIMEOUT_S)
                status = run.returncode
            except subprocess.TimeoutExpired:
                status = None
        wall = time.monotonic() - t0
        if status != 0:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                tail = "".join(f.readlines()[-30:])
            what = (f"did not finish within {TRYGGD_TIMEOUT_S} s" if status is None
                    else f"was killed by signal {-status}" if status < 0 else f"exited with {status}")
            sys.exit(f"FAIL: tryggd {what} (expected exit 0); {log_path}:\n{tail}")
        wait_for_marker(servers, info, subscriber, sub_out, f"{prefix}/_test/end", "end",
                        SUBSCRIBER_TIMEOUT_S)
    finally:
        stop_process(subscriber)

    problems = Problems()
    messages = read_messages(sub_out, prefix, problems)
    mqtt_windows, figures = check_mqtt(problems, messages, prefix, gateway_id, day, tryggd_version)
    points = check_store(problems, servers, info, gateway_id, mqtt_windows)

    # The retained status a newcomer gets after the run (the will or a last
    # online/offline): shown, it is not part of the day's checks.
    retained = subprocess.run(
        [servers.find_program("mosquitto_sub"), *mqtt_args(info), "-C", "1", "-W", "3", "-F", "%r %p",
         "-t", f"{prefix}/{DISTRICT_SLUG}/{gateway_id}/status"], capture_output=True, text=True)

    windows_per_day = (day[1] - day[0]) // (WINDOW_S * 1000)
    print(f"tryggd: one simulated day in {wall:.1f} s wall time "
          f"({len(SENSORS)} sensors, {WINDOW_S} s windows, {windows_per_day} windows a sensor)")
    by_topic = figures["by_topic"]
    print(f"mqtt:   {len(messages)} messages: {by_topic['reading']} readings "
          f"({', '.join(f'{s} {n}' for s, n in figures['readings_by_sensor'].items())}), "
          f"{by_topic['window']} windows, {by_topic['status']} status, "
          f"{sum(n for k, n in by_topic.items() if k not in ('reading', 'window', 'status'))} other "
          f"({', '.join(f'{k} {n}' for k, n in by_topic.items() if k not in ('reading', 'window', 'status')) or 'none'})")
    print(f"store:  {sum(points.values())} points ({', '.join(f'{k} {n}' for k, n in sorted(points.items()))})")
    print(f"status: live {figures['statuses']}; retained now: {retained.stdout.strip() or '(none)'}")

    if problems:
        problems.report()
        print(f"work dir kept: {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("OK: every window once on MQTT and in the store, with the same values")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
