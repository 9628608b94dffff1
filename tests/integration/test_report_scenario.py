#!/usr/bin/env python3
"""`tryggctl report` finds the scenarios of seeds/scenarios.ini in a
simulated year: Årby's lamps renewed from 2026-04-20, and Lagerberg's park
lamp out every night from 2026-09-07 to 2026-10-19.

    test_report_scenario.py TRYGGD SOURCE_DIR SERVERS_DIR

tryggctl is the binary next to TRYGGD.  The five gateways of the demo year
(config/demo-year/*.conf: the same sites, sensors and seeds, windows of an
hour, a sample a minute) run at speed 0 through 2026 (local midnights, CET)
into the fixture's influxd, as "Årby <tag>", "Fröslunda <tag>", ... with
`profile =` the real district, so their data are the demo year's.

Why a year and not a few months around the renewal: the renewal changes
what happens after dark (fewer lamp faults, brighter lamps, more people
out), and from May to early August there is almost no dark at 59° N; a
span of March to June holds about six weeks of short nights after the
change, where neither the faults nor the footfall after dark differ from
the other districts' (measured: Årby's differences in differences there
were +1.4 index points and +0.03 h per night, |t| < 0.3).  A year is
five gateways × 8760 windows per sensor: about 5 s here.

Then `tryggctl report --format csv --lang en` over 2026 for those five
districts with a --change at 2026-04-20 for every one of them (Årby's is
the renewal, the others' are placebos: nothing changed there that day) and:

  Årby: the difference in differences is negative for dark hours and for
     fault hours per night, positive for the after-dark footfall index, and
     each is a clear change (|t| >= 3).
  Placebos: for the footfall index none is a clear change and each is at
     most half of Årby's in size.  For dark and fault hours none of
     Fröslunda, Nyfors and Skiftinge is a clear change and Årby's is the
     most negative of all.  (Nyfors' comes out "likely", |t| = 2.3, because
     the mean of the other districts it is held against includes
     Lagerberg's broken lamp in the autumn.)  With the footfall compared
     in passes per day instead of as an index (as report_change.c did at
     first), three of the four placebos came out clear changes, and this
     fails.
  Lagerberg: its lamp did change after 2026-04-20 (six weeks broken): its
     dark and fault hours go up, clearly.
  Lagerberg's broken lamp in its own tables: one fault episode at
     "Gångvägen genom parken" from the night of 2026-09-06 (the lamp goes
     out at 2026-09-07T00:00Z, 02:00 local, that night) to that of
     2026-10-18, mended; on each whole night 2026-09-07..2026-10-17 the
     fault hours equal the site's dark hours within 0.05 h, and both lie
     between the hours the sun is below -6 degrees and below -2 degrees
     at Eskilstuna (computed here).  Why those bounds: with the lamp out,
     the light sensor reads the sky (times 0.7-1 for its placement, times
     0.25-1 for cloud) plus night_lux 1.5 lx (drivers/sim_light.c,
     seeds/districts.ini); at -6 degrees a clear sky gives at most 3.6 lx,
     so it is always dark below 10 lx, and at -2 degrees at least 19 lx,
     so never.  Why 0.05 h: the lamp and the light sensor each sample once
     a minute, so the lamp's fault and the sensor's dark may start and end
     a sample apart (2 minutes a night), and the report rounds to 0.01 h.

Determinism: the five gateways run through the year again under a second
tag, and that report's before and after and its per-day and per-night
figures are the first's, figure for figure: the outcomes above are fixed
by the seeds, not luck.  About 15 s in all here (2 cores).

Exit 0 when all hold, 1 with the list of what did not; the working folder
is kept on failure and printed.
"""

import datetime
import math
import os
import sys
import tempfile
import time
import uuid
import zoneinfo

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import demo_year  # noqa: E402 (beside this file)
from capture import Problems, load_servers  # noqa: E402
from test_report import csv_tables, number  # noqa: E402

