#!/usr/bin/env python3
"""`tryggctl setup-influx` against the fixture's influxd (1.6).

    test_setup_influx.py TRYGGD SOURCE_DIR SERVERS_DIR

tryggctl is the binary next to TRYGGD.  Everything happens in a database of
this run's own, setup_<random>, dropped at the end, so the other tests'
`trygghet` is never touched:

  1. --dry-run: the six statements, nothing created.
  2. The first run, from a config: the database, the retention policies raw
     (400d, the default) and hourly (INF), the continuous queries
     footfall_hourly, light_hourly and lamp_hourly, each as SHOW says it,
     and one output line for each; the dry run's queries are the ones
     created.
  3. The second run changes nothing (SHOW the same before and after) and
     says so on every line.
  4. The aggregates: windows written without a retention policy land in raw
     (the default); each continuous query's own SELECT, as SHOW CONTINUOUS
     QUERIES gives it, run by hand over two hours, gives the hourly points:
     counts and seconds summed, lux min/mean/max, coverage averaged,
     windows counted, per district and site.
  5. Drift put right: raw shortened to 30d and footfall_hourly replaced by
     hand come back; raw at INF is left alone (shortening deletes data)
     until --retention is given.
  6. Errors: a closed port gives 69 and names the URL; a bad duration 64.

Exit 0 when all hold, 1 with the list of what did not; the working directory
is kept on failure and printed.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

# Beside this file.
import capture
from capture import Problems, load_servers

RUN_TIMEOUT_S = 30
MEASUREMENTS = ("footfall", "light", "lamp")
SITE = "Torget 3, ingång=öst"     # a hostile tag value: space, comma, '=', UTF-8


def run(tryggctl, *args):
    """(exit status, stdout lines, stderr) of tryggctl setup-influx ARGS."""
    proc = subprocess.run([tryggctl, "setup-influx", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT_S)
    print(f"  $ tryggctl setup-influx {' '.join(args)}  -> {proc.returncode}")
    for line in (proc.stdout + proc.stderr).splitlines():
        print(f"    {line}")
    return proc.returncode, proc.stdout.splitlines(), proc.stderr


def state(servers, info, database):
    """What setup-influx is about, as SHOW gives it: (database there,
    {policy: (duration, default)}, {query name: query text})."""
    databases = {row["name"] for series in servers.influx_series(info, "SHOW DATABASES", db=None)
                 for row in series["rows"]}
    if database not in databases:
        return False, {}, {}
    policies = {row["name"]: (row["duration"], row["default"])
                for series in servers.influx_series(
                    info, f"SHOW RETENTION POLICIES ON {servers.quote_ident(database)}", db=None)
                for row in series["rows"]}
    queries = {row["name"]: row["query"]
               for series in servers.influx_series(info, "SHOW CONTINUOUS QUERIES", db=None)
               if series["name"] == database for row in series["rows"]}
    return True, policies, queries


def comparable(text):
    """A query without quotes and with single spaces: the server spells
    identifiers its own way."""
    return re.sub(r"\s+", " ", text.replace('"', "").replace("\\", "")).strip()


def write_points(info, database, lines):
    """Line protocol into the database's default retention policy."""
    url = f"{info['influx_url']}/write?" + urllib.parse.urlencode({"db": database, "precision": "s"})
    request = urllib.request.Request(url, data="\n".join(lines).encode("utf-8"), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def tag(text):
    """A tag value escaped for line protocol."""
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def check_runs(p, servers, info, tryggctl, config, database):
    # ---- 1. the dry run
    status, dry, _ = run(tryggctl, "-c", config, "--dry-run")
    p.expect(status == 0, "--dry-run exits 0", f"{status}")
    p.expect(len(dry) == 6 and all(line.startswith("CREATE ") and line.endswith(";") for line in dry),
             "--dry-run prints six CREATE statements", "\n".join(dry))
    p.expect(state(servers, info, database)[0] is False, "--dry-run creates nothing")

    # ---- 2. the first run
    status, out, _ = run(tryggctl, "-c", config)
    p.expect(status == 0, "first run exits 0", f"{status}")
    there, policies, queries = state(servers, info, database)
    p.expect(there, f"database {database} created")
    p.expect(policies.get("raw") == ("9600h0m0s", True), "retention policy raw: 400d, the default",
             f"{policies}")
    p.expect(policies.get("hourly") == ("0s", False), "retention policy hourly: INF, not the default",
             f"{policies}")
    p.expect(sorted(queries) == sorted(f"{m}_hourly" for m in MEASUREMENTS),
             "continuous queries footfall_hourly, light_hourly, lamp_hourly", f"{sorted(queries)}")
    for m in MEASUREMENTS:
        q = comparable(queries.get(f"{m}_hourly", ""))
        p.expect(f"INTO {database}.hourly.{m} FROM {database}.raw.{m} GROUP BY time(1h), district, site" in q
                 and "RESAMPLE FOR 1d" in q, f"{m}_hourly reads raw, writes hourly, per hour, district and site", q)
    expected = [f"database {database}: created", "retention policy raw: created, 400d, default",
                "retention policy hourly: created, INF", "continuous query footfall_hourly: created",
                "continuous query light_hourly: created", "continuous query lamp_hourly: created",
                "6 changes made"]
    p.expect(bool(out) and out[1:] == expected and out[0].startswith("InfluxDB 1.") and info["influx_url"] in out[0],
             "first run: one line per thing created", "\n".join(out))
    dry_queries = sorted(comparable(line.rstrip(";")) for line in dry if "CONTINUOUS QUERY" in line)
    p.expect(dry_queries == sorted(comparable(q) for q in queries.values()),
             "--dry-run printed the queries the run created")

    # ---- 3. the second run
    before = state(servers, info, database)
    status, out, _ = run(tryggctl, "-c", config)
    p.expect(status == 0, "second run exits 0", f"{status}")
    p.expect(state(servers, info, database) == before, "second run changes nothing")
    p.expect(out[1:] == [f"database {database}: already there", "retention policy raw: 400d, default (already so)",
                         "retention policy hourly: INF (already so)",
                         "continuous query footfall_hourly: already so", "continuous query light_hourly: already so",
                         "continuous query lamp_hourly: already so",
                         "everything was already in place; nothing changed"],
             "second run says everything was already so", "\n".join(out))
    return queries


def check_aggregates(p, servers, info, database, queries):
    # ---- 4. windows in raw, the continuous queries' own SELECT by hand
    hour = (int(time.time()) // 3600 - 3) * 3600          # well inside raw's 400 days
    t = [hour, hour + 60, hour + 120, hour + 3600]
    torget = f"district=Årby,gateway=g1,site={tag(SITE)}"
    lines = [
        f"footfall,{torget},sensor=door count=3i,in=2i,out=1i,samples=3i,coverage=1 {t[0]}",
        f"footfall,{torget},sensor=door count=4i,in=1i,out=3i,samples=4i,coverage=0.5 {t[1]}",
        f"footfall,{torget},sensor=gate count=5i,samples=5i,coverage=1 {t[2]}",
        f"footfall,{torget},sensor=door count=7i,in=7i,out=0i,samples=7i,coverage=1 {t[3]}",
        f"footfall,district=Nyfors,gateway=g2,sensor=door count=100i,samples=100i,coverage=1 {t[0]}",
        f"light,{torget},sensor=sky lux_min=2,lux_mean=5,lux_max=9,dark_s=30i,samples=12i,coverage=1 {t[0]}",
        f"light,{torget},sensor=sky lux_min=1,lux_mean=7,lux_max=20,dark_s=60i,samples=12i,coverage=0.5 {t[1]}",
        f"lamp,{torget},sensor=lamp-1 on_s=60i,fault_s=0i,samples=12i,coverage=1 {t[0]}",
        f"lamp,{torget},sensor=lamp-1 on_s=30i,fault_s=30i,samples=6i,coverage=0.5 {t[1]}",
    ]
    p.expect(write_points(info, database, lines) == 204, "windows written (no retention policy named)")
    raw_count = sum(row["count"] for series in servers.influx_series(
        info, f'SELECT count("coverage") FROM {servers.quote_ident(database)}."raw"./.*/', db=database)
        for row in series["rows"])
    p.expect(raw_count == len(lines), "they landed in raw, the default policy", f"{raw_count} of {len(lines)}")

    start, end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(hour)), \
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(hour + 7200))
    for m in MEASUREMENTS:
        text = queries.get(f"{m}_hourly", "")
        select = re.search(r"BEGIN (.*) END$", text)
        if not p.expect(select is not None, f"{m}_hourly has a SELECT", text):
            continue
        q = select.group(1).replace(" GROUP BY ", f" WHERE time >= '{start}' AND time < '{end}' GROUP BY ", 1)
        servers.influx_query(info, q, db=database, post=True)

    def hourly(m):
        rows = {}
        for series in servers.influx_series(info, f'SELECT * FROM {servers.quote_ident(database)}."hourly".{m}',
                                            db=database):
            for row in series["rows"]:
                rows[(row["time"], row.get("district"), row.get("site"))] = row
        return rows

    def near(a, b):
        return isinstance(a, (int, float)) and abs(a - b) < 1e-9

    footfall = hourly("footfall")
    first = footfall.get((hour, "Årby", SITE), {})
    p.expect(first.get("count") == 12 and first.get("in") == 3 and first.get("out") == 4
             and first.get("samples") == 12 and first.get("windows") == 3 and near(first.get("coverage"), 2.5 / 3),
             "footfall, Årby, the first hour: count 3+4+5, in 2+1, out 1+3, coverage mean, 3 windows",
             json.dumps(first, ensure_ascii=False))
    second = footfall.get((hour + 3600, "Årby", SITE), {})
    p.expect(second.get("count") == 7 and second.get("windows") == 1, "footfall, Årby, the next hour: 7",
             json.dumps(second, ensure_ascii=False))
    other = footfall.get((hour, "Nyfors", None), {})
    p.expect(other.get("count") == 100, "footfall, Nyfors (no site) apart: 100", str(footfall))
    p.expect(len(footfall) == 3, "three footfall hours in all", f"{sorted(footfall, key=str)}")
    light = hourly("light").get((hour, "Årby", SITE), {})
    p.expect(near(light.get("lux_min"), 1) and near(light.get("lux_mean"), 6) and near(light.get("lux_max"), 20)
             and light.get("dark_s") == 90 and light.get("samples") == 24 and near(light.get("coverage"), 0.75)
             and light.get("windows") == 2,
             "light: lux_min the least, lux_mean the mean, lux_max the most, dark_s summed",
             json.dumps(light, ensure_ascii=False))
    lamp = hourly("lamp").get((hour, "Årby", SITE), {})
    p.expect(lamp.get("on_s") == 90 and lamp.get("fault_s") == 30 and lamp.get("samples") == 18
             and near(lamp.get("coverage"), 0.75), "lamp: on_s and fault_s summed",
             json.dumps(lamp, ensure_ascii=False))


