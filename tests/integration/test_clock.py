#!/usr/bin/env python3
"""Clock sanity: a clock that is not synchronised stamps no window, and a
step of the clock neither loses nor doubles one.  Against the real store.

    test_clock.py TRYGGD SOURCE_DIR SERVERS_DIR

Four simulations at speed 0 (as fast as the store takes them), three sim
sensors and the gateway's own point per window, each its own gateway id:

  unsynced   clock_synchronised_at = start + 10 min, 30 min run: no window
             before it, every window after it exactly once; every gateway
             point says unstamped_windows = 10; the log says so.
  back       clock_step = start + 20 min / -1h, the clock then reads from
             05:20 to the end at 06:40 (1 h 40 min run): every window from
             06:00 to 06:39 exactly once, and the ones before the step hold
             exactly what a run without the step (`baseline`, stopped at
             the step) stored, so none was replaced; the 60 windows from
             05:20 to 06:19 after the step are not stamped, counted in
             unstamped_windows (0 on the points before, 60 after).
  forward    clock_step = start + 20 min / +30min, end 07:10: windows from
             06:00 to 06:19 and from 06:50 (aligned to the new clock) to
             07:09, none in the half hour skipped, nothing twice, nothing
             counted unstamped.

What the store holds is checked window by window, per series.  Exit 0 when
everything holds, 1 with the list of what did not.
"""

import os
import subprocess
import sys
import uuid

import capture  # noqa: E402 (beside this file)
from capture import Problems, load_servers, parse_iso  # noqa: E402
from stored_windows import GATEWAY, influx_windows  # noqa: E402

WINDOW_MS = 60000
SENSORS = {
    "sky": ("light", {"interval": "5", "seed": "31"}),
    "lamp-1": ("lamp", {"interval": "10", "light": "sky", "seed": "32"}),
    "door": ("footfall", {"seed": "33"}),
}
MEASUREMENT = {"sky": "light", "lamp-1": "lamp", "door": "footfall"}
START = "2026-11-02T06:00:00Z"
TIMEOUT_S = 120


def minutes(start_ms, first, last):
    """Window starts from start + first min up to start + last min (exclusive)."""
    return [start_ms + m * WINDOW_MS for m in range(first, last)]