ZONE = zoneinfo.ZoneInfo("Europe/Stockholm")
YEAR = ("2026-01-01", "2027-01-01", "2025-12-31T23:00:00Z", "2026-12-31T23:00:00Z")
CHANGE = "2026-04-20"
CHANGED = "Årby"
BROKEN_DISTRICT, BROKEN_SITE = "Lagerberg", "Gångvägen genom parken"
BROKEN_EPISODE = ("2026-09-06", "2026-10-18")
BROKEN_NIGHTS = ("2026-09-07", "2026-10-17")   # whole nights with the lamp out
BROKEN_FROM = datetime.datetime(2026, 9, 7, tzinfo=datetime.timezone.utc).timestamp()
BROKEN_UNTIL = datetime.datetime(2026, 10, 19, tzinfo=datetime.timezone.utc).timestamp()
NIGHT_TOLERANCE_H = 0.05
SUN_LATITUDE, SUN_LONGITUDE = 59.37, 16.51     # gateway/sun.h: Eskilstuna
ALWAYS_DARK_BELOW, NEVER_DARK_ABOVE = -6.0, -2.0

FOOTFALL = "Footfall after dark"
DARK, FAULT = "Dark hours per night", "Fault hours per night"


# ---------------------------------------------------------------- the sun

def sun_elevation(unix_s):
    """Degrees above the horizon at Eskilstuna (NOAA's low-precision
    series, as gateway/sun.c)."""
    jd = unix_s / 86400.0 + 2440587.5
    c = (jd - 2451545.0) / 36525.0
    l0 = math.fmod(280.46646 + c * (36000.76983 + c * 0.0003032), 360.0)
    m = math.radians(357.52911 + c * (35999.05029 - 0.0001537 * c))
    e = 0.016708634 - c * (0.000042037 + 0.0000001267 * c)
    centre = (math.sin(m) * (1.914602 - c * (0.004817 + 0.000014 * c)) + math.sin(2 * m) * (0.019993 - 0.000101 * c)
              + math.sin(3 * m) * 0.000289)
    omega = math.radians(125.04 - 1934.136 * c)
    apparent = math.radians(l0 + centre - 0.00569 - 0.00478 * math.sin(omega))
    mean_obliquity = 23.0 + (26.0 + (21.448 - c * (46.815 + c * (0.00059 - c * 0.001813))) / 60.0) / 60.0
    obliquity = math.radians(mean_obliquity + 0.00256 * math.cos(omega))
    declination = math.asin(math.sin(obliquity) * math.sin(apparent))
    y = math.tan(obliquity / 2) ** 2
    l0r = math.radians(l0)
    eot = 4 * math.degrees(y * math.sin(2 * l0r) - 2 * e * math.sin(m) + 4 * e * y * math.sin(m) * math.cos(2 * l0r)
                           - 0.5 * y * y * math.sin(4 * l0r) - 1.25 * e * e * math.sin(2 * m))
    minutes = math.fmod(unix_s / 60.0, 1440.0)
    hour_angle = math.radians((minutes + eot + 4 * SUN_LONGITUDE) / 4 - 180)
    lat = math.radians(SUN_LATITUDE)
    cos_zenith = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(declination) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, cos_zenith))))


def hours_below(night, degrees, since=None, until=None):
    """Hours of the night (its evening's local date, local noon to noon)
    with the sun below `degrees`, minute by minute; only from since and
    until until (Unix seconds) when given."""
    day = datetime.date.fromisoformat(night)
    noon = datetime.datetime(day.year, day.month, day.day, 12, tzinfo=ZONE).timestamp()
    after = day + datetime.timedelta(days=1)
    end = datetime.datetime(after.year, after.month, after.day, 12, tzinfo=ZONE).timestamp()
    start, stop = int(max(noon, since or noon)), int(min(end, until or end))
    minutes = sum(sun_elevation(t + 30) < degrees for t in range(start, stop, 60))
    return minutes / 60


