#!/usr/bin/env python3
"""`tryggctl report` against the fixture's influxd, on windows tryggd put there.

    test_report.py TRYGGD SOURCE_DIR SERVERS_DIR

tryggctl is the binary next to TRYGGD.  Two simulated gateways of this run's
own (districts and gateway ids with a random tag, so the other tests' points
in the shared database never count) run at speed 0 over three local days,
2026-11-02 to 2026-11-04 (Europe/Stockholm, CET: from 2026-11-01T23:00Z):

  A  "Årby <tag>": one run; its lamp is made faulty two evenings in a row
     (inject lamp_fault), which is one fault episode of two nights.
  B  "Fröslunda <tag>": two runs with the same state_dir, the second
     starting four hours after the first ended (2026-11-03 05:00–09:00 UTC),
     and its counter failed for 20 minutes (coverage below 1).

Then `tryggctl report` for both districts, as HTML (Swedish) and CSV
(English), and the CSV's numbers are held against what the test computes
itself from the raw points and from direct InfluxQL:

  - raw footfall per local day, per district (Python over the raw points,
    and InfluxQL's GROUP BY time(1d, 23h), local midnight in CET);
  - scaled footfall per day (an hour's count over its covered share, the
    share from the points' coverage), empty for the day with the gap;
  - dark hours and fault hours per night (local noon to noon) and site;
    fault hours per site; the fault episode;
  - windows present per gateway and day, and expected (3 sensors × hours ×
    60); exactly the four stopped hours as B's only gap, none for A;
  - the HTML: no <script, nothing that loads (no src/href/url() to
    http(s), no <link>, <img>, <iframe>, @import), Å, Ä and Ö present;
  - exit statuses: 64 for bad usage, 69 for a store that does not answer.

Exit 0 when all hold, 1 with the list of what did not; the working folder
is kept on failure and printed.
"""

import csv
import datetime
import io
import os
import re
import subprocess
import sys
import tempfile
import uuid
import zoneinfo

# Beside this file.
import capture
from capture import Problems, load_servers

ZONE = zoneinfo.ZoneInfo("Europe/Stockholm")
SINCE, UNTIL = "2026-11-02", "2026-11-05"
START = "2026-11-01T23:00:00Z"          # local midnight of SINCE (CET)
END = "2026-11-04T23:00:00Z"            # local midnight of UNTIL
GAP = ("2026-11-03T05:00:00Z", "2026-11-03T09:00:00Z")
WINDOW_S = 60
THRESHOLD = 0.5
RUN_TIMEOUT_S = 240


def ms(text):
    return capture.parse_iso(text)


def local(ms_value):
    return datetime.datetime.fromtimestamp(ms_value / 1000, ZONE)


def night_of(ms_value):
    """The night (its evening's local date) an instant belongs to."""
    t = local(ms_value)
    return (t.date() if t.hour >= 12 else t.date() - datetime.timedelta(days=1)).isoformat()


def night_hours(night):
    """Hours from local noon of night to the next local noon."""
    day = datetime.date.fromisoformat(night)
    noon = datetime.datetime(day.year, day.month, day.day, 12, tzinfo=ZONE)
    after = noon + datetime.timedelta(days=1)
    after = datetime.datetime(after.year, after.month, after.day, 12, tzinfo=ZONE)
    return round((after - noon).total_seconds() / 3600)


def write_config(path, work, source, info, gateway_id, district, site, start, end, injects):
    sensors = {
        "ljus": ("light", {"seed": "41", "profile": "Årby", "dark_lux": "10"}),
        "lampa": ("lamp", {"light": "ljus", "seed": "42", "profile": "Årby", **injects.get("lampa", {})}),
        "passage": ("footfall", {"seed": "43", "profile": "Årby", **injects.get("passage", {})}),
    }
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", f"district = {district}", f"site = {site}", f"window = {WINDOW_S}",
                     f"state_dir = {os.path.join(work, 'state-' + gateway_id)}"]),
        ("simulation", [f"start = {start}", "speed = 0", f"end = {end}",
                        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}"]),
        ("influx", [f"url = {info['influx_url']}", "api = v1", f"database = {info['database']}"]),
        *capture.sim_sensors(sensors),
    ], comment="Written by tests/integration/test_report.py")


