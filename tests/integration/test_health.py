#!/usr/bin/env python3
"""The gateway's own figures: the health topic, the `gateway` measurement
and the retained status said again, through a real broker and store.

    test_health.py TRYGGD SOURCE_DIR SERVERS_DIR

Half an hour of a simulated clock at speed 120 (about 15 s), with
health_interval = 2min and status_interval = 5min, and three sim sensors,
the light sensor reading garbage (-5, 1e9 and NaN lx) from 06:10 for
2 min.  An independent MQTT 5 subscriber (retain flag as published) and
the store must show:

  health   not retained; exactly at the virtual times start + 2 min x k
           inside the run, then once more at the end, after everything was
           delivered; the gateway's identity and exactly the fields of the
           gateway point, all integers; uptime_s = virtual seconds since
           the start; readings and published rising; the last one with
           buffered 0, spooled 0, published = the messages the broker got
           through the buffer before it, sent = the points in the store,
           problems = the active problems the alert topics show.
  store    one `gateway` point per window (window start, tags district,
           gateway and site byte for byte, no sensor tag), integer fields,
           the same field set as the health messages, uptime_s = the
           window's end since the start, window_s = the configured window.
  status   retained, online on connect and again at start + 5 min x k
           inside the run; offline last.
  garbage  implausible 0 until 06:10, then 5 (the samples at 06:10:00,
           :10, :25, :50 and 06:11:35, as the backoff doubles) in the last
           health and the last gateway point, never falling; no light
           reading or window outside 0-200000 lx; `failed` raised at 06:10
           saying what was read, and cleared after 06:12.

Exit 0 when everything holds, 1 with the list of what did not; the working
directory is kept on failure and printed.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

# Beside this file.
import capture
from capture import (
    Problems, is_int, load_servers, parse_iso, parse_rfc3339_ms, read_messages, start_subscriber, stop_process,
    wait_for_marker)

START = "2026-11-02T06:00:00Z"
END = "2026-11-02T06:30:00Z"
SPEED = 120
WINDOW_S = 60
HEALTH_S = 120
STATUS_S = 300
DISTRICT = "Årby"
DISTRICT_SLUG = "arby"
SITE = "Torget 3, ingång=öst"
GARBAGE_FROM, GARBAGE_TO = "2026-11-02T06:10:00Z", "2026-11-02T06:12:00Z"
GARBAGE_READS = 5
SENSORS = {
    "sky": ("light", {"interval": "5", "seed": "21", "inject": f"garbage@{GARBAGE_FROM}/2min"}),
    "lamp-1": ("lamp", {"interval": "10", "light": "sky", "seed": "22"}),
    "door": ("footfall", {"seed": "23"}),
}
# health_fields() in gateway/health.c, in its order.
HEALTH_FIELDS = ["readings", "published", "buffered", "dropped", "lost", "reconnects", "spooled", "sent",
                 "spool_dropped", "rejected", "missing", "problems", "unstamped_windows", "implausible",
                 "uptime_s", "window_s", "memory"]
IDENTITY = {"ts", "gateway", "district", "site"}
TRYGGD_TIMEOUT_S = 120
def iso(ms):
    return time.strftime("%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}"


def write_config(path, work, source, info, gateway_id, prefix):
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", f"district = {DISTRICT}", f"site = {SITE}", f"window = {WINDOW_S}",
                     f"state_dir = {os.path.join(work, 'state')}"]),
        ("simulation", [f"start = {START}", f"end = {END}", f"speed = {SPEED}",
                        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}"]),
        ("mqtt", [f"uri = {info['mqtt_uri']}", f"topic_prefix = {prefix}", "qos = 1",
                  f"health_interval = {HEALTH_S // 60}min", f"status_interval = {STATUS_S}s"]),
        ("influx", [f"url = {info['influx_url']}", f"database = {info['database']}"]),
        *capture.sim_sensors(SENSORS),
    ], comment="Written by tests/integration/test_health.py")

def check_health(p, messages, base, start, end):
    """Returns the health messages in arrival order."""
    health, before_final = [], None
    for index, (retained, topic, payload) in enumerate(messages):
        if topic != f"{base}/health":
            continue
        if retained:
            p.expect(False, "health not retained", topic)
        health.append(json.loads(payload))
        before_final = index
    if not p.expect(len(health) >= 2, "health messages arrived", f"{len(health)}"):
        return health, before_final

    periodic, final = health[:-1], health[-1]
    times = [parse_rfc3339_ms(m.get("ts")) for m in health]
    expected = list(range(start + HEALTH_S * 1000, end, HEALTH_S * 1000)) + [end]
    p.expect(times == expected, f"health at start + {HEALTH_S // 60} min x k inside the run, then at the end "
             f"({len(expected)} messages)", f"got {[iso(t) if t else t for t in times]}")
    identity = {"gateway": base.rsplit("/", 1)[1], "district": DISTRICT, "site": SITE}
    for m in health:
        if {k: m.get(k) for k in identity} != identity:
            p.expect(False, "health carries the gateway's identity", f"{ {k: m.get(k) for k in identity} }")
            break
        if list(m) != ["ts", "gateway", "district", "site", *HEALTH_FIELDS]:
            p.expect(False, "health has exactly ts, identity and the gateway fields, in order", f"{list(m)}")
            break
        if not all(is_int(m[k]) and m[k] >= 0 for k in HEALTH_FIELDS):
            p.expect(False, "health fields are counts", json.dumps(m))
            break
    p.expect(all(parse_rfc3339_ms(m["ts"]) - start == m["uptime_s"] * 1000 for m in health),
             "uptime_s = virtual seconds since the start", f"{[m['uptime_s'] for m in health]}")
    p.expect(all(m["window_s"] == WINDOW_S for m in health), f"window_s = {WINDOW_S}, the configured window",
             f"{sorted({m['window_s'] for m in health})}")
    for key in ("readings", "published", "uptime_s"):
        values = [m[key] for m in periodic]
        p.expect(all(a < b for a, b in zip(values, values[1:])), f"health {key} rises", f"{values}")
    sent = [m["sent"] for m in health]
    p.expect(all(a <= b for a, b in zip(sent, sent[1:])) and sent[-1] > 0, "health sent never falls",
             f"{sent}")
    memory = [m["memory"] for m in health]
    p.expect(all(1 << 20 < v < 1 << 30 for v in memory), "memory between 1 MiB and 1 GiB", f"{memory}")
    p.expect(final["buffered"] == 0 and final["spooled"] == 0,
             "the last health, once everything was delivered: buffered 0, spooled 0",
             f"buffered {final['buffered']}, spooled {final['spooled']}")
    p.expect(all(m[k] == 0 for m in health for k in ("dropped", "lost", "reconnects", "spool_dropped", "rejected", "missing")),
             "nothing dropped or lost, no reconnect", json.dumps(final))
    return health, before_final


def check_garbage(p, messages, base, health, rows):
    """The light sensor's garbage: counted, said, never forwarded."""
    start, end = parse_iso(GARBAGE_FROM), parse_iso(GARBAGE_TO)
    figures = [(parse_rfc3339_ms(m["ts"]), m.get("implausible")) for m in health]
    p.expect(all(n == 0 for t, n in figures if t <= start), "health implausible 0 until the garbage",
             f"{figures}")
    p.expect(all(a <= b for (_, a), (_, b) in zip(figures, figures[1:])), "health implausible never falls",
             f"{figures}")
    p.expect(bool(figures) and figures[-1][1] == GARBAGE_READS,
             f"last health: implausible = {GARBAGE_READS}, the garbage samples read", f"{figures[-1:]}")
    points = sorted((r["time"], r.get("implausible")) for r in rows)
    p.expect(all(n == 0 for t, n in points if t + WINDOW_S * 1000 < start),
             "gateway points implausible 0 for windows closed before the garbage", f"{points}")
    p.expect(bool(points) and points[-1][1] == GARBAGE_READS,
             f"last gateway point: implausible = {GARBAGE_READS}", f"{points[-1:]}")

    sky = f"{base}/sky/"
    values = [json.loads(payload).get("value") for _, topic, payload in messages if topic == sky + "reading"]
    wrong = [v for v in values if not isinstance(v, (int, float)) or not 0 <= v <= 200000]
    p.expect(bool(values) and not wrong, "no light reading out of 0-200000 lx (garbage never published)",
             f"{wrong[:5]}")
    windows = [json.loads(payload) for _, topic, payload in messages if topic == sky + "window"]
    wrong = [w for w in windows if w.get("samples") and not 0 <= w["lux_min"] <= w["lux_max"] <= 200000]
    p.expect(bool(windows) and not wrong, "every light window within 0-200000 lx", f"{wrong[:2]}")
    hit = [w["start"] for w in windows if start <= parse_rfc3339_ms(w["start"]) < end and w["coverage"] < 1]
    p.expect(len(hit) == 2, "the two light windows of the garbage are not fully covered", f"{hit}")

    alerts = [json.loads(payload) for _, topic, payload in messages if topic == sky + "alert"]
    raised = [a for a in alerts if a.get("state") == "failed"]
    p.expect(len(raised) == 1 and parse_rfc3339_ms(raised[0].get("since")) == start and
             raised[0].get("detail") == "read -5 lx, which no working light sensor reads",
             "sky: failed raised once at the garbage's start, saying what it read", f"{raised}")
    cleared = [a for a in alerts[alerts.index(raised[0]) + 1:] if a.get("state") == "ok"] if raised else []
    p.expect(bool(cleared) and parse_rfc3339_ms(cleared[0]["ts"]) > end, "sky: failed cleared after the garbage",
             f"{cleared[:1]}")


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    token = uuid.uuid4().hex[:10]
    gateway_id = f"health-{token}"
    prefix = f"tryggtest-{token}"
    base = f"{prefix}/{DISTRICT_SLUG}/{gateway_id}"
    work = os.path.join(os.path.dirname(servers_dir), f"health-{token}")
    os.makedirs(work)
    config = os.path.join(work, "tryggd.conf")
    write_config(config, work, source, info, gateway_id, prefix)
    start, end = parse_iso(START), parse_iso(END)
    print(f"gateway {gateway_id}, topics {base}/..., work dir {work}")

    sub_out = os.path.join(work, "subscription.txt")
    subscriber = start_subscriber(servers, info, prefix, sub_out)
    log_path = os.path.join(work, "tryggd.log")
    try:
        t0 = time.monotonic()
        with open(log_path, "wb") as log:
            try:
                status = subprocess.run([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, timeout=TRYGGD_TIMEOUT_S).returncode
            except subprocess.TimeoutExpired:
                status = None
        wall = time.monotonic() - t0
        if status != 0:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                tail = "".join(f.readlines()[-30:])
            sys.exit(f"FAIL: tryggd exited {status} (expected 0); {log_path}:\n{tail}")
        wait_for_marker(servers, info, subscriber, sub_out, f"{prefix}/_test/end", "end", 30)
    finally:
        stop_process(subscriber)
    print(f"tryggd: {(end - start) // 60000} virtual minutes in {wall:.1f} s")

    p = Problems()

    class Unparsed:
        def add(self, what, detail=""):
            p.expect(False, what, detail)

    messages = [m for m in read_messages(sub_out, prefix, Unparsed()) if m[1].startswith(base + "/")]

    # ---- health
    health, final_index = check_health(p, messages, base, start, end)

    # ---- status: retained, online on connect and every STATUS_S, offline last
    statuses = [(retained, json.loads(payload)) for retained, topic, payload in messages
                if topic == f"{base}/status"]
    p.expect(all(retained for retained, _ in statuses), "every status retained")
    online = [parse_rfc3339_ms(m.get("ts")) for _, m in statuses if m.get("state") == "online"]
    periodic = list(range(start + STATUS_S * 1000, end, STATUS_S * 1000))
    p.expect(len(online) == 1 + len(periodic) and online[1:] == periodic,
             f"online on connect, then at start + {STATUS_S // 60} min x k ({1 + len(periodic)} in all)",
             f"got {[iso(t) if t else t for t in online]}")
    p.expect(bool(statuses) and statuses[-1][1] == {"state": "offline"}, "offline last",
             f"{statuses[-1][1] if statuses else None}")

    # ---- the last health against what the broker and the store got
    if health and final_index is not None:
        final = health[-1]
        before = messages[:final_index]
        leaves = [topic.rsplit("/", 1)[1] for _, topic, _ in before]
        alerts = leaves.count("alert")
        # Through the buffer: readings, windows, health, and alerts but the
        # one per sensor said on connect (straight to the broker, as the
        # statuses are).
        through_buffer = (leaves.count("reading") + leaves.count("window") + leaves.count("health") +
                          alerts - len(SENSORS))
        p.expect(final["published"] == through_buffer,
                 "last health: published = messages through the buffer before it",
                 f"{final['published']} vs {through_buffer}")
        # A sample is a reading whether or not it is published (a sim
        # footfall sensor publishes only samples that counted someone).
        samples = sum(json.loads(payload)["samples"] for _, topic, payload in before if topic.endswith("/window"))
        p.expect(final["readings"] == samples, "last health: readings = the samples of every window",
                 f"{final['readings']} vs {samples}")
        shown = {}
        for _, topic, payload in before:
            if topic.endswith("/alert"):
                m = json.loads(payload)
                shown[topic] = 0 if m.get("state") == "ok" else len(m.get("problems", []))
        p.expect(final["problems"] == sum(shown.values()), "last health: problems = what the alerts show",
                 f"{final['problems']} vs {shown}")

    # ---- the store
    where = f'"gateway" = {servers.quote_string(gateway_id)}'
    tag_keys = {row["tagKey"] for s in servers.influx_series(info, 'SHOW TAG KEYS FROM "gateway"')
                for row in s["rows"]}
    field_types = {row["fieldKey"]: row["fieldType"]
                   for s in servers.influx_series(info, 'SHOW FIELD KEYS FROM "gateway"') for row in s["rows"]}
    p.expect(tag_keys == {"district", "gateway", "site"}, "gateway points: tags district, gateway, site",
             f"{sorted(tag_keys)}")
    p.expect(field_types == {k: "integer" for k in HEALTH_FIELDS}, "gateway points: the health fields, integers",
             f"{field_types}")
    rows = [row for s in servers.influx_series(info, f'SELECT * FROM "gateway" WHERE {where}', epoch="ms")
            for row in s["rows"]]
    windows = list(range(start, end, WINDOW_S * 1000))
    p.expect(sorted(r["time"] for r in rows) == windows, f"one gateway point per window ({len(windows)})",
             f"{len(rows)} points, {[iso(r['time']) for r in rows[:3]]}...")
    for row in rows:
        tags = {k: row.get(k) for k in ("district", "gateway", "site")}
        fields = {k: v for k, v in row.items() if k not in tag_keys and k != "time" and v is not None}
        if tags != {"district": DISTRICT, "gateway": gateway_id, "site": SITE}:
            p.expect(False, "gateway point tags byte for byte as configured", f"{tags}")
            break
        if set(fields) != set(health[0] if health else {}) - IDENTITY:
            p.expect(False, "gateway point has the health message's fields", f"{sorted(fields)}")
            break
        if fields["window_s"] != WINDOW_S:
            p.expect(False, f"gateway point window_s = {WINDOW_S}", f"{iso(row['time'])}: {fields['window_s']}")
            break
        if fields["uptime_s"] * 1000 != row["time"] + WINDOW_S * 1000 - start:
            p.expect(False, "gateway point uptime_s = the window's end since the start",
                     f"{iso(row['time'])}: {fields['uptime_s']}")
            break
    check_garbage(p, messages, base, health, rows)
    readings = [r["readings"] for r in sorted(rows, key=lambda r: r["time"])]
    p.expect(all(a < b for a, b in zip(readings, readings[1:])), "gateway point readings rise",
             f"{readings}")
    stored = len(rows) + sum(
        s["rows"][0]["count"] for m in ("footfall", "light", "lamp")
        for s in servers.influx_series(info, f'SELECT count("samples") FROM "{m}" WHERE {where}'))
    # A sensor problem raised or cleared is a point too (measurement alert).
    stored += sum(s["rows"][0]["count"]
                  for s in servers.influx_series(info, f'SELECT count("active") FROM "alert" WHERE {where}'))
    if health:
        p.expect(health[-1]["sent"] == stored, "last health: sent = the points in the store",
                 f"{health[-1]['sent']} vs {stored}")

    # ---- figures
    if health:
        first, last = health[0], health[-1]
        print(f"health: {len(health)} messages; first at {iso(parse_rfc3339_ms(first['ts']))}: {json.dumps(first)}")
        print(f"        last at {iso(parse_rfc3339_ms(last['ts']))}: {json.dumps(last)}")
    if rows:
        row = sorted(rows, key=lambda r: r["time"])[-1]
        print(f"store:  {len(rows)} gateway points; last at {iso(row['time'])}: "
              f"{ {k: row[k] for k in HEALTH_FIELDS} }")
    print(f"status: {len(statuses)} retained ({len(online)} online, at "
          f"{', '.join(iso(t) for t in online if t)}), last {statuses[-1][1] if statuses else None}")

    if p.items:
        print(f"FAIL: {len(p.items)} problem(s); work dir kept: {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("OK: health at its virtual times, one gateway point per window with the same fields, "
          "status said again")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