# ------------------------------------------------------------------- runs

def run_five(p, tryggd, source, info, work, gateways, tag, span):
    """The five gateways over span (since, until, start, end) as "<district>
    <tag>"; {real district: report name}."""
    names, runs = {}, []
    for gateway in gateways:
        names[gateway.district] = f"{gateway.district} {tag}"
        config = demo_year.write(gateway, os.path.join(work, f"{gateway.name}-{tag}.conf"), work, source, info,
                                 f"scenario-{tag}-{gateway.id}", names[gateway.district], span[2], span[3],
                                 comment="Written by tests/integration/test_report_scenario.py")
        runs.append((config, os.path.join(work, f"{gateway.name}-{tag}.log")))
    results, seconds = demo_year.run_all(tryggd, runs)
    print(f"  five gateways, {span[0]} to {span[1]}: {seconds:.1f} s")
    for config, code in results:
        p.expect(code == 0, f"tryggd -c {os.path.basename(config)} ran to its end", f"exit {code}")
    return names


def report_csv(p, tryggctl, info, work, names, span, changes, file_name):
    args = ["--influx", info["influx_url"], "--db", info["database"], "--since", span[0], "--until", span[1],
            "--lang", "en", "--format", "csv"]
    for name in names.values():
        args += ["--district", name]
    for district, text in changes:
        args += ["--change", f"{names[district]}={CHANGE}:{text}"]
    path = os.path.join(work, file_name)
    started = time.monotonic()
    status, _ = demo_year.report(tryggctl, *args, "-o", path)
    print(f"    {time.monotonic() - started:.1f} s")
    if not p.expect(status == 0 and os.path.exists(path), f"the report {file_name} is written", f"exit {status}"):
        return {}
    with open(path, encoding="utf-8", newline="") as f:
        return csv_tables(f.read())


def changes_of(tables, names):
    """{real district: {figure: row}} from the change_N tables."""
    real = {name: district for district, name in names.items()}
    out = {}
    for table, rows in tables.items():
        if not table.startswith("change_"):
            continue
        for row in rows:
            figure = FOOTFALL if row["Figure"].startswith(FOOTFALL) else row["Figure"]
            out.setdefault(real.get(row["district"], row["district"]), {})[figure] = row
    return out


def did(row):
    return number(row.get("Difference in differences", "")) if row else None


def t_of(row):
    return number(row.get("Welch's t", "")) if row else None


def clear(row):
    t = t_of(row)
    return t is not None and abs(t) >= 3


def describe(row):
    if not row:
        return "no row"
    t = row.get("Welch's t")
    return f"DiD {row.get('Difference in differences')}, t {t}, {row.get('How sure')}"


# ------------------------------------------------------------------ checks

def check_renewal(p, changes):
    arby = changes.get(CHANGED, {})
    for figure, sign in ((DARK, -1), (FAULT, -1), (FOOTFALL, +1)):
        row = arby.get(figure)
        value = did(row)
        p.expect(value is not None and value * sign > 0 and clear(row),
                 f"{CHANGED}: {figure}: difference in differences {'negative' if sign < 0 else 'positive'}, "
                 "a clear change", describe(row))
    placebos = [d for d in changes if d != CHANGED]
    p.expect(len(placebos) == 4, "four placebo changes in the report", f"{sorted(changes)}")
    reference = did(arby.get(FOOTFALL)) or 0
    for district in placebos:
        row = changes[district].get(FOOTFALL)
        value = did(row)
        p.expect(value is not None and not clear(row) and abs(value) <= abs(reference) / 2,
                 f"placebo {district}: {FOOTFALL}: not a clear change, at most half of {CHANGED}'s ({reference})",
                 describe(row))
    for figure in (DARK, FAULT):
        reference = did(arby.get(figure))
        for district in placebos:
            row = changes[district].get(figure)
            value = did(row)
            if district == BROKEN_DISTRICT:
                p.expect(value is not None and value > 0 and clear(row),
                         f"{district} (its lamp broken for six weeks after {CHANGE}): {figure} up, clearly",
                         describe(row))
                continue
            p.expect(value is not None and not clear(row) and reference is not None and value > reference,
                     f"placebo {district}: {figure}: not a clear change, above {CHANGED}'s ({reference})",
                     describe(row))


