#!/usr/bin/env python3
"""The Grafana dashboard (config/grafana/tryggd.json) against the real store.

    test_grafana.py TRYGGD SOURCE_DIR SERVERS_DIR

Debian has no Grafana, so the test does what Grafana would do with the
dashboard, and nothing it would not:

  model    the JSON has what Grafana needs to import it: a title, a uid, a
           schemaVersion, panels, time, templating; every panel a unique
           id, a known type and a gridPos (h, w, x, y inside 24 columns);
           every panel with queries a datasource (the `datasource`
           variable) and targets with a refId unique in the panel,
           rawQuery true and an InfluxQL query; every variable a name, a
           type and a query.  Every query is also written out, as it is,
           in config/grafana/README.md.
  data     three tryggd gateways on sim sensors (window 60, six virtual
           hours at speed 0, faults injected so there are alerts) write
           into the fixture's influxd: two districts with names of their
           own for this run (with characters a regex must escape), a site
           with a slash and parentheses, and a gateway without a site.
  queries  the variable queries are run first, as Grafana fills its
           drop-downs, and must list this run's districts and sites.  Then
           every target of every panel, for four selections (one district
           and one site; two of each, multi-value; one district with site
           All; All and All), has its macros replaced the way Grafana
           replaces them and is run against influxd's /query: no error, at
           least one series with a value that is not null, and only
           series of what was selected; for the first gateway alone, the
           injected faults where they belong (fault hours, the alert still
           active at the end, the alert events).  A macro the test does not know
           fails it (implemented: $timeFilter, $__interval, ${__to},
           ${district:regex}, ${site:regex}).

Grafana's replacements, as in its source (packages/grafana-data rangeutil
and text/string.ts, the scenes format registry, the InfluxDB datasource):
  $timeFilter        `time >= FROMms and time <= TOms` for an absolute range
  $__interval        calculateInterval(range, max data points, the panel's
                     min interval): (to - from) / points rounded to Grafana's
                     ladder, not below the min interval, written as 1m, 1h...
                     The points are the panel's maxDataPoints or its width in
                     pixels, here on a 1920-pixel-wide screen.
  ${__to}            the range's end in Unix milliseconds
  ${VAR:regex}       each value regex-escaped (\\ ^ $ * + ? . ( ) | [ ] { } /),
                     one value as it is, several as (a|b); All with a
                     custom allValue gives that value unescaped (.*)

Exit 0 when everything holds, 1 with the list of what did not; the working
folder (configs, logs) is kept on failure.
"""

import json
import os
import re
import subprocess
import sys
import time
import uuid

# Beside this file.
import capture
from capture import Problems, load_servers, parse_iso

START = "2026-11-02T14:00:00Z"   # 15:00 local: daylight, dusk, evening
END = "2026-11-02T20:00:00Z"
WINDOW_S = 60
TRYGGD_TIMEOUT_S = 120
SCREEN_PX = 1920                 # for $__interval: a panel's width in pixels

# Panel types this dashboard may use (Grafana 9/10 core panels).
KNOWN_PANEL_TYPES = {
    "row", "text", "timeseries", "barchart", "stat", "gauge", "bargauge", "table", "status-history",
    "state-timeline", "heatmap", "histogram", "piechart", "logs", "news", "dashlist", "geomap", "graph",
}
KNOWN_VARIABLE_TYPES = {"query", "datasource", "custom", "constant", "interval", "textbox", "adhoc"}
NO_QUERY_PANEL_TYPES = {"row", "text", "news", "dashlist"}

ALL = object()   # a variable set to All


# ---------------------------------------------------------------- the JSON model

