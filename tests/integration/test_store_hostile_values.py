#!/usr/bin/env python3
"""Districts and sites with hostile characters arrive exactly, in both real
stores and on MQTT.

    test_store_hostile_values.py TRYGGD SOURCE_DIR SERVERS_DIR

Five gateways, each with a district and a site full of what line protocol,
InfluxQL, PromQL selectors, JSON and MQTT topics treat specially: space,
comma, '=', double quote, backslash (alone, doubled, before '"', '#', '+',
'/'; never at the end or before a comma, space or '=', which config
validation refuses), '#', '+', '/', an emoji, 'Å' (composed and as A plus a
combining ring), other non-ASCII letters, and leading and trailing space.
Leading and trailing ASCII spaces cannot be configured: the INI format
strips them from a value (the config line of gateway 3 has them, and the
expected value is the stripped one, as `tryggd --check` shows it); a
no-break space (U+00A0) before a space at the start and after one at the end
of gateway 3's site stays.

Each gateway runs twice, each run its own tryggd with a gateway id of its
own (all ten at once): five virtual minutes at speed 0 from an hour boundary
three days ago (VictoriaMetrics drops points dated more than two days ahead
of the clock), window = 60, two sim sensors, [mqtt] to the fixture's broker
and [influx] once to the fixture's influxd (api = v1) and once to the
fixture's VictoriaMetrics (api = victoriametrics, whose default read-back
then asks for points by these labels).  Then:

  influxd           SHOW TAG VALUES of district and site, and SELECT count()
                    ... GROUP BY district, site: exactly the configured
                    strings, byte for byte; every point there (5 windows x
                    2 sensors, 5 gateway points).
  VictoriaMetrics   /api/v1/export of the gateway's series: labels district
                    and site exactly the configured strings on every series;
                    every point there; the read-back found every point it
                    sampled (no "did not keep").
  MQTT              (one mosquitto_sub -v on PREFIX/#) every topic of the run
                    is PREFIX/SLUG/ID/..., no level empty or with '+', '#' or
                    NUL, SLUG the district's slug as CONTRACT.md defines it
                    (written out below by hand, and cross-checked with a
                    transcription of gateway/slug.c); the "district" and
                    "site" of every reading, window and health payload are
                    the configured strings.

Exit 0 when all hold, 1 with the list of what did not.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

# Beside this file.
from capture import Problems, load_servers, read_messages, start_subscriber, stop_process, wait_for_marker

WINDOW_S = 60
MINUTES = 5
SENSORS = {"sky": ("light", {"interval": 5, "seed": 3, "profile": "Årby"}),
           "door": ("footfall", {"interval": 5, "seed": 4, "profile": "Årby"})}
RUN_TIMEOUT_S = 60
READBACK = re.compile(r"store: (\d+) sampled points read back: (\d+) found, (\d+) missing")

# (district as written in the config, site as written, the district and site
# tryggd must keep, the district's topic level).
GATEWAYS = [
    ('Norra Nyfors, "Centrum" = 1', "Torg #2 + 3/4, ingång=öst",
     'Norra Nyfors, "Centrum" = 1', "Torg #2 + 3/4, ingång=öst", "norra-nyfors-centrum-1"),
    ("Årby 😀 Östra/Väst+#", 'a\\b c\\\\d x\\"y \\#\\+\\/ 😀',
     "Årby 😀 Östra/Väst+#", 'a\\b c\\\\d x\\"y \\#\\+\\/ 😀', "arby-ostra-vast"),
    ("   Fröslunda  centrum   ", " \u00a0 kring torget, \"=\" \u00a0 ",
     "Fröslunda  centrum", "\u00a0 kring torget, \"=\" \u00a0", "froslunda-centrum"),
    ('#1 + /2 = "x"', "=,start and end,=",
     '#1 + /2 = "x"', "=,start and end,=", "1-2-x"),
    ("A\u030arby Lagerberg", "Åå Ää Öö Éé ✓ \\\\x",
     "A\u030arby Lagerberg", "Åå Ää Öö Éé ✓ \\\\x", "arby-lagerberg"),
]
STORES = [("influxd", "v1"), ("victoria-metrics", "victoriametrics")]

FOLD_C3 = {0xA5: "a", 0xA4: "a", 0x85: "a", 0x84: "a", 0xB6: "o", 0x96: "o", 0xA9: "e", 0x89: "e"}


def slug_like_tryggd(text):
    """gateway/slug.c, transcribed: a-z 0-9 kept, A-Z lowered, å ä Å Ä ö Ö é
    É folded, combining marks (U+0300..U+036F) dropped, any other run of
    bytes one '-', none at either end."""
    data = text.encode("utf-8")
    out, pending, i = [], False, 0
    while i < len(data):
        c, letter, step = data[i], None, 1
        nxt = data[i + 1] if i + 1 < len(data) else 0
        if 0x61 <= c <= 0x7A or 0x30 <= c <= 0x39:
            letter = chr(c)
        elif 0x41 <= c <= 0x5A:
            letter = chr(c + 32)
        elif c == 0xC3 and nxt:
            letter = FOLD_C3.get(nxt)
            step = 2 if letter else 1
        elif nxt and ((c == 0xCC and 0x80 <= nxt <= 0xBF) or (c == 0xCD and 0x80 <= nxt <= 0xAF)):
            i += 2
            continue
        i += step
        if letter is None:
            pending = True
            continue
        if pending and out:
            out.append("-")
        pending = False
        out.append(letter)
    return "".join(out)


def iso(unix_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_s))


def write_config(path, work, source, info, prefix, gateway_id, district_line, site_line, api, start_s):
    url = info["influx_url"] if api == "v1" else info["victoria_url"]
    # Written by hand: the district and site go in byte for byte, their
    # surrounding spaces included (which the INI reader strips).
    lines = [
        "# Written by tests/integration/test_store_hostile_values.py",
        "[gateway]", f"id = {gateway_id}", f"district = {district_line}", f"site = {site_line}",
        f"window = {WINDOW_S}", f"state_dir = {os.path.join(work, gateway_id)}", "",
        "[simulation]", f"start = {iso(start_s)}", f"end = {iso(start_s + MINUTES * 60)}", "speed = 0",
        "drain_timeout = 30", f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}", "",
        "[mqtt]", f"uri = {info['mqtt_uri']}", f"topic_prefix = {prefix}", "qos = 1", "",
        "[influx]", f"url = {url}", f"api = {api}", f"database = {info['database']}",
    ]
    for name, (kind, keys) in SENSORS.items():
        lines += ["", f"[sensor.{name}]", f"type = {kind}", "driver = sim", *(f"{k} = {v}" for k, v in keys.items())]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def show(text):
    """A string with its bytes visible: repr, and the UTF-8 in hex."""
    return f"{text!r} ({text.encode('utf-8').hex(' ')})"


def check_influxd(servers, info, run, p):
    gid, district, site = run["id"], run["district"], run["site"]
    where = f'"gateway" = {servers.quote_string(gid)}'
    found = {"district": set(), "site": set()}
    for series in servers.influx_series(info, f'SHOW TAG VALUES WITH KEY IN ("district", "site") WHERE {where}'):
        for row in series["rows"]:
            found.setdefault(row["key"], set()).add(row["value"])
    p.expect(found["district"] == {district}, f"{gid}: influxd SHOW TAG VALUES district exactly as configured",
             f"got {[show(v) for v in found['district']]}")
    p.expect(found["site"] == {site}, f"{gid}: influxd SHOW TAG VALUES site exactly as configured",
             f"got {[show(v) for v in found['site']]}")
    groups, total = [], 0
    for q in (f'SELECT count("coverage") FROM "light", "footfall" WHERE {where} GROUP BY "district", "site"',
              f'SELECT count("uptime_s") FROM "gateway" WHERE {where} GROUP BY "district", "site"'):
        for series in servers.influx_series(info, q):
            groups.append((series["tags"].get("district"), series["tags"].get("site")))
            total += sum(row["count"] for row in series["rows"])
    p.expect(groups and all(g == (district, site) for g in groups),
             f"{gid}: influxd GROUP BY district, site gives exactly the configured pair",
             f"got {[(show(d or ''), show(s or '')) for d, s in groups]}")
    p.expect(total == MINUTES * (len(SENSORS) + 1), f"{gid}: influxd holds every point ({total})")


def check_victoria(servers, info, run, log_text, p):
    gid, district, site = run["id"], run["district"], run["site"]
    servers.vm_flush(info)
    series = servers.vm_export(info, f'{{gateway="{gid}"}}')
    labels = {(s["metric"].get("district"), s["metric"].get("site"), s["metric"].get("db")) for s in series}
    p.expect(labels == {(district, site, info["database"])},
             f"{gid}: VictoriaMetrics labels district and site exactly as configured on every series",
             f"got {[(show(d or ''), show(s or ''), db) for d, s, db in labels]}")
    points = sum(len(s["timestamps"]) for s in series
                 if s["metric"]["__name__"] in ("light_coverage", "footfall_coverage", "gateway_uptime_s"))
    p.expect(points == MINUTES * (len(SENSORS) + 1), f"{gid}: VictoriaMetrics holds every point ({points})")
    summary = READBACK.findall(log_text)
    sampled, found, missing = (int(n) for n in summary[-1]) if summary else (0, 0, 0)
    p.expect("did not keep" not in log_text and sampled > 0 and found == sampled and missing == 0,
             f"{gid}: the read-back, asking by these labels, found every point it sampled ({found} of {sampled})",
             f"summary {summary}")


def check_mqtt(messages, prefix, run, p):
    gid, district, site, slug = run["id"], run["district"], run["site"], run["slug"]
    mine = [(topic, payload) for _, topic, payload in messages if gid in topic.split("/")]
    if not p.expect(mine, f"{gid}: MQTT messages arrived"):
        return
    bad_levels = [t for t, _ in mine if any(level == "" or set(level) & {"+", "#", "\0"} for level in t.split("/"))]
    p.expect(not bad_levels, f"{gid}: no topic level is empty or has '+', '#' or NUL", f"{bad_levels[:3]}")
    base = f"{prefix}/{slug}/{gid}/"
    p.expect(all(t.startswith(base) for t, _ in mine), f"{gid}: every topic is {base}...",
             f"{sorted({t for t, _ in mine if not t.startswith(base)})[:3]}")
    kinds = {}
    wrong = []
    for topic, payload in mine:
        leaf = topic.rsplit("/", 1)[1]
        if leaf not in ("reading", "window", "health") or not payload:
            continue
        message = json.loads(payload.decode("utf-8"))
        kinds[leaf] = kinds.get(leaf, 0) + 1
        if message.get("district") != district or message.get("site") != site:
            wrong.append((topic, message.get("district"), message.get("site")))
    p.expect(set(kinds) == {"reading", "window", "health"} and not wrong,
             f"{gid}: district and site of every reading, window and health payload as configured "
             f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})",
             f"{len(wrong)} differ, first {wrong[:2]}")


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    token = uuid.uuid4().hex[:8]
    prefix = f"tryggtest-{token}"
    work = tempfile.mkdtemp(prefix="hostile-", dir=os.path.dirname(servers_dir))
    start_s = (int(time.time()) // 3600 - 72) * 3600
    p = Problems()
    print(f"work dir {work}, topics {prefix}/...")

    runs = []
    for number, (district_line, site_line, district, site, slug) in enumerate(GATEWAYS, 1):
        p.expect(slug_like_tryggd(district) == slug, f"gateway {number}: the slug of {show(district)} is {slug!r}",
                 f"slug.c's rule gives {slug_like_tryggd(district)!r}")
        for label, api in STORES:
            gid = f"hostile-{token}-{number}-{'v1' if api == 'v1' else 'vm'}"
            config = os.path.join(work, f"{gid}.conf")
            write_config(config, work, source, info, prefix, gid, district_line, site_line, api, start_s)
            runs.append({"id": gid, "store": label, "config": config, "log": os.path.join(work, f"{gid}.log"),
                         "district": district, "site": site, "slug": slug})

    sub_out = os.path.join(work, "mqtt.txt")
    subscriber = start_subscriber(servers, info, prefix, sub_out)
    t0 = time.monotonic()
    try:
        procs = []
        for run in runs:
            log = open(run["log"], "wb")
            procs.append(subprocess.Popen([tryggd, "-c", run["config"]], stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL))
            log.close()
        for run, proc in zip(runs, procs):
            try:
                run["status"] = proc.wait(timeout=max(1, RUN_TIMEOUT_S - (time.monotonic() - t0)))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                run["status"] = None
        wall = time.monotonic() - t0
        wait_for_marker(servers, info, subscriber, sub_out, f"{prefix}/_test/end", "end", 30)
    finally:
        stop_process(subscriber)
    print(f"{len(runs)} runs of {MINUTES} virtual minutes, all at once: {wall:.1f} s")

    messages = read_messages(sub_out, prefix, p)
    for run in runs:
        with open(run["log"], encoding="utf-8", errors="replace") as f:
            text = f.read()
        print(f"{run['id']} ({run['store']}): district {show(run['district'])}, site {show(run['site'])}")
        p.expect(run["status"] == 0, f"{run['id']}: exit 0", f"status {run['status']}; {run['log']}")
        if run["store"] == "influxd":
            check_influxd(servers, info, run, p)
        else:
            check_victoria(servers, info, run, text, p)
        check_mqtt(messages, prefix, run, p)
    return p.verdict(work, "hostile districts and sites arrive exactly in influxd, VictoriaMetrics and on MQTT",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