def site_column(rows, site):
    """The column of rows (a district's own night table) that is the site's."""
    for key in (rows[0] if rows else {}):
        if key == site or key.startswith(site + " ("):
            return key
    return None


def check_broken_lamp(p, tables, district_name):
    episodes = [r for r in tables.get("fault_episodes", []) if r["district"] == district_name]
    long_ones = [r for r in episodes if (number(r.get("Nights", "")) or 0) > 3]
    p.expect([(r["Site"], r["First night"], r["Last night"], r["Nights"], r["State"]) for r in long_ones] ==
             [(BROKEN_SITE, BROKEN_EPISODE[0], BROKEN_EPISODE[1], "43", "Mended")],
             f"{BROKEN_DISTRICT}: one long fault episode, {BROKEN_SITE}, nights {BROKEN_EPISODE[0]} to "
             f"{BROKEN_EPISODE[1]} (43), mended", f"{long_ones}")
    dark_rows = [r for r in tables.get("dark_hours_per_night", []) if r["district"] == district_name]
    fault_rows = [r for r in tables.get("fault_hours_per_night", []) if r["district"] == district_name]
    dark_column, fault_column = site_column(dark_rows, BROKEN_SITE), site_column(fault_rows, BROKEN_SITE)
    if not p.expect(dark_column and fault_column, f"{BROKEN_DISTRICT}: night tables with {BROKEN_SITE}",
                    f"{list(dark_rows[0]) if dark_rows else 'none'}"):
        return
    dark = {r["Night (its evening)"]: number(r[dark_column]) for r in dark_rows}
    fault = {r["Night (its evening)"]: number(r[fault_column]) for r in fault_rows}
    first = datetime.date.fromisoformat(BROKEN_NIGHTS[0])
    last = datetime.date.fromisoformat(BROKEN_NIGHTS[1])
    bad = []
    nights = 0
    night = first
    while night <= last:
        key = night.isoformat()
        low, high = hours_below(key, ALWAYS_DARK_BELOW), hours_below(key, NEVER_DARK_ABOVE)
        d, f = dark.get(key), fault.get(key)
        ok = (d is not None and f is not None and abs(d - f) <= NIGHT_TOLERANCE_H
              and low - NIGHT_TOLERANCE_H <= f <= high + NIGHT_TOLERANCE_H)
        if not ok:
            bad.append(f"{key}: fault {f}, dark {d}, sun below -6°: {low:.2f} h, below -2°: {high:.2f} h")
        nights += 1
        night += datetime.timedelta(days=1)
    sample = BROKEN_NIGHTS[0]
    print(f"    e.g. the night of {sample}: fault {fault.get(sample)} h, dark {dark.get(sample)} h; the sun below "
          f"-6°: {hours_below(sample, -6):.2f} h, below -2°: {hours_below(sample, -2):.2f} h")
    p.expect(nights == 41 and not bad,
             f"{BROKEN_DISTRICT}: on each of the {nights} whole nights with the lamp out, fault hours = dark hours "
             f"(±{NIGHT_TOLERANCE_H} h), between the sun's hours below -6° and below -2°", "; ".join(bad[:5]))
    # The nights it went out and was mended, at 00:00Z (02:00 local): a
    # working lamp keeps the place lit, so the dark hours are the fault
    # hours, and both are the part of the night after or before that.
    for partial, since, until, what in ((BROKEN_EPISODE[0], BROKEN_FROM, None, "after it went out"),
                                        (BROKEN_EPISODE[1], None, BROKEN_UNTIL, "before it was mended")):
        d, f = dark.get(partial), fault.get(partial)
        low = hours_below(partial, ALWAYS_DARK_BELOW, since, until)
        high = hours_below(partial, NEVER_DARK_ABOVE, since, until)
        p.expect(d is not None and f is not None and abs(d - f) <= NIGHT_TOLERANCE_H
                 and low - NIGHT_TOLERANCE_H <= f <= high + NIGHT_TOLERANCE_H and f < hours_below(partial, 0) - 1,
                 f"{BROKEN_DISTRICT}: the night of {partial}: fault hours = dark hours, the part of the night "
                 f"{what} ({low:.2f} to {high:.2f} h)", f"fault {f}, dark {d}")