def check_model(problems, dashboard):
    """The fields Grafana needs to import and show the dashboard.  Prints
    what does not hold, then one line for the rest; the number of checks."""
    checked = [0]

    def expect(condition, what, detail=""):
        checked[0] += 1
        if not condition:
            problems.expect(False, what, detail)
        return condition
    for key, kind in (("title", str), ("uid", str), ("schemaVersion", int), ("panels", list),
                      ("time", dict), ("templating", dict)):
        expect(isinstance(dashboard.get(key), kind), f"dashboard has {key} ({kind.__name__})",
               repr(dashboard.get(key))[:80])
    uid = dashboard.get("uid", "")
    expect(isinstance(uid, str) and 0 < len(uid) <= 40 and re.fullmatch(r"[A-Za-z0-9_-]+", uid or "x"),
           "uid is 1 to 40 of A-Z a-z 0-9 _ -", repr(uid))
    expect(isinstance(dashboard.get("schemaVersion"), int) and dashboard["schemaVersion"] >= 36,
           "schemaVersion is that of Grafana 9 or later (36+)", repr(dashboard.get("schemaVersion")))

    variables = dashboard.get("templating", {}).get("list", [])
    names = [v.get("name") for v in variables]
    expect(len(names) == len(set(names)), "variable names are unique", repr(names))
    for v in variables:
        label = f"variable {v.get('name')!r}"
        expect(all(isinstance(v.get(k), str) and v.get(k) for k in ("name", "type", "query")),
               f"{label} has name, type and query")
        expect(v.get("type") in KNOWN_VARIABLE_TYPES, f"{label} has a known type", repr(v.get("type")))
        if v.get("type") == "query":
            expect(ds_ok(v.get("datasource"), names), f"{label} names the datasource variable",
                   repr(v.get("datasource")))
    ds_vars = [v for v in variables if v.get("type") == "datasource"]
    expect(len(ds_vars) == 1 and ds_vars[0].get("query") == "influxdb",
           "one datasource variable, of type influxdb", repr(ds_vars))
    for name in ("district", "site"):
        expect(name in names, f"variable {name} exists")

    ids = []
    for panel in all_panels(dashboard):
        label = f"panel {panel.get('id')} {panel.get('title')!r}"
        ids.append(panel.get("id"))
        expect(isinstance(panel.get("id"), int), f"{label}: id is an integer")
        expect(isinstance(panel.get("title"), str), f"{label}: has a title")
        expect(panel.get("type") in KNOWN_PANEL_TYPES, f"{label}: known type", repr(panel.get("type")))
        grid = panel.get("gridPos", {})
        expect(all(isinstance(grid.get(k), int) for k in "hwxy") and grid.get("w", 0) >= 1
               and grid.get("h", 0) >= 1 and grid.get("x", -1) >= 0 and grid.get("y", -1) >= 0
               and grid.get("x", 0) + grid.get("w", 0) <= 24,
               f"{label}: gridPos h, w, x, y within 24 columns", repr(grid))
        if panel.get("type") in NO_QUERY_PANEL_TYPES:
            continue
        targets = panel.get("targets")
        if not expect(isinstance(targets, list) and targets, f"{label}: has targets"):
            continue
        expect(ds_ok(panel.get("datasource"), names) or all(ds_ok(t.get("datasource"), names) for t in targets),
               f"{label}: datasource set (the datasource variable)", repr(panel.get("datasource")))
        refs = [t.get("refId") for t in targets]
        expect(all(isinstance(r, str) and r for r in refs) and len(refs) == len(set(refs)),
               f"{label}: refIds present and unique", repr(refs))
        for t in targets:
            expect(t.get("rawQuery") is True and isinstance(t.get("query"), str) and t["query"].strip(),
                   f"{label} {t.get('refId')}: rawQuery true and a query")
            expect(t.get("resultFormat", "time_series") in ("time_series", "table", "logs"),
                   f"{label} {t.get('refId')}: known resultFormat", repr(t.get("resultFormat")))
            # $tag_X in an alias needs X in the GROUP BY, or Grafana shows "$tag_X".
            for tag in re.findall(r"\$tag_(\w+)|\[\[tag_(\w+)\]\]", t.get("alias", "")):
                tag = tag[0] or tag[1]
                expect(re.search(r'GROUP BY [^;]*"%s"' % re.escape(tag), t.get("query", "")),
                       f"{label} {t.get('refId')}: alias tag {tag} is grouped by")
    expect(len(ids) == len(set(ids)), "panel ids are unique", repr(ids))
    return checked[0]


