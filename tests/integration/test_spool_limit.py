#!/usr/bin/env python3
"""The spool's bound (spool_max_mb) and a state database the disk refuses,
against a VictoriaMetrics of the test's own (no deduplication, so a point
sent twice shows twice).

    test_spool_limit.py TRYGGD SOURCE_DIR SERVERS_DIR

The simulated dates are in the recent past (VictoriaMetrics drops, answering
204, what is dated more than two days ahead of the machine's clock): from an
hour boundary three days ago.

(a) The bound.  spool_max_mb = 1, ten sim sensors read once a window
    (window = 60), so 11 lines a window (ten sensors and the gateway's own
    point, about 180 bytes each).
    Run 1: the store is down (its port closed), 30 virtual hours at speed
    21600 (about 5 s): 1800 windows, 19800 lines, some 3.4 MiB.  tryggd
    runs the whole simulation and exits 75 (it could not deliver within
    drain_timeout).  While it runs, the spool table is read every 50 ms
    from beside it, and after it: sum(length(CAST(line AS BLOB))) never above
    1 MiB; what is left is the newest lines (the ids of the last lines
    written, contiguous); the stop line's "dropped from a full spool" is
    the number of lines written minus those left; exactly one "spool: full"
    warning.
    Run 2: the store is up, one more virtual hour at speed 0.  What the
    store then holds of run 1 is exactly the lines left in the spool, which
    are the newest: in the order written (window by window, the sensors in
    the order of the config, then the gateway's point) a suffix, contiguous,
    from the first line not dropped to the last; every line of run 2 is
    there; nothing twice.  The spool_dropped the two stop lines give is the
    number of lines written minus the lines stored, and no gateway point
    (spool_dropped as it stood when its window closed) claims more points
    dropped than were missing from the store at that moment.  Run 2 says
    "spool: full" at most once.  "points stored" on each stop line is what
    that run added to the store.

(b) A full disk (root only: SKIP otherwise).  state_dir on a 16 MiB tmpfs
    of its own (mounted here, always unmounted at the end), four sim
    sensors, three virtual hours at speed 1200 (about 9 s), the store down.
    Once tryggd runs, a file fills the tmpfs: the next window's points
    cannot be written, tryggd logs once that the database refuses writes
    and keeps the points in memory.  About 1.5 s later the file is deleted
    and the store started: the held points are written (logged once), every
    window of every sensor and the gateway's point end up in the store
    exactly once, the spool is empty, the exit status is 0, and the
    "points stored" of the stop line is what the store holds.

Exit 0 when all hold, 1 with the list of what did not; the working folder
is kept on failure and printed.
"""

import errno
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

# Beside this file.
import capture
from capture import Problems, load_servers

WINDOW_S = 60
MIB = 1 << 20

# (a)
A_SENSORS = 10
A_RUN1_HOURS = 30
A_RUN1_SPEED = 21600
A_RUN2_HOURS = 1

# (b)
TMPFS_SIZE = "16m"
B_HOURS = 3
B_SPEED = 1200
B_HELD_S = 1.5

STOPPED = re.compile(r"stopped: (\d+) readings, (\d+) windows, .*; (\d+) points stored, (\d+) set aside, "
                     r"(\d+) dropped from a full spool")
SPOOL_FULL = "spool: full"
REFUSES = "spool: the state database refuses writes"
WRITTEN = "spool: the points kept in memory are written"
READBACK = re.compile(r"store: (\d+) sampled points read back: (\d+) found, (\d+) missing")
NOT_KEPT = "the store acknowledged a point it did not keep"
RUN_TIMEOUT_S = 60


def iso(unix_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_s))


def sensors(count):
    """{name: (type, keys)}: light, footfall and lamp in turn, each read once
    a window.  Names sort in config order (the order of a window's lines)."""
    out = {}
    for i in range(count):
        kind = ("light", "footfall", "lamp")[i % 3]
        out[f"s{i:02d}-{kind}"] = (kind, {"interval": WINDOW_S, "seed": 40 + i, "profile": "Årby"})
    return out


def write_config(path, source, state_dir, gateway_id, store_url, start_s, end_s, speed, names, drain_timeout_s=30,
                 extra_influx=()):
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", "district = Årby", "site = Torget, ingång öst", f"window = {WINDOW_S}",
                     f"state_dir = {state_dir}"]),
        ("simulation", [f"start = {iso(start_s)}", f"end = {iso(end_s)}", f"speed = {speed}",
                        f"drain_timeout = {drain_timeout_s}",
                        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}"]),
        ("influx", [f"url = {store_url}", "api = victoriametrics", "database = trygghet", *extra_influx]),
        *capture.sim_sensors(names),
    ], comment="Written by tests/integration/test_spool_limit.py")


