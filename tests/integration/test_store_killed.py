#!/usr/bin/env python3
"""tryggd is SIGKILLed ten times while the store is down, and started again
each time on the same state_dir; then the store comes back and a last run
drains the spool: every window a killed run closed arrives, once, and no
window of a run is missing before the one it was in when it was killed.

    test_store_killed.py TRYGGD SOURCE_DIR SERVERS_DIR

For each store of its own (a private influxd with api = v1, a private
VictoriaMetrics without deduplication with api = victoriametrics, on which
a point sent twice shows twice), started once for its port and database
and stopped (SIGTERM) before tryggd first starts:

  runs 1-10   run i simulates [S_i, S_i + 2 h) at speed 2400 (3 s), from
              S_1 = 3 days before now aligned to an hour, and is SIGKILLed
              after a random 0.3-1.5 s; run i+1 starts at S_i + 2 h.
              A killed run loses the window that was open, by design;
              every window it closed is in the spool.
  spool       read on a copy of STATE_DIR/tryggd.db and its -wal: the
              lines of the spool table, each dated in one run's range.
  last run    the store started again (same port, same data); run 11
              simulates [S_11, S_11 + 2 h) to its end, drains the spool
              and exits 0, having said how many points it found waiting.

Then, in the store, for each run's range: every sensor and the gateway
point have the same window starts, a contiguous prefix of the range
(S_i, S_i + 60 s, ...: no hole), no window twice, no more windows than the
virtual time the run had before its kill; the spool held exactly the points
the store now has of the killed runs (every closed window was spooled, none
lost, nothing else); the last run's range is complete.  Nothing is dated
outside the ranges.

The random delays come from a seed printed at the start; TRYGGD_TEST_SEED
repeats a run's delays.  Prints per store and run: the kill delay, the
windows found against the bound the delay allows, duplicates.  Exit 0 when
all hold, 1 with the list of what did not (the working folder is kept).
"""

import os
import random
import re
import shutil
import sqlite3
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
KILLS = 10
RANGE_S = 2 * 3600          # each run's simulated range
SPEED = 2400                # a range takes 3 s of real time
KILL_AFTER_S = (0.3, 1.5)   # real seconds after the start
DRAIN_TIMEOUT_S = 60
TRYGGD_TIMEOUT_S = 90
SENSORS = three_sensors("43")
KEYS = [*SENSORS, GATEWAY]
SENSOR_TAG = re.compile(r",sensor=([^,\s]+)")
WAITING = re.compile(r"spool: (\d+) points from an earlier run are waiting")
STORE_DOWN = re.compile("^" + capture.LOG_START + r"warning: store: .*points stay in the spool")
STORE_WARNING = re.compile("^" + capture.LOG_START + r"warning: store:")


def write_config(path, state_dir, source, store, api, gateway_id, start_s):
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", "district = Nyfors", f"window = {WINDOW_S}", f"state_dir = {state_dir}"]),
        ("simulation", [f"start = {iso(start_s)}", f"end = {iso(start_s + RANGE_S)}", f"speed = {SPEED}",
                        f"drain_timeout = {DRAIN_TIMEOUT_S}",
                        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}"]),
        ("influx", [f"url = {store.url}", f"api = {api}", "database = trygghet"]),
        *capture.sim_sensors(SENSORS),
    ], comment="Written by tests/integration/test_store_killed.py")


def spool_lines(state_dir):
    """The spool's lines, read on a copy of tryggd.db and its -wal so that
    the original stays as the next start finds it."""
    src = os.path.join(state_dir, "tryggd.db")
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("", "-wal"):
            if os.path.exists(src + suffix):
                shutil.copyfile(src + suffix, os.path.join(tmp, "copy.db" + suffix))
        db = sqlite3.connect(os.path.join(tmp, "copy.db"))
        try:
            return [line for (line,) in db.execute("SELECT line FROM spool ORDER BY id")]
        finally:
            db.close()


def line_key_and_ms(line):
    """(key, timestamp in ms) of a spooled line: the sensor tag, or GATEWAY
    for the gateway's point; the timestamp is in seconds (precision=s)."""
    line = line.rstrip("\n")
    measurement = line.split(",", 1)[0]
    sensor = SENSOR_TAG.search(line)
    key = GATEWAY if measurement == GATEWAY else (sensor.group(1) if sensor else f"?{measurement}")
    return key, int(line.rsplit(" ", 1)[1]) * 1000