def run(tryggd, source, servers, info, work, name, end, clock_keys):
    """Runs one simulation; (gateway id, log text)."""
    gateway_id = f"clock-{name}-{uuid.uuid4().hex[:8]}"
    directory = os.path.join(work, name)
    os.makedirs(directory)
    config = os.path.join(directory, "tryggd.conf")
    capture.write_config(config, [
        ("gateway", [f"id = {gateway_id}", "district = Årby", "window = 60",
                     f"state_dir = {os.path.join(directory, 'state')}"]),
        ("simulation", [f"start = {START}", f"end = {end}", "speed = 0",
                        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}", *clock_keys]),
        ("influx", [f"url = {info['influx_url']}", f"database = {info['database']}"]),
        *capture.sim_sensors(SENSORS),
    ], comment="Written by tests/integration/test_clock.py")
    log_path = os.path.join(directory, "tryggd.log")
    with open(log_path, "wb") as log:
        status = subprocess.run([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, timeout=TIMEOUT_S).returncode
    with open(log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if status != 0:
        sys.exit(f"FAIL: {name}: tryggd exited {status}; {log_path}:\n{text[-3000:]}")
    print(f"{name}: gateway {gateway_id}")
    return gateway_id, text


def stored(p, servers, info, name, gateway_id):
    found, problems = influx_windows(servers, info, gateway_id)
    p.expect(not problems, f"{name}: count() agrees with SELECT", "; ".join(problems[:3]))
    return found


def points(servers, info, gateway_id, measurement):
    """{window start: {field: value}} of one measurement."""
    where = f'"gateway" = {servers.quote_string(gateway_id)}'
    rows = [row for s in servers.influx_series(
        info, f'SELECT * FROM {servers.quote_ident(measurement)} WHERE {where}', epoch="ms") for row in s["rows"]]
    skip = {"time", "gateway", "district", "site", "sensor"}
    return {row["time"]: {k: v for k, v in row.items() if k not in skip and v is not None} for row in rows}


def expect_windows(p, name, found, expected):
    for key in [*SENSORS, GATEWAY]:
        got = found.get(key, [])
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        twice = sorted({t for t in got if got.count(t) > 1})
        p.expect(not missing and not extra and not twice,
                 f"{name}: {key}: exactly the {len(expected)} windows expected, each once",
                 f"missing {[capture_min(t) for t in missing][:5]}, unexpected {[capture_min(t) for t in extra][:5]}, "
                 f"twice {[capture_min(t) for t in twice][:5]}")


START_MS = parse_iso(START)


def capture_min(t):
    return f"start{(t - START_MS) / 60000:+g}min"


def expect_unstamped(p, name, gateway_points, expected_of):
    wrong = {capture_min(t): f["unstamped_windows"] for t, f in gateway_points.items()
             if f.get("unstamped_windows") != expected_of(t)}
    p.expect(not wrong, f"{name}: each gateway point's unstamped_windows as the windows dropped before it",
             f"{dict(list(wrong.items())[:5])}")


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    work = os.path.join(os.path.dirname(servers_dir), f"clock-{uuid.uuid4().hex[:8]}")
    os.makedirs(work)
    p = Problems()
    start = START_MS

    # ---- not synchronised for the first 10 minutes
    gw, log = run(tryggd, source, servers, info, work, "unsynced", "2026-11-02T06:30:00Z",
                  ["clock_synchronised_at = 2026-11-02T06:10:00Z"])
    expect_windows(p, "unsynced", stored(p, servers, info, "unsynced", gw), minutes(start, 10, 30))
    expect_unstamped(p, "unsynced", points(servers, info, gw, "gateway"), lambda t: 10)
    p.expect("the clock is not synchronised" in log and "10 windows were not stamped" in log,
             "unsynced: the log says the clock is not synchronised, then that 10 windows were not stamped")
    p.expect("10 windows not stamped (clock)" in log, "unsynced: the stop's summary counts them")

    # ---- an hour back at start + 20 min, against the same run without it
    base_gw, _ = run(tryggd, source, servers, info, work, "baseline", "2026-11-02T06:20:00Z", [])
    gw, log = run(tryggd, source, servers, info, work, "back", "2026-11-02T06:40:00Z",
                  ["clock_step = 2026-11-02T06:20:00Z/-1h"])
    expect_windows(p, "back", stored(p, servers, info, "back", gw), minutes(start, 0, 40))
    step_ms = start + 20 * WINDOW_MS
    for sensor, measurement in MEASUREMENT.items():
        before = {t: f for t, f in points(servers, info, gw, measurement).items() if t < step_ms}
        base = points(servers, info, base_gw, measurement)
        differ = [capture_min(t) for t in sorted(set(before) | set(base)) if before.get(t) != base.get(t)]
        p.expect(bool(base) and not differ,
                 f"back: {sensor}: the {len(base)} windows before the step hold what the run without it stored",
                 f"differ at {differ[:5]}")
    # The sim driver repeats itself for a repeated hour: a window stamped
    # again would hold the same values, but the gateway point would not.
    before = {t: f["uptime_s"] for t, f in points(servers, info, gw, "gateway").items() if t < step_ms}
    base = {t: f["uptime_s"] for t, f in points(servers, info, base_gw, "gateway").items()}
    p.expect(before == base, "back: the gateway points before the step are the first ones (uptime_s as without it)",
             f"{sorted(set(before.items()) ^ set(base.items()))[:4]}")
    expect_unstamped(p, "back", points(servers, info, gw, "gateway"), lambda t: 0 if t < step_ms else 60)
    p.expect("stepped back by 3600 s" in log and "60 windows in between were not stamped" in log,
             "back: the log says the step and the 60 windows not stamped")

    # ---- half an hour forward at start + 20 min
    gw, log = run(tryggd, source, servers, info, work, "forward", "2026-11-02T07:10:00Z",
                  ["clock_step = 2026-11-02T06:20:00Z/+30min"])
    expect_windows(p, "forward", stored(p, servers, info, "forward", gw),
                   minutes(start, 0, 20) + minutes(start, 50, 70))
    expect_unstamped(p, "forward", points(servers, info, gw, "gateway"), lambda t: 0)
    p.expect("stepped forward by 1800 s" in log, "forward: the log says the step")

    return p.verdict(work, "no window stamped while the clock was not synchronised, none lost or doubled by a step",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
