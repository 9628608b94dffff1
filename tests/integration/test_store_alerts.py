#!/usr/bin/env python3
"""Sensor problems in the store (measurement `alert`) and the window length
on the gateway's points (`window_s`), through a real broker and both real
stores.

    test_store_alerts.py TRYGGD SOURCE_DIR SERVERS_DIR

One virtual day (2026-11-03, UTC) at speed 0, window = 300 s, a light
sensor and a footfall sensor, both sim, with faults injected
(drivers/sim_inject.h); no lamp, whose sim has faults of its own by chance
(lamp_fault_per_night), so that every problem raised is one injected:

  ljus     failed   10:00 for 20 min   raised at once, cleared when a retry
                                       after 10:20 reads (backoff up to 5 min)
  passage  blocked  15:00 for 40 min   held from the first sample at 15:00,
                                       raised after blocked_after (30 s),
                                       cleared at the first sample after 15:40
  passage  failed   23:30 for 2 h      still active when the day ends: the
                                       stop writes nothing for it

The site has a comma, quotes, '=', spaces, '#', '+' and '/'.  The same day
runs twice, each with a gateway id of its own: into the fixture's influxd
(api = v1) and into its VictoriaMetrics (api = victoriametrics).  Then:

  influxd   SHOW FIELD KEYS FROM alert: active boolean, detail string.
            SELECT active, detail FROM alert ... GROUP BY *: exactly three
            series (sensor and problem as above; district, gateway and site
            byte for byte): for each fault one raise (active true) stamped
            with the problem's since, within the detection delay of the
            injected start (the first sample at or after it), and, but for
            the one still active, one clear (active false) after the
            injected end and within its delay; the raise's since and detail
            as the retained MQTT alert said them, the clear's detail the
            raise's.  Nothing else: no raise again, no clear at the stop.
            Every gateway point (one per window, 288) has window_s = 300,
            as has every health message; the last health message's `sent`
            counts the alert points with the others.
  Victoria  alert_active series for the same three, with the same labels,
            1 at the raise and 0 at the clear, at the same timestamps as in
            influxd; no alert_detail series (VictoriaMetrics keeps no text,
            so tryggd leaves it out); gateway_window_s 300 on every window;
            the read-back found every point it sampled.

And a reload in real time (a few seconds, [gateway] clock = trusted: the
test machine's clock need not be synchronised), into influxd: sensors `b`
(footfall, sim), `d` (footfall, sim, its beam held from an hour ago for
three hours, blocked_after = 2s) and `a` (light, sim, failed from an hour
ago for three hours); once `a` has failed and `d` is blocked, SIGHUP with
`b` as it was, `d` with blocked_after = 0 (the rule off: the reload clears
blocked while `b` has already moved to the new configuration), `a` gone and
`c` added, an iio light sensor whose device is not there, which fails as it
opens; then SIGTERM:

  reload    tryggd exits 0 (a sensor failing as a reload opens it once
            crashed it, with MQTT on); `a` failed: a raise, then a clear at
            the reload; `d` blocked: a raise at its since, a clear at the
            reload; `c` failed: a raise at the reload, no clear at the
            stop; nothing for `b`; c's retained alert says failed, d's ok.

Exit 0 when everything holds, 1 with the list of what did not; the working
directory is kept on failure and printed.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid

# Beside this file.
import capture
from capture import Problems, load_servers, parse_iso, parse_rfc3339_ms, read_messages, start_subscriber, \
    stop_process, wait_for_marker

START = "2026-11-03T00:00:00Z"
END = "2026-11-04T00:00:00Z"
WINDOW_S = 300
DISTRICT = "Fröslunda"
SITE = 'Skolvägen 2, "norr"=öst #1 +/'
INTERVAL_S = 10
SENSORS = {
    "ljus": ("light", {"interval": INTERVAL_S, "seed": 31, "profile": "Fröslunda",
                       "inject": "failed@2026-11-03T10:00:00Z/20min"}),
    "passage": ("footfall", {"interval": INTERVAL_S, "seed": 31, "profile": "Fröslunda",
                             "inject": "blocked@2026-11-03T15:00:00Z/40min, failed@2026-11-03T23:30:00Z/2h"}),
}
# (sensor, problem) -> (injected start, end, how late after the end the clear may come), all ms.
# A failed sensor is opened again with backoff from its interval, doubling,
# at most 5 minutes (gateway/sensor.c): its clear can come that late.
BACKOFF_MAX_MS = 300_000
EXPECTED = {
    ("ljus", "failed"): (parse_iso("2026-11-03T10:00:00Z"), parse_iso("2026-11-03T10:20:00Z"),
                         BACKOFF_MAX_MS + INTERVAL_S * 1000),
    ("passage", "blocked"): (parse_iso("2026-11-03T15:00:00Z"), parse_iso("2026-11-03T15:40:00Z"),
                             INTERVAL_S * 1000),
    ("passage", "failed"): (parse_iso("2026-11-03T23:30:00Z"), None, None),
}
# The problem's since is the first sample at or after the injected start.
DETECTION_MS = INTERVAL_S * 1000
TRYGGD_TIMEOUT_S = 240
STORES = [("influxd", "v1"), ("victoria-metrics", "victoriametrics")]


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def write_config(path, work, source, info, gateway_id, prefix, api):
    url = info["influx_url"] if api == "v1" else info["victoria_url"]
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", f"district = {DISTRICT}", f"site = {SITE}", f"window = {WINDOW_S}",
                     f"state_dir = {os.path.join(work, 'state')}"]),
        ("simulation", [f"start = {START}", f"end = {END}", "speed = 0", "drain_timeout = 60",
                        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}"]),
        ("mqtt", [f"uri = {info['mqtt_uri']}", f"topic_prefix = {prefix}", "qos = 1", "publish_readings = no",
                  "health_interval = 1h"]),
        ("influx", [f"url = {url}", f"api = {api}", f"database = {info['database']}"]),
        *capture.sim_sensors(SENSORS),
    ], comment="Written by tests/integration/test_store_alerts.py")


def run(tryggd, source, servers, info, work, api):
    """One day into one store; (gateway id, MQTT messages of the run, log path)."""
    token = uuid.uuid4().hex[:10]
    gateway_id = f"alerts-{api[:2]}-{token}"
    prefix = f"tryggtest-{token}"
    os.makedirs(os.path.join(work, gateway_id))
    folder = os.path.join(work, gateway_id)
    config = os.path.join(folder, "tryggd.conf")
    write_config(config, folder, source, info, gateway_id, prefix, api)
    sub_out = os.path.join(folder, "subscription.txt")
    subscriber = start_subscriber(servers, info, prefix, sub_out)
    log_path = os.path.join(folder, "tryggd.log")
    try:
        t0 = time.monotonic()
        with open(log_path, "wb") as log:
            try:
                status = subprocess.run([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, timeout=TRYGGD_TIMEOUT_S,
                                        env=tryggd_env()).returncode
            except subprocess.TimeoutExpired:
                status = None
        wall = time.monotonic() - t0
        if status != 0:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                tail = "".join(f.readlines()[-30:])
            sys.exit(f"FAIL: tryggd ({api}) exited {status} (expected 0); {log_path}:\n{tail}")
        wait_for_marker(servers, info, subscriber, sub_out, f"{prefix}/_test/end", "end", 30)
    finally:
        stop_process(subscriber)
    print(f"{api}: gateway {gateway_id}, a virtual day in {wall:.1f} s; files in {folder}")
    problems = Problems()
    messages = read_messages(sub_out, prefix, problems)
    if problems.items:
        sys.exit(f"FAIL: subscriber output: {problems.items[:3]}")
    return gateway_id, messages, log_path


def tryggd_env():
    return {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "TRYGGD_DEBUG")}


def mqtt_raises(messages):
    """{(sensor, problem): [(since ms, detail)]} from the retained alert
    messages, each time the problem shown changed to one with a new since."""
    raises, last = {}, {}
    for _, topic, payload in messages:
        if not topic.endswith("/alert") or not payload:
            continue
        sensor = topic.split("/")[-2]
        m = json.loads(payload)
        if m.get("state") in (None, "ok"):
            last[sensor] = None
            continue
        key = (sensor, m["state"])
        since = parse_rfc3339_ms(m.get("since"))
        if last.get(sensor) != (key, since):
            raises.setdefault(key, []).append((since, m.get("detail")))
        last[sensor] = (key, since)
    return raises


def health_messages(messages):
    return [json.loads(payload) for _, topic, payload in messages if topic.endswith("/health")]


def check_episodes(p, label, episodes, raises_mqtt):
    """episodes: {(sensor, problem): [(time ms, active bool, detail or None)]} in time order."""
    p.expect(set(episodes) == set(EXPECTED), f"{label}: alert series exactly {sorted(EXPECTED)}",
             f"{sorted(episodes)}")
    for key, (start, end, slack) in EXPECTED.items():
        points = episodes.get(key, [])
        name = f"{label}: {key[0]} {key[1]}"
        wanted = [True] if end is None else [True, False]
        if not p.expect([a for _, a, _ in points] == wanted,
                        f"{name}: {'one raise, no clear (still active at the stop)' if end is None else 'one raise, then one clear'}",
                        f"{[(iso(t), a) for t, a, _ in points]}"):
            continue
        raised = points[0][0]
        p.expect(start <= raised <= start + DETECTION_MS, f"{name}: raised at the injected start "
                 f"(within {DETECTION_MS // 1000} s)", f"{iso(raised)} for {iso(start)}")
        mqtt = raises_mqtt.get(key, [])
        if p.expect(len(mqtt) == 1, f"{name}: the retained alert said it once", f"{mqtt}"):
            since, detail = mqtt[0]
            p.expect(raised == since // 1000 * 1000, f"{name}: stamped with the since the alert topic says",
                     f"{iso(raised)} vs {iso(since)}")
            if points[0][2] is not None:
                p.expect(points[0][2] == detail, f"{name}: the raise's detail is the alert topic's",
                         f"{points[0][2]!r} vs {detail!r}")
        if end is not None:
            cleared = points[1][0]
            p.expect(end <= cleared <= end + slack, f"{name}: cleared after the injected end "
                     f"(within {slack // 1000} s)", f"{iso(cleared)} for {iso(end)}")
            p.expect(points[1][2] == points[0][2], f"{name}: the clear's detail is the raise's",
                     f"{points[1][2]!r} vs {points[0][2]!r}")


def check_influxd(p, servers, info, gateway_id, messages):
    where = f'"gateway" = {servers.quote_string(gateway_id)}'
    fields = {row["fieldKey"]: row["fieldType"]
              for s in servers.influx_series(info, 'SHOW FIELD KEYS FROM "alert"') for row in s["rows"]}
    p.expect(fields == {"active": "boolean", "detail": "string"}, "influxd: alert fields active (boolean), "
             "detail (string)", f"{fields}")
    series = servers.influx_series(info, f'SELECT "active", "detail" FROM "alert" WHERE {where} GROUP BY *',
                                   epoch="ms")
    episodes = {}
    for s in series:
        tags = s["tags"]
        key = (tags.get("sensor"), tags.get("problem"))
        identity = {k: tags.get(k) for k in ("district", "gateway", "site")}
        p.expect(identity == {"district": DISTRICT, "gateway": gateway_id, "site": SITE},
                 f"influxd: {key} tags district, gateway, site byte for byte", f"{identity}")
        p.expect(set(tags) == {"district", "gateway", "problem", "sensor", "site"},
                 f"influxd: {key} tags exactly district, gateway, problem, sensor, site", f"{sorted(tags)}")
        episodes[key] = [(row["time"], row["active"], row["detail"]) for row in s["rows"]]
    check_episodes(p, "influxd", episodes, mqtt_raises(messages))
    for key, points in sorted(episodes.items()):
        for t, active, detail in points:
            print(f"    {key[0]:<8} {key[1]:<8} {iso(t)} active={active!s:<5} detail={detail!r}")

    rows = [row for s in servers.influx_series(info, f'SELECT "window_s" FROM "gateway" WHERE {where}', epoch="ms")
            for row in s["rows"]]
    windows = (parse_iso(END) - parse_iso(START)) // (WINDOW_S * 1000)
    p.expect(len(rows) == windows and all(r["window_s"] == WINDOW_S for r in rows),
             f"influxd: {windows} gateway points, each with window_s = {WINDOW_S}",
             f"{len(rows)} points, window_s {sorted({r['window_s'] for r in rows})}")
    health = health_messages(messages)
    p.expect(bool(health) and all(m.get("window_s") == WINDOW_S for m in health),
             f"health messages carry window_s = {WINDOW_S}", f"{[m.get('window_s') for m in health]}")
    stored = sum(s["rows"][0]["count"] for m, f in (("footfall", "samples"), ("light", "samples"),
                                                    ("gateway", "uptime_s"), ("alert", "active"))
                 for s in servers.influx_series(info, f'SELECT count("{f}") FROM "{m}" WHERE {where}'))
    if health:
        p.expect(health[-1]["sent"] == stored, "the last health's sent counts every point, alerts included",
                 f"{health[-1]['sent']} vs {stored} in the store")
    return {key: [(t, a) for t, a, _ in points] for key, points in episodes.items()}


def check_victoria(p, servers, info, gateway_id, messages, log_path, influx_episodes):
    servers.vm_flush(info)
    episodes, names = {}, set()
    window_values = []
    for s in servers.vm_export(info, f'{{gateway="{gateway_id}"}}'):
        labels = s["metric"]
        name = labels.get("__name__", "")
        names.add(name)
        if name == "gateway_window_s":
            window_values.extend(s["values"])
        if not name.startswith("alert_"):
            continue
        key = (labels.get("sensor"), labels.get("problem"))
        identity = {k: labels.get(k) for k in ("district", "gateway", "site")}
        p.expect(identity == {"district": DISTRICT, "gateway": gateway_id, "site": SITE},
                 f"victoria: {name} {key} labels district, gateway, site byte for byte", f"{identity}")
        if name == "alert_active":
            episodes[key] = [(t, v == 1, None) for t, v in sorted(zip(s["timestamps"], s["values"]))]
    p.expect(not any(n.startswith("alert_") and n != "alert_active" for n in names),
             "victoria: alert_active only (no alert_detail: tryggd leaves the text out)",
             f"{sorted(n for n in names if n.startswith('alert_'))}")
    check_episodes(p, "victoria", episodes, mqtt_raises(messages))
    same = {key: [(t, a) for t, a, _ in points] for key, points in episodes.items()}
    p.expect(same == influx_episodes, "victoria: the same raises and clears at the same times as influxd",
             f"{same} vs {influx_episodes}")
    windows = (parse_iso(END) - parse_iso(START)) // (WINDOW_S * 1000)
    p.expect(len(window_values) == windows and set(window_values) == {WINDOW_S},
             f"victoria: gateway_window_s = {WINDOW_S} on each of {windows} windows",
             f"{len(window_values)} samples, values {sorted(set(window_values))}")
    with open(log_path, encoding="utf-8", errors="replace") as f:
        log = f.read()
    found = re.search(r"store: (\d+) sampled points read back: (\d+) found, (\d+) missing", log)
    p.expect(bool(found) and found.group(3) == "0" and int(found.group(2)) > 0,
             "victoria: the read-back found every point it sampled", found.group(0) if found else "no summary")


def reload_config(path, work, info, gateway_id, prefix, sensors):
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", f"district = {DISTRICT}", f"site = {SITE}", "window = 60",
                     "clock = trusted", f"state_dir = {os.path.join(work, 'state')}"]),
        ("mqtt", [f"uri = {info['mqtt_uri']}", f"topic_prefix = {prefix}", "publish_readings = no"]),
        ("influx", [f"url = {info['influx_url']}", f"database = {info['database']}"]),
        *sensors,
    ], comment="Written by tests/integration/test_store_alerts.py")


def wait_for_log(path, pattern, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with open(path, encoding="utf-8", errors="replace") as f:
            if re.search(pattern, f.read(), re.MULTILINE):
                return True
        time.sleep(0.05)
    return False


def check_reload(p, tryggd, servers, info, work):
    token = uuid.uuid4().hex[:10]
    gateway_id = f"alerts-reload-{token}"
    prefix = f"tryggtest-{token}"
    folder = os.path.join(work, gateway_id)
    os.makedirs(os.path.join(folder, "sys"))
    config = os.path.join(folder, "tryggd.conf")
    an_hour_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    a = ("sensor.a", ["type = light", "driver = sim", "interval = 1", f"inject = failed@{an_hour_ago}/3h"])
    b = ("sensor.b", ["type = footfall", "driver = sim", "interval = 1"])
    d = ("sensor.d", ["type = footfall", "driver = sim", "interval = 1", f"inject = blocked@{an_hour_ago}/3h",
                      "blocked_after = 2s"])
    d_off = ("sensor.d", [*d[1][:-1], "blocked_after = 0"])
    c = ("sensor.c", ["type = light", "driver = iio", "device = iio:device7", "interval = 1",
                      f"sysfs_root = {os.path.join(folder, 'sys')}"])
    reload_config(config, folder, info, gateway_id, prefix, [b, d, a])
    sub_out = os.path.join(folder, "subscription.txt")
    subscriber = start_subscriber(servers, info, prefix, sub_out)
    log_path = os.path.join(folder, "tryggd.log")
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=tryggd_env())
        try:
            p.expect(wait_for_log(log_path, r"sensor a: alert failed", 15), "reload: sensor a failed")
            p.expect(wait_for_log(log_path, r"sensor d: alert blocked", 15), "reload: sensor d blocked")
            reload_config(config, folder, info, gateway_id, prefix, [b, d_off, c])
            proc.send_signal(signal.SIGHUP)
            p.expect(wait_for_log(log_path, r"SIGHUP: configuration reloaded: 1 sensors kept, 1 changed, 1 added, "
                                            r"1 removed", 15), "reload: applied (b kept, d changed, c added, "
                                                               "a removed)")
            time.sleep(1.5)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            status = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        p.expect(status == 0, "reload: tryggd exits 0 after the reload and SIGTERM", f"status {status}")
        wait_for_marker(servers, info, subscriber, sub_out, f"{prefix}/_test/end", "end", 30)
    finally:
        stop_process(subscriber)

    where = f'"gateway" = {servers.quote_string(gateway_id)}'
    episodes = {}
    for s in servers.influx_series(info, f'SELECT "active" FROM "alert" WHERE {where} GROUP BY "sensor", "problem"',
                                   epoch="ms"):
        episodes[(s["tags"]["sensor"], s["tags"]["problem"])] = [(r["time"], r["active"]) for r in s["rows"]]
    a_points = episodes.get(("a", "failed"), [])
    p.expect(set(episodes) == {("a", "failed"), ("c", "failed"), ("d", "blocked")},
             "reload: alert series a failed, c failed and d blocked only", f"{sorted(episodes)}")
    p.expect([a for _, a in a_points] == [True, False] and a_points[0][0] <= a_points[1][0],
             "reload: a failed raised, then cleared when the reload removed it", f"{a_points}")
    c_points = episodes.get(("c", "failed"), [])
    p.expect([a for _, a in c_points] == [True], "reload: c failed raised at the reload, no clear at the stop",
             f"{c_points}")
    if len(a_points) == 2 and len(c_points) == 1:
        p.expect(abs(c_points[0][0] - a_points[1][0]) <= 1000, "reload: c raised when a was cleared (the reload)",
                 f"{iso(c_points[0][0])} vs {iso(a_points[1][0])}")
    d_points = episodes.get(("d", "blocked"), [])
    p.expect([a for _, a in d_points] == [True, False], "reload: d blocked raised, then cleared by the reload",
             f"{d_points}")
    if len(a_points) == 2 and len(d_points) == 2:
        p.expect(abs(d_points[1][0] - a_points[1][0]) <= 1000, "reload: d cleared at the reload",
                 f"{iso(d_points[1][0])} vs {iso(a_points[1][0])}")
    messages = read_messages(sub_out, prefix, Problems())
    for sensor, state in (("c", "failed"), ("d", "ok")):
        alerts = [json.loads(payload) for _, topic, payload in messages
                  if topic.endswith(f"/{sensor}/alert") and payload]
        p.expect(bool(alerts) and alerts[-1].get("state") == state, f"reload: {sensor}'s retained alert says {state}",
                 f"{alerts[-1] if alerts else None}")


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    work = os.path.join(os.path.dirname(servers_dir), f"store-alerts-{uuid.uuid4().hex[:8]}")
    os.makedirs(work)
    p = Problems()
    influx_episodes = None
    for label, api in STORES:
        gateway_id, messages, log_path = run(tryggd, source, servers, info, work, api)
        if api == "v1":
            influx_episodes = check_influxd(p, servers, info, gateway_id, messages)
        else:
            check_victoria(p, servers, info, gateway_id, messages, log_path, influx_episodes)
    check_reload(p, tryggd, servers, info, work)
    return p.verdict(work, "each injected fault raised once at its start and cleared once after its end in "
                     "both stores, nothing at the stop; window_s on every gateway point", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
