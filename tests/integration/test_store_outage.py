#!/usr/bin/env python3
"""The store goes away for hours of a simulated day and comes back: every
window arrives exactly once.

    test_store_outage.py TRYGGD SOURCE_DIR SERVERS_DIR

For each store of its own (a private influxd with api = v1, a private
VictoriaMetrics without deduplication with api = victoriametrics, which
reads a sample of each batch back): tryggd runs 11 virtual hours in about
10 s (speed 3960, window 60 s, sim sensors footfall, light and lamp, no
MQTT); the store is stopped (SIGTERM) after 2.5 s and started again on the
same port and data 5 s later, some 5.6 virtual hours down.  The simulation
ends, tryggd drains its spool and exits.  Then:

  - tryggd exits 0 (everything delivered within drain_timeout);
  - every window in [start, end) of every sensor, and the gateway's point
    of every window, is in the store exactly once: the window starts found
    are exactly those expected, none twice (VictoriaMetrics keeps a resent
    point twice; influxd replaces it, so there the check is count() =
    distinct times);
  - the log says once that the store was down, and once that it takes
    points again: a store: warning, not one per retry; no point was
    reported missing by the read-back.

The simulated dates are in the recent past (start 3 days before now,
aligned to an hour): VictoriaMetrics drops points dated more than 2 days
ahead of the machine's clock, answering 204.  VictoriaMetrics is stopped
with SIGTERM, never SIGKILL: a SIGKILLed one loses its last ~10 s of
writes, which would be its loss, not tryggd's.

Prints per store: windows expected, found, duplicates, how long the store
was down in virtual hours.  Exit 0 when all hold, 1 with the list of what
did not (the working folder is kept then).
"""

import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

# Beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
import capture  # noqa: E402
from capture import Problems  # noqa: E402
from stored_windows import (GATEWAY, STORES, duplicates, iso, log_tail, parse_args,  # noqa: E402
                            three_sensors, tryggd_env, windows)

WINDOW_S = 60
HOURS = 11
SPEED = 3960                # 11 virtual hours in 10 s of real time
DOWN_AFTER_S = 2.5          # real seconds after tryggd started
DOWN_FOR_S = 5.0            # real seconds from the stop to the start again
DRAIN_TIMEOUT_S = 60
TRYGGD_TIMEOUT_S = 120
SENSORS = three_sensors("41")
KEYS = [*SENSORS, GATEWAY]
# A store warning per outage ("... did not answer (...); points stay in the
# spool ..."), and an info line when it is back.
DOWN = re.compile("^" + capture.LOG_START + r"warning: store: .*points stay in the spool")
BACK = re.compile("^" + capture.LOG_START + r"store: .* takes points again")
STORE_WARNING = re.compile("^" + capture.LOG_START + r"warning: store:")
MISSING = re.compile(r"acknowledged a point it did not keep")


def write_config(path, work, source, store, api, gateway_id, start_s, end_s):
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", "district = Årby", "site = Årby torg", f"window = {WINDOW_S}",
                     f"state_dir = {os.path.join(work, 'state')}"]),
        ("simulation", [f"start = {iso(start_s)}", f"end = {iso(end_s)}", f"speed = {SPEED}",
                        f"drain_timeout = {DRAIN_TIMEOUT_S}",
                        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}"]),
        ("influx", [f"url = {store.url}", f"api = {api}", "database = trygghet"]),
        *capture.sim_sensors(SENSORS),
    ], comment="Written by tests/integration/test_store_outage.py")