def check_documented(problems, dashboard, readme):
    """Every panel's every query, and every variable's, written out in
    config/grafana/README.md exactly as in the JSON."""
    queries = [(f"{p.get('title')} [{t.get('refId')}]", t.get("query", "")) for p in all_panels(dashboard)
               for t in p.get("targets", [])]
    queries += [(f"variable {v.get('name')}", v.get("query", ""))
                for v in dashboard.get("templating", {}).get("list", []) if v.get("type") == "query"]
    missing = [what for what, query in queries if query not in readme]
    problems.expect(not missing, f"config/grafana/README.md shows all {len(queries)} queries as they are",
                    f"not there: {missing}")


def ds_ok(ds, variable_names):
    """A datasource reference to the dashboard's datasource variable."""
    if not isinstance(ds, dict) or ds.get("type") != "influxdb":
        return False
    m = re.fullmatch(r"\$\{(\w+)\}|\$(\w+)", ds.get("uid", ""))
    return bool(m) and (m.group(1) or m.group(2)) in variable_names


def all_panels(dashboard):
    """Every panel, those inside collapsed rows too."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", []) if panel.get("type") == "row" else []


# ---------------------------------------------------------------- Grafana's replacements

class MacroError(Exception):
    pass


def escape_regex(value):
    """@grafana/data escapeRegex()."""
    return re.sub(r"[\\^$*+?.()|\[\]{}/]", lambda m: "\\" + m.group(0), value)


def format_regex(value, variable):
    """The `regex` format of a variable's value: ALL with a custom allValue
    gives that value as it is (Grafana skips formatting it); otherwise each
    value escaped, one alone, several as (a|b)."""
    if value is ALL:
        if variable.get("allValue"):
            return variable["allValue"]
        raise MacroError(f"All of {variable['name']} without an allValue is not implemented")
    escaped = [escape_regex(v) for v in value]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


# Grafana's variable syntaxes: $name, ${name}, ${name:format}, [[name]], [[name:format]].
MACRO = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)(?::(\w+))?\]\]")


def interpolate(query, variables, selection, range_ms, interval):
    """The query as Grafana sends it to influxd.  Raises MacroError for any
    macro this test does not implement, so none is ever left over."""
    def replace(m):
        braces, fmt, plain = m.group(1), m.group(2), m.group(3)
        name = braces or plain or m.group(4)
        fmt = fmt or m.group(5)
        if plain == "timeFilter":
            return f"time >= {range_ms[0]}ms and time <= {range_ms[1]}ms"
        if plain in ("__interval", "interval"):
            if interval is None:
                raise MacroError(f"{m.group(0)} outside a panel")
            return interval
        if braces == "__to" and not fmt:
            return str(range_ms[1])
        if name in selection and fmt == "regex":
            return format_regex(selection[name], variables[name])
        raise MacroError(f"macro {m.group(0)} is not implemented by this test")
    return MACRO.sub(replace, query)


def round_interval(ms):
    """@grafana/data rangeutil roundInterval()."""
    ladder = [(10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
              (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000),
              (90000, 60000), (210000, 120000), (450000, 300000), (750000, 600000), (1050000, 900000),
              (1500000, 1200000), (2700000, 1800000), (5400000, 3600000), (9000000, 7200000),
              (16200000, 10800000), (32400000, 21600000), (86400000, 43200000), (604800000, 86400000),
              (1814400000, 604800000), (3628800000, 2592000000)]
    for below, rounded in ladder:
        if ms < below:
            return rounded
    return 31536000000


def interval_ms(text):
    """@grafana/data intervalToMs() for the units a min interval uses."""
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", text)
    if not m:
        raise MacroError(f"min interval {text!r} not understood")
    unit = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 604800000,
            "y": 31536000000}[m.group(2)]
    return int(m.group(1)) * unit


def seconds_to_hms(seconds):
    """@grafana/data rangeutil secondsToHms(): the largest whole unit."""
    years = int(seconds // 31536000)
    if years:
        return f"{years}y"
    rest = seconds % 31536000
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        whole = int(rest // size)
        if whole:
            return f"{whole}{unit}"
        rest %= size
    return f"{int(seconds * 1000)}ms"


def panel_interval(panel, range_ms):
    """$__interval of a panel: calculateInterval(range, points, min interval)."""
    points = panel.get("maxDataPoints") or round(panel["gridPos"]["w"] / 24 * SCREEN_PX)
    ms = round_interval((range_ms[1] - range_ms[0]) / points)
    low = interval_ms(panel["interval"]) if panel.get("interval") else 1
    return seconds_to_hms(max(ms, low) / 1000)


# ---------------------------------------------------------------- the run

def write_gateway_config(path, work, source, info, gateway, prefix):
    gw = [f"id = {gateway['id']}", f"district = {gateway['district']}", f"window = {WINDOW_S}",
          f"state_dir = {os.path.join(work, gateway['id'])}"]
    if gateway.get("site"):
        gw.insert(2, f"site = {gateway['site']}")
    capture.write_config(path, [
        ("gateway", gw),
        ("simulation", [f"start = {START}", f"end = {END}", "speed = 0",
                        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}"]),
        ("mqtt", [f"uri = {info['mqtt_uri']}", f"topic_prefix = {prefix}", "qos = 1"]),
        ("influx", [f"url = {info['influx_url']}", "api = v1", f"database = {info['database']}"]),
        *capture.sim_sensors(gateway["sensors"]),
    ], comment="Written by tests/integration/test_grafana.py")


def run_gateways(problems, tryggd, source, info, work, gateways, prefix):
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "TRYGGD_DEBUG")}
    for gateway in gateways:
        config = os.path.join(work, f"{gateway['id']}.conf")
        write_gateway_config(config, work, source, info, gateway, prefix)
        log = os.path.join(work, f"{gateway['id']}.log")
        t0 = time.monotonic()
        with open(log, "wb") as out:
            try:
                status = subprocess.run([tryggd, "-c", config], stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env, timeout=TRYGGD_TIMEOUT_S).returncode
            except subprocess.TimeoutExpired:
                status = "timeout"
        if not problems.expect(status == 0, f"tryggd {gateway['id']} ran {START} to {END} and exited 0",
                               f"{status}; {log}:\n{log_tail(log)}"):
            return False
        print(f"  tryggd {gateway['id']}: {time.monotonic() - t0:.1f} s", flush=True)
    return True


def log_tail(path, lines=15):
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-lines:])


def run_query(servers, info, query):
    """(series, error): the series as servers.influx_series() gives them."""
    try:
        return servers.influx_series(info, query, epoch="ms"), None
    except servers.ServerError as e:
        return [], str(e)


def has_values(series):
    return any(value is not None for s in series for row in s["rows"]
               for column, value in row.items() if column != "time")


def max_value(series):
    values = [v for s in series for row in s["rows"] for c, v in row.items()
              if c != "time" and isinstance(v, (int, float)) and not isinstance(v, bool)]
    return max(values, default=None)


# What some panels must show for gateway A alone (the first selection),
# beyond having data: the injected faults, where they belong.  Keyed by a
# piece of the query.
EXPECTED_FOR_A = {
    'sum("fault_s")': ("the injected lamp fault shows as fault hours",
                       lambda series: (max_value(series) or 0) > 0.5),
    'last("active")': ("only the still blocked counter is active at the end",
                       lambda series: sorted(s["tags"].get("problem") for s in series) == ["blocked"]),
    '"detail"': ("the lamp fault raised and cleared, and the block raised",
                 lambda series: sorted((s["tags"].get("problem"), r.get("aktivt")) for s in series
                                       for r in s["rows"]) == [("blocked", True), ("lamp_fault", False),
                                                               ("lamp_fault", True)]),
}


def variable_values(servers, info, variables, name, selection):
    """What Grafana's drop-down of a query variable lists (the `value`
    column of SHOW TAG VALUES), for the other variables as selected."""
    query = interpolate(variables[name]["query"], variables, selection, (0, 0), None)
    series, error = run_query(servers, info, query)
    if error:
        raise MacroError(f"variable {name}: {error}")
    return {row["value"] for s in series for row in s["rows"]}, query


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    with open(os.path.join(source, "config", "grafana", "tryggd.json"), encoding="utf-8") as f:
        dashboard = json.load(f)
    problems = Problems()

    print("The dashboard's JSON model:")
    failed_before = len(problems.items)
    count = check_model(problems, dashboard)
    problems.expect(len(problems.items) == failed_before,
                    f"{count} checks of the fields Grafana needs ({sum(1 for _ in all_panels(dashboard))} panels, "
                    f"{len(dashboard.get('templating', {}).get('list', []))} variables)")
    with open(os.path.join(source, "config", "grafana", "README.md"), encoding="utf-8") as f:
        check_documented(problems, dashboard, f.read())
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}

    # This run's own districts, so the store's other data cannot answer for
    # it; the names carry what a regex must escape.
    tag = uuid.uuid4().hex[:6]
    district_a, district_b = f"Årby (grafana {tag})", f"Nyfors grafana.{tag}"
    site_a, site_b = f"Torget (norr) 1/2 {tag}", f"Stationsgatan 4 {tag}"
    lamp_fault = "lamp_fault@2026-11-02T17:00:00Z/1h"          # dark by then: fault_s, raised and cleared
    blocked_to_end = "blocked@2026-11-02T19:00:00Z/2h"         # still active at END
    gateways = [
        {"id": f"graf-a-{tag}", "district": district_a, "site": site_a, "sensors": {
            "ljus": ("light", {"seed": "31", "profile": "Årby"}),
            "lampa": ("lamp", {"light": "ljus", "seed": "31", "profile": "Årby", "inject": lamp_fault}),
            "passage": ("footfall", {"seed": "31", "profile": "Årby", "inject": blocked_to_end}),
        }},
        {"id": f"graf-b-{tag}", "district": district_b, "site": site_b, "sensors": {
            "ljus": ("light", {"seed": "32", "profile": "Nyfors"}),
            "lampa": ("lamp", {"light": "ljus", "seed": "32", "profile": "Nyfors",
                               "inject": "lamp_fault@2026-11-02T16:30:00Z/1h"}),
            "passage": ("footfall", {"seed": "32", "profile": "Nyfors"}),
        }},
        # No site: shown when site is All (allValue .*, which matches a missing tag).
        {"id": f"graf-c-{tag}", "district": district_b, "sensors": {
            "dorr": ("footfall", {"seed": "33", "profile": "Nyfors", "inject": blocked_to_end}),
        }},
    ]
    work = os.path.join(os.path.dirname(servers_dir), f"grafana-{tag}")
    os.makedirs(work, exist_ok=True)
    print(f"\nThree gateways into {info['influx_url']} ({work}):")
    if not run_gateways(problems, tryggd, source, info, work, gateways, f"grafana-{tag}"):
        return problems.verdict(work, "")

    range_ms = (parse_iso(START), parse_iso(END))
    ours = {"district": {district_a, district_b}, "site": {site_a, site_b},
            "gateway": {g["id"] for g in gateways}}

    print("\nThe variables' queries (Grafana's drop-downs):")
    checks = [({"district": ALL}, "district", {district_a, district_b}, "superset"),
              ({"district": [district_a]}, "site", {site_a}, "equal"),
              ({"district": [district_b]}, "site", {site_b}, "equal"),
              ({"district": [district_a, district_b]}, "site", {site_a, site_b}, "equal"),
              ({"district": ALL}, "site", {site_a, site_b}, "superset")]
    for selection, name, wanted, how in checks:
        try:
            values, query = variable_values(servers, info, variables, name, selection)
        except MacroError as e:
            problems.expect(False, f"variable {name}", str(e))
            continue
        shown = {k: ("All" if v is ALL else v) for k, v in selection.items()}
        ok = wanted <= values if how == "superset" else (values & (ours["site"] | ours["district"])) == wanted
        problems.expect(ok, f"{name} for {shown} lists {sorted(wanted)}", f"{query!r} gave {sorted(values)}")

    # The selections a planner makes, and what may come back for each.
    selections = [
        ("one district, one site", {"district": [district_a], "site": [site_a]},
         {"district": {district_a}, "site": {site_a}}, {}),
        ("two districts, two sites (multi-value)",
         {"district": [district_a, district_b], "site": [site_a, site_b]},
         {"district": {district_a, district_b}, "site": {site_a, site_b}},
         {"district": {district_a, district_b}, "site": {site_a, site_b}}),
        ("one district, site All", {"district": [district_b], "site": ALL},
         {"district": {district_b}, "gateway": {gateways[1]["id"], gateways[2]["id"]}},
         {"gateway": {gateways[1]["id"], gateways[2]["id"]}}),
        ("district All, site All", {"district": ALL, "site": ALL}, {}, {"gateway": ours["gateway"]}),
    ]
    targets = [(panel, t) for panel in all_panels(dashboard) if panel.get("type") not in NO_QUERY_PANEL_TYPES
               for t in panel.get("targets", [])]
    for label, selection, allowed, must_see in selections:
        print(f"\nEvery panel's query, {label}:")
        seen = {key: set() for key in must_see}
        for panel, target in targets:
            what = f"{panel['title']} [{target['refId']}]"
            try:
                query = interpolate(target["query"], variables, selection, range_ms,
                                    panel_interval(panel, range_ms))
            except MacroError as e:
                problems.expect(False, f"{what}: macros", str(e))
                continue
            series, error = run_query(servers, info, query)
            if not problems.expect(error is None, f"{what}: runs", f"{error}\n        query: {query}"):
                continue
            points = sum(len(s["rows"]) for s in series)
            problems.expect(has_values(series), f"{what}: {len(series)} series, {points} rows with values",
                            f"no series with a non-null value\n        query: {query}")
            if selection is selections[0][1]:
                for piece, (what_shows, holds) in EXPECTED_FOR_A.items():
                    if piece in target["query"]:
                        problems.expect(holds(series), f"{what}: {what_shows}",
                                        json.dumps(series, ensure_ascii=False)[:600])
            for s in series:
                for key, values in allowed.items():
                    if key in s["tags"] and s["tags"][key] not in values and not (key == "site" and not s["tags"][key]):
                        problems.expect(False, f"{what}: only what was selected",
                                        f"a series with {key} = {s['tags'][key]!r}")
                for key in seen:
                    if s["tags"].get(key):
                        seen[key].add(s["tags"][key])
        for key, wanted in must_see.items():
            problems.expect(wanted <= seen[key], f"the panels together show every selected {key}",
                            f"missing {sorted(wanted - seen[key])}")

    # The checks above can fail: a broken query and an unknown macro are caught.
    print("\nThe checks themselves:")
    panel, target = targets[0]
    broken = target["query"].replace("FROM", "FORM", 1)
    query = interpolate(broken, variables, selections[0][1], range_ms, panel_interval(panel, range_ms))
    problems.expect(run_query(servers, info, query)[1] is not None, "a query broken on purpose is an error")
    try:
        interpolate(target["query"] + " $nosuchmacro", variables, selections[0][1], range_ms, "1m")
        problems.expect(False, "an unknown macro is refused")
    except MacroError:
        problems.expect(True, "an unknown macro is refused")
    query = interpolate(target["query"].replace('"footfall"', '"no_such_measurement"'), variables,
                        selections[0][1], range_ms, "1m")
    problems.expect(not has_values(run_query(servers, info, query)[0]), "a query on nothing has no data")

    return problems.verdict(work, f"{len(targets)} targets of {sum(1 for _ in all_panels(dashboard))} panels "
                                  f"run with data for {len(selections)} selections", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