def per_day(tables, names):
    """{(table, real district, day): row values} of the per-day and per-night tables."""
    real = {name: district for district, name in names.items()}
    out = {}
    for table, key in (("footfall_per_day", "Date"), ("dark_hours_per_night", "Night (its evening)"),
                       ("fault_hours_per_night", "Night (its evening)")):
        for row in tables.get(table, []):
            if row["district"] in real:
                out[(table, real[row["district"]], row[key])] = tuple(v for k, v in row.items()
                                                                     if k not in ("table", "district"))
    return out


def main(argv):
    tryggd, source, _, _, info = load_servers(argv)
    tryggctl = os.path.join(os.path.dirname(tryggd), "tryggctl")
    p = Problems()
    work = tempfile.mkdtemp(prefix="tryggd-report-scenario-")
    tag = uuid.uuid4().hex[:6]
    started = time.monotonic()
    print(f"work {work}, tag {tag}")
    gateways = demo_year.read(source)
    five = ["Fröslunda", "Lagerberg", "Nyfors", "Skiftinge", "Årby"]
    p.expect(sorted(g.district for g in gateways) == sorted(five),
             "config/demo-year: a gateway for each of the five districts", f"{[g.district for g in gateways]}")
    lagerberg = [g for g in gateways if g.district == BROKEN_DISTRICT]
    p.expect(bool(lagerberg) and "park-lampa" in [name for name, _ in lagerberg[0].sensors],
             "config/demo-year: Lagerberg has park-lampa (the scenario's broken lamp)")

    names = run_five(p, tryggd, source, info, work, gateways, f"{tag}y", YEAR)
    changes = [(CHANGED, "Nya armaturer")] + [(d, "Placebo") for d in sorted(names) if d != CHANGED]
    tables = report_csv(p, tryggctl, info, work, names, YEAR, changes, "year.csv")
    found = changes_of(tables, names)
    for district in sorted(found):
        for figure in (FOOTFALL, DARK, FAULT):
            print(f"    {district:10} {figure:22} {describe(found[district].get(figure))}")
    check_renewal(p, found)
    check_broken_lamp(p, tables, names[BROKEN_DISTRICT])

    print("-- the same year again, under another tag")
    again_names = run_five(p, tryggd, source, info, work, gateways, f"{tag}z", YEAR)
    again = report_csv(p, tryggctl, info, work, again_names, YEAR, changes, "again.csv")
    found_again = changes_of(again, again_names)
    strip = lambda found: {(d, f): tuple(v for k, v in row.items() if k != "district")  # noqa: E731
                           for d, figures in found.items() for f, row in figures.items()}
    p.expect(strip(found_again) == strip(found) and len(strip(found)) == 15,
             "the second run's before and after: the same 15 rows, figure for figure")
    year_days, again_days = per_day(tables, names), per_day(again, again_names)
    differ = [k for k in again_days if year_days.get(k) != again_days[k]]
    p.expect(len(again_days) == 5 * 365 * 3 and not differ,
             "the second run's footfall per day and dark and fault hours per night: the same for every day",
             f"{len(again_days)} rows; differ: {differ[:5]}")
    print(f"all in {time.monotonic() - started:.1f} s")
    return p.verdict(work, "the report sees Årby's renewal, no change in the other districts, and Lagerberg's "
                           "broken lamp", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