def one_store(servers, tryggd, source, work, label, api, start_store, p):
    print(f"{label} (api = {api})")
    work = os.path.join(work, label)
    os.makedirs(work)
    gateway_id = f"outage-{uuid.uuid4().hex[:8]}"
    # The recent past, aligned to an hour (so to a window).
    start_s = (int(time.time()) - 3 * 86400) // 3600 * 3600
    end_s = start_s + HOURS * 3600
    expected = list(range(start_s * 1000, end_s * 1000, WINDOW_S * 1000))
    config = os.path.join(work, "tryggd.conf")
    log_path = os.path.join(work, "tryggd.log")

    store = start_store(servers, os.path.join(work, "store"))
    proc = None
    try:
        write_config(config, work, source, store, api, gateway_id, start_s, end_s)
        with open(log_path, "wb") as log:
            began = time.monotonic()
            proc = subprocess.Popen([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=tryggd_env())
        time.sleep(DOWN_AFTER_S)
        down = time.monotonic()
        stopped = store.stop()
        p.expect(proc.poll() is None, "tryggd still runs when the store goes down")
        # Killed after the stop's timeout, a store would lose writes itself.
        p.expect(stopped is not None, f"the store stops on SIGTERM (exit {stopped})")
        time.sleep(max(0.0, down + DOWN_FOR_S - time.monotonic()))
        back = store.start()
        p.expect(proc.poll() is None, "tryggd still runs when the store is back (the simulation not over)")
        try:
            status = proc.wait(timeout=TRYGGD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            status = None
        wall = time.monotonic() - began
        found, problems = windows(servers, store, api, gateway_id)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        store.close()

    down_h = (back - down) * SPEED / 3600
    from_h = (down - began) * SPEED / 3600
    p.expect(status == 0, f"tryggd exits 0 ({wall:.1f} s)", f"status {status}; {log_path}:\n{log_tail(log_path)}")
    for problem in problems:
        p.expect(False, "the store's series agree", problem)
    counts = {}
    for key in KEYS:
        times = found.get(key, [])
        distinct = sorted(set(times))
        dups = duplicates(times)
        counts[key] = (len(distinct), dups)
        missing = sorted(set(expected) - set(distinct))
        extra = sorted(set(distinct) - set(expected))
        p.expect(not missing and not extra,
                 f"{key}: every window of [start, end) in the store ({len(distinct)} of {len(expected)})",
                 f"{len(missing)} missing (first {[iso(t // 1000) for t in missing[:3]]}), "
                 f"{len(extra)} not expected (first {[iso(t // 1000) for t in extra[:3]]})")
        p.expect(dups == 0, f"{key}: no window twice ({dups} duplicates)",
                 f"first: {[iso(t // 1000) for t, u in zip(times, times[1:]) if t == u][:3]}")

    with open(log_path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    downs = [n for n, line in enumerate(lines) if DOWN.search(line)]
    backs = [n for n, line in enumerate(lines) if BACK.search(line)]
    warnings = [line for line in lines if STORE_WARNING.search(line)]
    missing_lines = [line for line in lines if MISSING.search(line)]
    p.expect(len(downs) == 1, f"the log says once that the store is down ({len(downs)} times)",
             "; ".join(lines[n] for n in downs[:3]))
    p.expect(len(backs) == 1 and (not downs or backs[0] > downs[0]),
             f"the log says once, after that, that it takes points again ({len(backs)} times)")
    p.expect(len(warnings) == 1, f"one store: warning, not one per retry ({len(warnings)})",
             " | ".join(w[:200] for w in warnings[:3]) + (" | ..." if len(warnings) > 3 else ""))
    p.expect(not missing_lines, f"no point reported missing by the read-back ({len(missing_lines)} lines)",
             missing_lines[0][:200] if missing_lines else "")

    found_text = ", ".join(f"{key} {n}" for key, (n, _) in counts.items())
    dup_total = sum(d for _, d in counts.values())
    print(f"  figures {label}: windows expected {len(expected)} per series ({HOURS} virtual hours, "
          f"{len(KEYS)} series); found {found_text}; duplicates {dup_total}; store down "
          f"{down_h:.1f} virtual hours ({back - down:.1f} s, from virtual +{from_h:.1f} h); "
          f"tryggd exit {status} after {wall:.1f} s; store: warnings {len(warnings)}")


def main(argv):
    tryggd, source, servers_dir, servers = parse_args(argv)
    work = tempfile.mkdtemp(prefix="store_outage-", dir=os.path.dirname(servers_dir))
    p = Problems()
    t0 = time.monotonic()
    for label, api, start_store in STORES:
        try:
            one_store(servers, tryggd, source, work, label, api, start_store, p)
        except servers.ServerError as e:
            p.expect(False, f"{label}: the store answers", str(e))
    print(f"wall time {time.monotonic() - t0:.1f} s")
    return p.verdict(work, "an outage of hours loses no window and sends none twice, in both stores",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