def check_drift(p, servers, info, tryggctl, config, database):
    # ---- 5. changed by hand, put right
    db = servers.quote_ident(database)
    servers.influx_query(info, f'ALTER RETENTION POLICY "raw" ON {db} DURATION 30d', db=None, post=True)
    servers.influx_query(info, f'DROP CONTINUOUS QUERY "footfall_hourly" ON {db}', db=None, post=True)
    servers.influx_query(info, f'CREATE CONTINUOUS QUERY "footfall_hourly" ON {db} BEGIN SELECT sum("count") '
                         f'AS "count" INTO {db}."hourly"."footfall" FROM {db}."raw"."footfall" GROUP BY time(1h) END',
                         db=None, post=True)
    status, out, _ = run(tryggctl, "-c", config)
    _, policies, queries = state(servers, info, database)
    p.expect(status == 0 and policies.get("raw") == ("9600h0m0s", True)
             and "retention policy raw: 400d, default (was 30d)" in out,
             "a raw policy shortened by hand is made 400d again, and that is said", "\n".join(out))
    p.expect("continuous query footfall_hourly: replaced (its query was another)" in out
             and "RESAMPLE FOR 1d" in queries.get("footfall_hourly", "") and out[-1:] == ["2 changes made"],
             "a continuous query changed by hand is replaced, and that is said", "\n".join(out))

    servers.influx_query(info, f'ALTER RETENTION POLICY "raw" ON {db} DURATION INF', db=None, post=True)
    status, out, _ = run(tryggctl, "-c", config)
    p.expect(status == 0 and state(servers, info, database)[1].get("raw") == ("0s", True)
             and any(line.startswith("retention policy raw: INF, default (left at INF: shortening it to 400d")
                     for line in out) and out[-1:] == ["nothing changed; what was left as it was is said above"],
             "raw at INF is not shortened without --retention, and that is said", "\n".join(out))
    status, out, _ = run(tryggctl, "-c", config, "--retention", "400d")
    p.expect(status == 0 and state(servers, info, database)[1].get("raw") == ("9600h0m0s", True)
             and "retention policy raw: 400d, default (was INF)" in out,
             "--retention 400d shortens it", "\n".join(out))