def run_tryggd(tryggd, config, log):
    with open(log, "a", encoding="utf-8") as out:
        proc = subprocess.run([tryggd, "-c", config], stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT_S,
                              env={k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "TRYGGD_DEBUG")})
    return proc.returncode


def run_report(tryggctl, *args):
    proc = subprocess.run([tryggctl, "report", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=120)
    print(f"  $ tryggctl report {' '.join(args)}  -> {proc.returncode}")
    for line in proc.stderr.splitlines()[:10]:
        print(f"    {line}")
    return proc.returncode, proc.stdout, proc.stderr


def csv_tables(text):
    """{table name: [row dicts]} from the report's CSV (a header row per
    section, every row starting with table and district)."""
    tables, header = {}, None
    for row in csv.reader(io.StringIO(text, newline="")):
        if not row:
            header = None
            continue
        if header is None:
            header = row
            continue
        tables.setdefault(row[0], []).append(dict(zip(header, row)))
    return tables


def number(text):
    return None if text == "" else float(text)


def points(servers, info, measurement, fields, gateway_id):
    q = (f'SELECT {", ".join(servers.quote_ident(f) for f in fields)} FROM {servers.quote_ident(measurement)} '
         f'WHERE "gateway" = {servers.quote_string(gateway_id)}')
    rows = []
    for series in servers.influx_series(info, q, epoch="ms"):
        rows.extend(series["rows"])
    return rows


def expected_figures(servers, info, gateway_id):
    """What the report should say of one gateway, computed here."""
    figures = {"raw": {}, "hours": {}, "dark": {}, "fault": {}, "night_coverage": {}, "fault_night_coverage": {},
               "windows": {}, "hours_with_points": set()}
    for row in points(servers, info, "footfall", ["count", "coverage"], gateway_id):
        day = local(row["time"]).date().isoformat()
        figures["raw"][day] = figures["raw"].get(day, 0) + row["count"]
        hour = row["time"] // 3600000
        count, coverage = figures["hours"].get(hour, (0, 0.0))
        figures["hours"][hour] = (count + row["count"], coverage + row["coverage"])
    for measurement, field, key, cover in (("light", "dark_s", "dark", "night_coverage"),
                                           ("lamp", "fault_s", "fault", "fault_night_coverage")):
        for row in points(servers, info, measurement, [field, "coverage"], gateway_id):
            night = night_of(row["time"])
            figures[key][night] = figures[key].get(night, 0) + row[field] / 3600
            figures[cover][night] = figures[cover].get(night, 0) + row["coverage"] * WINDOW_S
    for measurement in ("footfall", "light", "lamp"):
        for row in points(servers, info, measurement, ["coverage"], gateway_id):
            day = local(row["time"]).date().isoformat()
            figures["windows"][day] = figures["windows"].get(day, 0) + 1
            figures["hours_with_points"].add(row["time"] // 3600000)
    # Scaled: each hour over its covered share, a day only when every hour is known.
    scaled = {}
    start_hour = ms(START) // 3600000
    for hour in range(start_hour, ms(END) // 3600000):
        day = local(hour * 3600000).date().isoformat()
        count, coverage = figures["hours"].get(hour, (0, 0.0))
        share = min(1.0, coverage * WINDOW_S / 3600)
        if share < THRESHOLD or share <= 0:
            scaled[day] = None
        elif scaled.get(day, 0) is not None:
            scaled[day] = scaled.get(day, 0) + count / share
    figures["scaled"] = scaled
    return figures


def check_numbers(p, tables, district, site, figures, gateway_id, expect_gap):
    days = ["2026-11-02", "2026-11-03", "2026-11-04"]
    rows = {r["Date"]: r for r in tables.get("footfall_per_day", []) if r["district"] == district}
    p.expect(sorted(rows) == days, f"{district}: footfall_per_day has the three local days", f"{sorted(rows)}")
    for day in days:
        row = rows.get(day, {})
        p.expect(number(row.get("Footfall (raw)", "")) == figures["raw"].get(day),
                 f"{district} {day}: raw footfall = the points' sum", f"{row.get('Footfall (raw)')} vs {figures['raw'].get(day)}")
        want = figures["scaled"].get(day)
        got = number(row.get("Footfall (scaled)", ""))
        p.expect((want is None and got is None) or (want is not None and got is not None and abs(got - want) <= 0.5),
                 f"{district} {day}: scaled footfall as computed here ({'missing' if want is None else round(want)})",
                 f"{got}")

    site_column = site
    night_rows = {r["Night (its evening)"]: r for r in tables.get("dark_hours_per_night", []) if r["district"] == district}
    fault_rows = {r["Night (its evening)"]: r for r in tables.get("fault_hours_per_night", []) if r["district"] == district}
    for night in days:
        span = night_hours(night) * 3600
        for key, cover, table, what in (("dark", "night_coverage", night_rows, "dark hours"),
                                        ("fault", "fault_night_coverage", fault_rows, "fault hours")):
            share = figures[cover].get(night, 0) / span
            want = round(figures[key].get(night, 0), 2) if share >= THRESHOLD else None
            got = number(table.get(night, {}).get(site_column, ""))
            p.expect((want is None and got is None) or (want is not None and got is not None and abs(got - want) <= 0.006),
                     f"{district} night of {night}: {what} {want} (covered {share:.2f})", f"report: {got}")

    completeness = {r["Date"]: r for r in tables.get("completeness_per_day", [])
                    if r["Gateway"] == gateway_id and r["district"] == district}
    for day in days:
        row = completeness.get(day, {})
        hours = 24
        p.expect(number(row.get("Present", "")) == figures["windows"].get(day, 0),
                 f"{gateway_id} {day}: windows present = points in the store ({figures['windows'].get(day, 0)})",
                 f"{row.get('Present')}")
        p.expect(number(row.get("Expected", "")) == 3 * hours * 3600 / WINDOW_S,
                 f"{gateway_id} {day}: windows expected = 3 sensors × 24 h × 60", f"{row.get('Expected')}")
        p.expect(row.get("Window from") == "the store" or row.get("Window from") == "estimated",
                 f"{gateway_id} {day}: says where the window came from", f"{row.get('Window from')}")
    gaps = [r for r in tables.get("gaps", []) if r["Gateway"] == gateway_id and r["district"] == district]
    if expect_gap:
        p.expect([(r["From (UTC)"], r["To (UTC)"], r["Hours"]) for r in gaps] == [(GAP[0], GAP[1], "4")],
                 f"{gateway_id}: exactly the four stopped hours are a gap", f"{gaps}")
        p.expect(number(completeness.get("2026-11-03", {}).get("Hours missing", "")) == 4,
                 f"{gateway_id}: 4 hours missing on 2026-11-03", f"{completeness.get('2026-11-03')}")
        missing = {h for h in range(ms(START) // 3600000, ms(END) // 3600000) if h not in figures["hours_with_points"]}
        p.expect(missing == set(range(ms(GAP[0]) // 3600000, ms(GAP[1]) // 3600000)),
                 f"{gateway_id}: the store itself lacks exactly those hours", f"{sorted(missing)}")
    else:
        p.expect(gaps == [], f"{gateway_id}: no gaps", f"{gaps}")


def influx_daily(servers, info, gateway_id):
    """Raw footfall per local day by InfluxQL itself: days from 23:00 UTC (CET midnight)."""
    q = (f'SELECT sum("count") FROM "footfall" WHERE "gateway" = {servers.quote_string(gateway_id)} '
         f"AND time >= '{START}' AND time < '{END}' GROUP BY time(1d, 23h)")
    out = {}
    for series in servers.influx_series(info, q, epoch="ms"):
        for row in series["rows"]:
            if row["sum"] is not None:
                out[local(row["time"]).date().isoformat()] = row["sum"]
    return out


def check_html(p, html):
    p.expect("<script" not in html.lower(), "HTML: no <script")
    loading = re.findall(r'''(?:src|href|xlink:href|action)\s*=\s*["']?\s*(?:https?:)?//''', html, re.I)
    loading += re.findall(r"url\(\s*['\"]?\s*(?:https?:)?//", html, re.I)
    loading += re.findall(r"<(?:link|img|iframe|object|embed)\b|@import", html, re.I)
    p.expect(not loading, "HTML: nothing that loads from anywhere", f"{loading[:5]}")
    for letter in "ÅÄÖ":
        p.expect(letter in html, f"HTML: contains {letter}")
    p.expect('<meta name="viewport"' in html and "@media print" in html and "viewBox=" in html,
             "HTML: viewport, print styles, scalable charts")
    p.expect('<meta charset="utf-8">' in html, "HTML: UTF-8")


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    tryggctl = os.path.join(os.path.dirname(tryggd), "tryggctl")
    p = Problems()
    work = tempfile.mkdtemp(prefix="tryggd-report-")
    tag = uuid.uuid4().hex[:6]
    district_a, district_b = f"Årby {tag}", f"Fröslunda {tag}"
    site_a, site_b = "Torget 3, ingång=öst", "Ängsvägen"
    gateway_a, gateway_b = f"report-a-{tag}", f"report-b-{tag}"
    print(f"work {work}, districts {district_a!r} and {district_b!r}")

    config_a = os.path.join(work, "a.conf")
    write_config(config_a, work, source, info, gateway_a, district_a, site_a, START, END,
                 {"lampa": {"inject": "lamp_fault@2026-11-02T17:00:00Z/3h, lamp_fault@2026-11-03T17:00:00Z/2h"}})
    p.expect(run_tryggd(tryggd, config_a, os.path.join(work, "a.log")) == 0, "tryggd A ran to its end")
    for number_, (start, end) in enumerate(((START, GAP[0]), (GAP[1], END))):
        config_b = os.path.join(work, f"b{number_}.conf")
        write_config(config_b, work, source, info, gateway_b, district_b, site_b, start, end,
                     {"passage": {"inject": "failed@2026-11-02T10:00:00Z/20min"}} if number_ == 0 else {})
        p.expect(run_tryggd(tryggd, config_b, os.path.join(work, "b.log")) == 0, f"tryggd B run {number_ + 1} ran to its end")

    common = ["--influx", info["influx_url"], "--db", info["database"], "--since", SINCE, "--until", UNTIL,
              "--district", district_a, "--district", district_b]
    html_path, csv_path = os.path.join(work, "report.html"), os.path.join(work, "report.csv")
    status, _, _ = run_report(tryggctl, *common, "--change", f"{district_a}=2026-11-03:Nya lampor", "-o", html_path)
    p.expect(status == 0, "the HTML report is written", f"exit {status}")
    status, _, _ = run_report(tryggctl, *common, "--lang", "en", "--format", "csv", "-o", csv_path)
    p.expect(status == 0, "the CSV report is written", f"exit {status}")
    if os.path.exists(csv_path):
        with open(csv_path, encoding="utf-8", newline="") as f:
            tables = csv_tables(f.read())
        for district, site, gateway, gap in ((district_a, site_a, gateway_a, False), (district_b, site_b, gateway_b, True)):
            figures = expected_figures(servers, info, gateway)
            daily = influx_daily(servers, info, gateway)
            p.expect(daily == {d: v for d, v in figures["raw"].items()},
                     f"{district}: InfluxQL's daily sums agree with the points", f"{daily} vs {figures['raw']}")
            check_numbers(p, tables, district, site, figures, gateway, gap)
        sites = {r["Site"]: r for r in tables.get("fault_sites", []) if r["district"] == "All districts"}
        fault = number(sites.get(site_a, {}).get("Fault hours", "")) or 0
        p.expect(fault > 0, f"{site_a}: fault hours over the period above 0", f"{sites}")
        episodes = [r for r in tables.get("fault_episodes", []) if r["district"] == district_a]
        p.expect(len(episodes) >= 1 and episodes[0]["First night"] == "2026-11-02" and episodes[0]["Nights"] in ("2", "3"),
                 "the injected lamp faults make one episode from the night of 2026-11-02", f"{episodes}")
        p.expect(len([r for r in tables.get("summary", [])]) == 3, "summary: both districts and all", f"{tables.get('summary')}")
    if os.path.exists(html_path):
        with open(html_path, encoding="utf-8") as f:
            html = f.read()
        check_html(p, html)
        p.expect("Nya lampor" in html and "Skillnad i skillnader" in html, "HTML: the before/after of --change")
        p.expect(html.count("<svg") >= 10, "HTML: charts", f"{html.count('<svg')}")

    status, _, _ = run_report(tryggctl, "--since", SINCE, "-o", "-")
    p.expect(status == 64, "missing options: exit 64", f"{status}")
    status, _, err = run_report(tryggctl, "--influx", "http://127.0.0.1:9", "--since", SINCE, "--until", UNTIL,
                                "-o", os.path.join(work, "none.html"))
    p.expect(status == 69 and "127.0.0.1:9" in err, "a store that does not answer: exit 69, named", f"{status}")
    return p.verdict(work, "tryggctl report's numbers are the store's", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