def log_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


def stop_line(p, text, what):
    """(readings, windows, stored, set aside, dropped) of the stop line."""
    found = STOPPED.findall(text)
    if not p.expect(len(found) == 1, f"{what}: one stop line", f"{len(found)}"):
        return None
    return tuple(int(n) for n in found[0])


def spool_state(db_path):
    """(rows, bytes, min id, max id, ids ever given) of the spool table."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        rows, size, low, high = db.execute(
            "SELECT count(*), total(length(CAST(line AS BLOB))), min(id), max(id) FROM spool").fetchone()
        seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'spool'").fetchone()
        return rows, int(size), low, high, seq[0] if seq else 0
    finally:
        db.close()


class SpoolWatcher(threading.Thread):
    """Reads the spool's bytes every 50 ms while tryggd runs (WAL: a reader
    beside the writer sees each committed state)."""

    def __init__(self, db_path):
        super().__init__(daemon=True)
        self.db_path = db_path
        self.done = threading.Event()
        self.samples = []
        self.errors = 0

    def run(self):
        while not self.done.is_set():
            if os.path.exists(self.db_path):
                try:
                    self.samples.append(spool_state(self.db_path)[1])
                except sqlite3.Error:
                    self.errors += 1
            self.done.wait(0.05)

    def stop(self):
        self.done.set()
        self.join()


def run_tryggd(tryggd, config, log_path, timeout_s=RUN_TIMEOUT_S):
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        try:
            status = subprocess.run([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, timeout=timeout_s).returncode
        except subprocess.TimeoutExpired:
            status = None
    return status, time.monotonic() - t0


def stored_points(servers, vm, gateway_id):
    """{(measurement, sensor or None): [window start s, ...]} of what the
    store holds of the gateway: one entry per point kept (coverage, or
    uptime_s for the gateway's own point), so a point kept twice shows
    twice."""
    servers.vm_flush(vm)
    out = {}
    match = f'{{__name__=~"(light|lamp|footfall)_coverage|gateway_uptime_s",gateway="{gateway_id}"}}'
    for series in servers.vm_export(vm, match):
        name = series["metric"]["__name__"]
        key = (name.rsplit("_", 2 if name.startswith("gateway_") else 1)[0], series["metric"].get("sensor"))
        out.setdefault(key, []).extend(ts // 1000 for ts in series["timestamps"])
    return out


def stored_field(servers, vm, gateway_id, metric):
    """{window start s: [values]} of one gateway field."""
    out = {}
    for series in servers.vm_export(vm, f'{metric}{{gateway="{gateway_id}"}}'):
        for ts, value in zip(series["timestamps"], series["values"]):
            out.setdefault(ts // 1000, []).append(value)
    return out


def expected_lines(names, start_s, end_s):
    """The lines of a run in the order written: window by window, the
    sensors in config order, then the gateway's point."""
    keys = [(kind, name) for name, (kind, _) in names.items()] + [("gateway", None)]
    return [(key, t) for t in range(start_s, end_s, WINDOW_S) for key in keys]


# ---------------------------------------------------------------- (a)

def part_bound(servers, tryggd, source, work, vm, base_s, p):
    print("(a) spool_max_mb = 1 with the store down, then the store up")
    token = uuid.uuid4().hex[:8]
    gateway_id = f"spool-{token}"
    state_dir = os.path.join(work, "a-state")
    names = sensors(A_SENSORS)
    run1 = (base_s, base_s + A_RUN1_HOURS * 3600)
    run2 = (run1[1], run1[1] + A_RUN2_HOURS * 3600)
    lines1, lines2 = expected_lines(names, *run1), expected_lines(names, *run2)

    # Run 1: the store's port is closed.
    config = os.path.join(work, "a-run-1.conf")
    log1 = os.path.join(work, "a-run-1.log")
    write_config(config, source, state_dir, gateway_id, vm.url, *run1, A_RUN1_SPEED, names, drain_timeout_s=2,
                 extra_influx=["spool_max_mb = 1"])
    watcher = SpoolWatcher(os.path.join(state_dir, "tryggd.db"))
    watcher.start()
    try:
        status, wall = run_tryggd(tryggd, config, log1)
    finally:
        watcher.stop()
    text1 = log_text(log1)
    print(f"  run 1: {len(lines1)} lines over {A_RUN1_HOURS} virtual hours in {wall:.1f} s, exit {status}")
    p.expect(status == 75, "run 1 (store down) exits 75: the simulation ran to its end, not all delivered",
             f"status {status}; {log1}")
    p.expect("simulated end reached" in text1, "run 1 ran the whole simulation")
    stop1 = stop_line(p, text1, "run 1")
    if stop1:
        p.expect(stop1[1] == A_SENSORS * len(lines1) // (A_SENSORS + 1),
                 f"run 1 closed every window of every sensor ({stop1[1]})")
        p.expect(stop1[2] == 0, "run 1 stored nothing", f"{stop1[2]}")
    warnings1 = text1.count(SPOOL_FULL)
    p.expect(warnings1 == 1, f"run 1: exactly one '{SPOOL_FULL}' warning for the one episode ({warnings1})")

    most = max(watcher.samples, default=0)
    print(f"  spool read {len(watcher.samples)} times while run 1 ran; largest {most} bytes"
          + (f" ({watcher.errors} reads failed)" if watcher.errors else ""))
    p.expect(len(watcher.samples) >= 20, "the spool was read while run 1 ran", f"{len(watcher.samples)} reads")
    p.expect(most <= MIB, "the spool's bytes never exceeded 1 MiB while run 1 ran", f"{most}")
    rows, size, low, high, given = spool_state(os.path.join(state_dir, "tryggd.db"))
    dropped1 = given - rows
    print(f"  after run 1: {rows} lines, {size} bytes, ids {low}..{high} of {given} written; "
          f"{dropped1} dropped")
    p.expect(size <= MIB, "after run 1 the spool holds at most 1 MiB", f"{size} bytes")
    p.expect(size > MIB - 4096, "after run 1 the spool is full to within a few lines", f"{size} bytes")
    p.expect(given == len(lines1), "every line of run 1 went through the spool", f"{given} vs {len(lines1)}")
    p.expect(high == given and high - low + 1 == rows,
             "the lines left are the newest, contiguous (ids low..high, high the last written)",
             f"ids {low}..{high}, {rows} rows, {given} written")
    if stop1:
        p.expect(stop1[4] == dropped1, "run 1's stop line: dropped from a full spool = lines written - lines left",
                 f"{stop1[4]} vs {dropped1}")

    # Run 2: the store is up; one more hour as fast as it goes.
    vm.start()
    config = os.path.join(work, "a-run-2.conf")
    log2 = os.path.join(work, "a-run-2.log")
    write_config(config, source, state_dir, gateway_id, vm.url, *run2, 0, names,
                 extra_influx=["spool_max_mb = 1"])
    status, wall = run_tryggd(tryggd, config, log2)
    text2 = log_text(log2)
    print(f"  run 2: {len(lines2)} more lines, store up, speed 0: {wall:.1f} s, exit {status}")
    p.expect(status == 0, "run 2 (store up) exits 0", f"status {status}; {log2}")
    stop2 = stop_line(p, text2, "run 2")
    warnings2 = text2.count(SPOOL_FULL)
    p.expect(warnings2 <= 1, f"run 2: at most one '{SPOOL_FULL}' warning ({warnings2})")
    rows_after = spool_state(os.path.join(state_dir, "tryggd.db"))[0]
    p.expect(rows_after == 0, "after run 2 the spool is empty", f"{rows_after} lines")

    held = stored_points(servers, vm, gateway_id)
    counts = {}
    for key, times in held.items():
        for t in times:
            counts[(key, t)] = counts.get((key, t), 0) + 1
    twice = [k for k, n in counts.items() if n > 1]
    p.expect(not twice, "no point is in the store twice", f"{len(twice)}, first {twice[:3]}")
    written = lines1 + lines2
    present = [line in counts for line in written]
    first = present.index(True) if True in present else len(written)
    stored1 = sum(present[:len(lines1)])
    total = sum(counts.values())
    print(f"  the store holds {total} points: {stored1} of run 1's {len(lines1)} (from line {first + 1}, "
          f"window {iso(written[first][1]) if first < len(written) else '-'}), "
          f"{sum(present[len(lines1):])} of run 2's {len(lines2)}")
    p.expect(all(present[first:]), "what reached the store is a suffix of the lines written, contiguous",
             f"{present[first:].count(False)} missing after line {first + 1}")
    p.expect(set(counts) <= set(written), "the store holds nothing but this gateway's lines",
             f"{sorted(set(counts) - set(written))[:3]}")
    p.expect(first == dropped1 and stored1 == rows,
             "the lines of run 1 in the store are exactly the newest ones the spool kept",
             f"first stored line {first + 1}, {stored1} stored; the spool kept lines {low}..{high} ({rows})")
    p.expect(all(present[len(lines1):]), "every line of run 2 is in the store")
    if stop1 and stop2:
        dropped = stop1[4] + stop2[4]
        lost = len(written) - len(counts)
        print(f"  spool_dropped: run 1 {stop1[4]}, run 2 {stop2[4]}; lines written {len(written)}, "
              f"in the store {len(counts)}, so {lost} lost")
        p.expect(dropped == lost, "spool_dropped (both stop lines) = lines written - lines in the store",
                 f"{stop1[4]} + {stop2[4]} = {dropped} counted, {lost} lost")
        p.expect(stop1[2] + stop2[2] == total, "'points stored' (both stop lines) = points in the store",
                 f"{stop1[2]} + {stop2[2]} vs {total}")

    # The gateway's figures as each window closed: never more dropped than
    # was missing from the store by then (lines written before the window's
    # own, not in the store), and never falling within a run.
    figures = stored_field(servers, vm, gateway_id, "gateway_spool_dropped")
    missing_before, claims = 0, []
    order = {}
    for index, line in enumerate(written):
        order.setdefault(line[1], index)
    for t in sorted(figures):
        index = order.get(t)
        if index is None:
            continue
        missing_before = index - sum(present[:index])
        run = 1 if t < run1[1] else 2
        claimed = max(figures[t])
        # run 2 counts from 0 again: what it may claim is what went missing
        # in run 2.
        allowed = missing_before if run == 1 else missing_before - dropped1
        claims.append((t, run, claimed, allowed))
    over = [(iso(t), run, c, a) for t, run, c, a in claims if c > a]
    p.expect(claims and not over,
             "no gateway point's spool_dropped exceeds the points missing from the store when its window closed",
             f"{len(over)} of {len(claims)} do; first (window, run, spool_dropped, missing): {over[:3]}")
    for run in (1, 2):
        values = [c for _, r, c, _ in claims if r == run]
        p.expect(all(a <= b for a, b in zip(values, values[1:])), f"run {run}: gateway spool_dropped never falls",
                 f"{values[:10]}")


# ---------------------------------------------------------------- (b)

def free_bytes(directory):
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize


def fill(path):
    """Grow the file at path until its file system refuses another byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        chunk = b"\0" * 65536
        while True:
            try:
                os.write(fd, chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 1:
                    break
                chunk = chunk[:max(1, len(chunk) // 16)]
    finally:
        os.close(fd)


def wait_for_text(path, needle, proc, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if needle in log_text(path):
            return True
        if proc.poll() is not None:
            return needle in log_text(path)
        time.sleep(0.02)
    return False


def part_full_disk(servers, tryggd, source, work, vm, base_s, p):
    print("(b) the state database on a full disk, the store down, then space freed and the store up")
    if os.geteuid() != 0:
        print("SKIP: (b) needs root to mount a tmpfs; not run")
        return
    mount_point = os.path.join(work, "fs")
    os.mkdir(mount_point)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0755", "tmpfs", mount_point],
                             capture_output=True, text=True)
    if not p.expect(mounted.returncode == 0, "a tmpfs for state_dir", mounted.stderr.strip()):
        return
    try:
        full_disk_run(servers, tryggd, source, work, vm, base_s, mount_point, p)
    finally:
        if subprocess.run(["umount", mount_point], capture_output=True).returncode != 0:
            time.sleep(1)
            if subprocess.run(["umount", mount_point], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", mount_point])


def full_disk_run(servers, tryggd, source, work, vm, base_s, mount_point, p):
    token = uuid.uuid4().hex[:8]
    gateway_id = f"spoolfull-{token}"
    state_dir = os.path.join(mount_point, "state")
    filler = os.path.join(mount_point, "filler")
    names = sensors(4)
    run = (base_s, base_s + B_HOURS * 3600)
    lines = expected_lines(names, *run)
    config = os.path.join(work, "b.conf")
    log_path = os.path.join(work, "b.log")
    write_config(config, source, state_dir, gateway_id, vm.url, *run, B_SPEED, names)
    if vm.running():
        vm.stop()
    t0 = time.monotonic()
    log = open(log_path, "wb")
    proc = subprocess.Popen([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    try:
        started = wait_for_text(log_path, "simulated clock", proc, 10)
        p.expect(started and proc.poll() is None, "tryggd runs with the store down")
        time.sleep(0.5)
        fill(filler)
        print(f"  disk filled at {time.monotonic() - t0:.1f} s ({free_bytes(mount_point)} bytes free)")
        refused = wait_for_text(log_path, REFUSES, proc, 10)
        p.expect(refused and proc.poll() is None,
                 "tryggd says the database refuses writes and keeps points in memory, and runs on")
        time.sleep(B_HELD_S)
        os.unlink(filler)
        vm.start()
        print(f"  space freed and the store started at {time.monotonic() - t0:.1f} s")
        try:
            status = proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            status = None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wall = time.monotonic() - t0
    text = log_text(log_path)
    print(f"  {len(lines)} lines over {B_HOURS} virtual hours in {wall:.1f} s, exit {status}")
    p.expect(status == 0, "exit 0: everything delivered", f"status {status}; {log_path}")
    p.expect(text.count(REFUSES) == 1, f"one '{REFUSES}' line for the episode ({text.count(REFUSES)})")
    p.expect(text.count(WRITTEN) == 1, f"one '{WRITTEN}' line once space is back ({text.count(WRITTEN)})")
    p.expect("are lost" not in text, "no points kept in memory were lost")
    stop = stop_line(p, text, "(b)")
    rows = spool_state(os.path.join(state_dir, "tryggd.db"))[0]
    p.expect(rows == 0, "the spool is empty at the end", f"{rows} lines")

    held = stored_points(servers, vm, gateway_id)
    counts = {}
    for key, times in held.items():
        for t in times:
            counts[(key, t)] = counts.get((key, t), 0) + 1
    total = sum(counts.values())
    missing = [line for line in lines if line not in counts]
    twice = [line for line, n in counts.items() if n > 1]
    print(f"  the store holds {total} points ({len(counts)} distinct) of {len(lines)} written")
    p.expect(not missing, "every window of every sensor and the gateway is in the store",
             f"{len(missing)} missing, first {missing[:3]}")
    p.expect(not twice, "none twice", f"{len(twice)}, first {twice[:3]}")
    p.expect(set(counts) <= set(lines), "nothing else", f"{sorted(set(counts) - set(lines))[:3]}")
    # VictoriaMetrics' default verify = readback: with every point in the
    # store, the read-back must not count any as missing (the gateway's
    # "missing", logged per point and summed up at the stop).
    summary = READBACK.findall(text)
    not_kept = text.count(NOT_KEPT)
    print(f"  read-back: {summary[-1][0] if summary else '?'} sampled, {summary[-1][1] if summary else '?'} found, "
          f"{summary[-1][2] if summary else '?'} missing; {not_kept} 'did not keep' warnings")
    p.expect(not_kept == 0 and all(m == "0" for _, _, m in summary),
             "the read-back finds the points the store holds (none reported missing)",
             f"{not_kept} points reported not kept, summary {summary}")
    if stop:
        print(f"  stop line: {stop[2]} points stored, {stop[4]} dropped from a full spool")
        p.expect(stop[2] == total, "the stop line's 'points stored' is what the store holds",
                 f"{stop[2]} claimed, {total} in the store")
        p.expect(stop[4] == 0, "nothing dropped from the spool", f"{stop[4]}")


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    work = tempfile.mkdtemp(prefix="spool_limit-", dir=os.path.dirname(servers_dir))
    # An hour boundary three days ago: VictoriaMetrics keeps it, and the
    # runs (35 virtual hours in all) stay in the past.
    base_s = (int(time.time()) // 3600 - 72) * 3600
    p = Problems()
    print(f"work dir {work}")
    t0 = time.monotonic()
    # Not started yet: its port is closed, the store is down.
    vm = servers.Victoria(os.path.join(work, "victoria"))
    try:
        part_bound(servers, tryggd, source, work, vm, base_s, p)
        part_full_disk(servers, tryggd, source, work, vm, base_s + 32 * 3600, p)
    finally:
        vm.close()
    print(f"{time.monotonic() - t0:.1f} s in all")
    return p.verdict(work, "the spool keeps the newest points within its bound and holds what the disk refuses",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