def check_errors(p, servers, tryggctl, database):
    # ---- 6. errors
    port = servers.free_port()
    status, out, err = run(tryggctl, "--url", f"http://127.0.0.1:{port}", "--database", database)
    p.expect(status == 69 and f"cannot reach InfluxDB at http://127.0.0.1:{port}" in err and "Traceback" not in err,
             "a closed port: exit 69, the URL named", f"{status}: {err}")
    status, out, err = run(tryggctl, "--url", "http://127.0.0.1:1", "--retention", "10m")
    p.expect(status == 64 and "--retention" in err, "--retention 10m: exit 64", f"{status}: {err}")


def check_victoria_advice(p, tryggctl, work):
    """VictoriaMetrics: nothing to create, so no request; the server flags
    that keep one point per window and the data as long as raw."""
    config = os.path.join(work, "victoria.conf")
    capture.write_config(config, [
        ("gateway", ["id = setup-test", "district = Årby", f"state_dir = {os.path.join(work, 'state')}"]),
        # A port nobody listens on: a request would fail.
        ("influx", ["url = http://127.0.0.1:9", "api = victoriametrics"]),
        *capture.sim_sensors(capture.SKY_AND_DOOR),
    ], comment="Written by tests/integration/test_setup_influx.py")
    code, lines, err = run(tryggctl, "--config", config)
    out = "\n".join(lines)
    p.expect(code == 0, "victoriametrics: exit 0 without a request", f"exit {code}: {err}")
    for flag in ("-retentionPeriod=400d", "-dedup.minScrapeInterval=1ms", "db=\"trygghet\""):
        p.expect(flag in out, f"victoriametrics: says {flag}", out)


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    tryggctl = os.path.join(os.path.dirname(tryggd), "tryggctl")
    if not os.access(tryggctl, os.X_OK):
        sys.exit(f"FAIL: no tryggctl next to {tryggd}")
    token = uuid.uuid4().hex[:10]
    database = f"setup_{token}"
    work = os.path.join(os.path.dirname(servers_dir), f"setup-influx-{token}")
    os.makedirs(work)
    config = os.path.join(work, "tryggd.conf")
    capture.write_config(config, [
        ("gateway", ["id = setup-test", "district = Årby", f"state_dir = {os.path.join(work, 'state')}"]),
        ("influx", [f"url = {info['influx_url']}", f"database = {database}"]),
        *capture.sim_sensors(capture.SKY_AND_DOOR),
    ], comment="Written by tests/integration/test_setup_influx.py")
    print(f"database {database}, work dir {work}")

    p = Problems()
    try:
        queries = check_runs(p, servers, info, tryggctl, config, database)
        check_aggregates(p, servers, info, database, queries)
        check_drift(p, servers, info, tryggctl, config, database)
        check_errors(p, servers, tryggctl, database)
        check_victoria_advice(p, tryggctl, work)
    finally:
        try:
            servers.influx_query(info, f"DROP DATABASE {servers.quote_ident(database)}", db=None, post=True)
        except servers.ServerError as e:
            print(f"  (could not drop {database}: {e})")
    return p.verdict(work, f"setup-influx created, kept and put right {database}; dropped again",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