def read_log(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def one_store(servers, tryggd, source, work, label, api, start_store, rng, p):
    print(f"{label} (api = {api})")
    work = os.path.join(work, label)
    os.makedirs(work)
    state_dir = os.path.join(work, "state")
    gateway_id = f"killed-{uuid.uuid4().hex[:8]}"
    first_s = (int(time.time()) - 3 * 86400) // 3600 * 3600
    starts = [first_s + i * RANGE_S for i in range(KILLS + 1)]
    window_ms = WINDOW_S * 1000

    store = start_store(servers, os.path.join(work, "store"))
    proc = None
    t0 = time.monotonic()
    try:
        p.expect(store.stop() is not None, "the store stops on SIGTERM before the first run")
        delays, lived = [], []
        for i in range(KILLS):
            config = os.path.join(work, f"run-{i + 1}.conf")
            write_config(config, state_dir, source, store, api, gateway_id, starts[i])
            delay = rng.uniform(*KILL_AFTER_S)
            delays.append(delay)
            log_path = os.path.join(work, f"run-{i + 1}.log")
            with open(log_path, "wb") as log:
                launched = time.monotonic()
                proc = subprocess.Popen([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=tryggd_env())
            time.sleep(delay)
            running = proc.poll() is None
            proc.kill()
            # tryggd's clock began after `launched`: it cannot have reached
            # more than this much virtual time.
            lived.append(time.monotonic() - launched)
            proc.wait()
            if not running:
                p.expect(False, f"run {i + 1} still runs when it is killed after {delay:.2f} s",
                         f"exit {proc.returncode}; {log_path}:\n{log_tail(log_path)}")
            downs = [line for line in read_log(log_path) if STORE_DOWN.search(line)]
            if len(downs) > 1:
                p.expect(False, f"run {i + 1} says at most once that the store is down", f"{len(downs)} times")

        spooled = spool_lines(state_dir)
        print(f"  after {KILLS} kills: {len(spooled)} points in the spool")

        store.start()
        config = os.path.join(work, f"run-{KILLS + 1}.conf")
        write_config(config, state_dir, source, store, api, gateway_id, starts[KILLS])
        last_log = os.path.join(work, f"run-{KILLS + 1}.log")
        began = time.monotonic()
        with open(last_log, "wb") as log:
            proc = subprocess.Popen([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=tryggd_env())
            try:
                status = proc.wait(timeout=TRYGGD_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                status = None
        last_wall = time.monotonic() - began
        found, problems = windows(servers, store, api, gateway_id)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        store.close()

    p.expect(status == 0, f"the last run ends its range and exits 0 ({last_wall:.1f} s)",
             f"status {status}; {last_log}:\n{log_tail(last_log)}")
    lines = read_log(last_log)
    waiting = [int(m.group(1)) for m in map(WAITING.search, lines) if m]
    p.expect(waiting == [len(spooled)], f"the last run says the {len(spooled)} spooled points are waiting",
             f"it says {waiting}")
    warnings = [line for line in lines if STORE_WARNING.search(line)]
    p.expect(not warnings, f"the last run, with the store up, has no store: warning ({len(warnings)})",
             " | ".join(w[:200] for w in warnings[:3]) + (" | ..." if len(warnings) > 3 else ""))
    for problem in problems:
        p.expect(False, "the store's series agree", problem)

    # The spool after the kills, per run and key.
    spool_by_run = {}
    outside = []
    for line in spooled:
        key, ms = line_key_and_ms(line)
        run = (ms // 1000 - first_s) // RANGE_S
        if 0 <= run < KILLS:
            spool_by_run.setdefault(run, {}).setdefault(key, []).append(ms)
        else:
            outside.append(line)
    p.expect(not outside, "every spooled point is dated in a killed run's range",
             f"{len(outside)}: {outside[:1]}")

    # The store, per run and key.
    by_run = {}
    for key, times in found.items():
        for ms in times:
            run = (ms // 1000 - first_s) // RANGE_S
            by_run.setdefault(run, {}).setdefault(key, []).append(ms)
    stray = {run: sum(len(t) for t in keys.values()) for run, keys in by_run.items() if not 0 <= run <= KILLS}
    p.expect(not stray, "nothing in the store dated outside the runs' ranges", f"{stray}")
    unknown = sorted(set(found) - set(KEYS))
    p.expect(not unknown, "no series but the sensors' and the gateway's", f"{unknown}")

    failures_before = len(p.items)

    def check(condition, what, detail=""):
        """Per run: only what does not hold is printed (one summary after)."""
        if not condition:
            p.expect(False, what, detail)

    killed_points = 0
    total_dups = 0
    closed = []
    for run in range(KILLS + 1):
        start_ms = starts[run] * 1000
        keys = by_run.get(run, {})
        dups = {key: duplicates(sorted(keys.get(key, []))) for key in KEYS}
        total_dups += sum(dups.values())
        sets = {key: sorted(set(keys.get(key, []))) for key in KEYS}
        reference = sets[KEYS[0]]
        same = all(sets[key] == reference for key in KEYS)
        count = len(reference)
        prefix = [start_ms + n * window_ms for n in range(count)]
        name = f"run {run + 1}"
        check(same, f"{name}: every sensor and the gateway have the same windows",
              ", ".join(f"{key} {len(sets[key])}" for key in KEYS))
        check(all(d == 0 for d in dups.values()), f"{name}: no window twice", f"{dups}")
        if run < KILLS:
            bound = int(lived[run] * SPEED) // WINDOW_S
            check(reference == prefix, f"{name}: a contiguous prefix of its range, no hole",
                  f"first {[iso(t // 1000) for t in reference[:3]]}, expected from {iso(starts[run])}; "
                  f"holes at {[iso(t // 1000) for t in sorted(set(prefix) - set(reference))[:3]]}")
            check(count <= bound, f"{name}: no more windows ({count}) than {lived[run]:.3f} s at speed "
                  f"{SPEED} allow ({bound})")
            spool = spool_by_run.get(run, {})
            check({key: sorted(spool.get(key, [])) for key in KEYS} == sets,
                  f"{name}: the store has exactly what the spool held of it",
                  ", ".join(f"{key} spool {len(spool.get(key, []))} store {len(sets[key])}" for key in KEYS))
            killed_points += sum(len(keys.get(key, [])) for key in KEYS)
            closed.append(count)
            print(f"    {name}: [{iso(starts[run])}, +2 h) killed after {lived[run]:.2f} s: windows closed "
                  f"{count} (at most {bound}, range {RANGE_S // WINDOW_S}), duplicates {sum(dups.values())}")
        else:
            expected = list(range(start_ms, start_ms + RANGE_S * 1000, window_ms))
            check(reference == expected, f"{name}: its whole range ({len(expected)} windows)",
                  f"{count} found")
            print(f"    {name}: [{iso(starts[run])}, +2 h) to the end: windows {count} of {len(expected)}, "
                  f"duplicates {sum(dups.values())}")
    p.expect(len(p.items) == failures_before,
             f"every run: the same windows for every sensor and the gateway, none twice; runs 1-{KILLS}: a "
             f"contiguous prefix of the range, exactly what the spool held, within the time before the kill; "
             f"run {KILLS + 1}: its whole range")
    p.expect(len(spooled) == killed_points,
             f"the spool after the kills ({len(spooled)} points) = the points of the killed runs in the store "
             f"({killed_points})")
    p.expect(sum(closed) >= KILLS, f"the killed runs closed windows ({sum(closed)})")
    print(f"  figures {label}: {KILLS} kills, windows closed by the killed runs {sum(closed)} "
          f"({', '.join(map(str, closed))}), spooled points {len(spooled)}, found {killed_points}; "
          f"last run {len(by_run.get(KILLS, {}).get(KEYS[0], []))} of {RANGE_S // WINDOW_S}; "
          f"duplicates {total_dups}; {time.monotonic() - t0:.1f} s")


def main(argv):
    tryggd, source, servers_dir, servers = parse_args(argv)
    work = tempfile.mkdtemp(prefix="store_killed-", dir=os.path.dirname(servers_dir))
    seed = int(os.environ.get("TRYGGD_TEST_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"seed {seed} (TRYGGD_TEST_SEED={seed} repeats the kill delays)")
    p = Problems()
    t0 = time.monotonic()
    for label, api, start_store in STORES:
        rng = random.Random(f"{seed}-{label}")
        try:
            one_store(servers, tryggd, source, work, label, api, start_store, rng, p)
        except servers.ServerError as e:
            p.expect(False, f"{label}: the store answers", str(e))
    print(f"wall time {time.monotonic() - t0:.1f} s")
    return p.verdict(work, "ten kills with the store down lose no closed window and send none twice",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
