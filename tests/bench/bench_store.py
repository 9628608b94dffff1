"""Section "store" (issue 17, row 2): how fast tryggd empties a filled spool
into a store, against curl posting the very same lines in batches of the
same size, one after another.

The spool is filled honestly, by tryggd itself: a simulation at speed 0
with 49 sim sensors and 1 s windows (50 points a virtual second with the
gateway's own), its store pointed at a port where nothing listens and no
[mqtt], so every point stays in the spool; drain_timeout = 0 ends it as
soon as the simulated end is reached.

The timed run starts tryggd on a copy of that state_dir with the store up
and a tiny simulation that begins an hour after the filled one ends (one
sensor of its own, one second long): a simulation at speed 0 waits while
20,000 points are under way to a store that takes them, and at its end
flushes and exits once the spool is empty.  So the figure is the wall time
from spawn to exit: start-up (config, opening the 1 M-row spool and
counting it), every batch read from SQLite, sent, answered and deleted,
the two points of the tiny simulation, and the exit.  Nothing is
subtracted.

curl gets the lines read from the spool before the timed run, cut into
batches of batch_lines in spool order (what tryggd's SELECT ... ORDER BY id
LIMIT batch_lines gives), as files written beforehand, and posts them with
one process and one config file (-K, a `next` per batch): one connection
reused, requests one after another, with tryggd's URL and headers.  With
gzip its bodies are compressed beforehand (zlib level 1, tryggd's
Z_BEST_SPEED), so curl's time holds no compression while tryggd's does;
the note gives what compressing them takes.

Each contender gets a server of its own, started fresh in a folder of its
own and stopped after the check, so none pays for another's compaction or
index.  After each run the store is asked how many of the spool's points it
holds (all, or the row fails), so a broken run cannot look fast.
VictoriaMetrics runs with verify = none: its default, readback, reads a few
points of every batch back 2 s later and holds the exit until it has; that
is a check, not sending, and is measured on its own row in a full run.
"""

import calendar
import json
import os
import shutil
import sqlite3
import time
import urllib.parse
import urllib.request
import zlib

import benchlib
import servers
from bench import Row

TITLE = "a filled spool into influxd and VictoriaMetrics, against curl"

BATCH_LINES = 5000          # tryggd's default batch_lines, set explicitly
SENSORS = 49                # + the gateway's own point: 50 points a window
GATEWAY = "bench-store"
DATABASE = servers.DATABASE
# No backslash in any tag: the v1 and VictoriaMetrics dialects then write
# the same lines, and one spool serves both stores.
DISTRICT, SITE = "Årby", "Bänk"
GOAL = 0.9


def _iso(epoch_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


def _start_s():
    return calendar.timegm(time.strptime(benchlib.START, "%Y-%m-%dT%H:%M:%SZ"))


def _sensor_sections(count):
    sensors = {f"s{i:02d}": ("footfall" if i % 2 == 0 else "light", {"interval": 1, "seed": 1000 + i})
               for i in range(count)}
    return benchlib.sim_sensors(sensors)


def _config(path, state_dir, start_s, end_s, influx_keys, sensors, drain_timeout):
    benchlib.write_config(path, [
        ("gateway", [f"id = {GATEWAY}", f"district = {DISTRICT}", f"site = {SITE}", "window = 1",
                     f"state_dir = {state_dir}"]),
        ("simulation", [f"start = {_iso(start_s)}", f"end = {_iso(end_s)}", "speed = 0",
                        f"drain_timeout = {drain_timeout}"]),
        # A spool large enough that nothing of a million points is dropped.
        ("influx", [*influx_keys, f"batch_lines = {BATCH_LINES}", "spool_max_mb = 2048"]),
        *sensors,
    ])


def _fill(ctx, points):
    """A state_dir whose spool holds `points` points; (state_dir, lines,
    first second, last second + 1, fill wall time)."""
    state_dir = os.path.join(ctx.work, "filled")
    conf = os.path.join(ctx.work, "fill.conf")
    start_s = _start_s()
    seconds = -(-points // (SENSORS + 1))
    end_s = start_s + seconds
    # Nothing listens there: every point stays in the spool.
    dead = f"http://127.0.0.1:{servers.free_port()}"
    _config(conf, state_dir, start_s, end_s, [f"url = {dead}"], _sensor_sections(SENSORS), 0)
    run = benchlib.Measured([ctx.program("tryggd"), "-c", conf], os.path.join(ctx.work, "fill.log"),
                            env=benchlib.tryggd_env())
    status = run.wait(600)
    # 75: the simulation ended with points undelivered, which is the point.
    if status not in (0, 75):
        raise RuntimeError(f"filling the spool: tryggd exited {status}; {run.log_path}")
    db = sqlite3.connect(f"file:{os.path.join(state_dir, 'tryggd.db')}?mode=ro", uri=True)
    try:
        lines = [row[0] for row in db.execute("SELECT line FROM spool ORDER BY id")]
        rejected = db.execute("SELECT count(*) FROM rejected").fetchone()[0]
    finally:
        db.close()
    distinct = len({(line.split(" ", 1)[0], line.rsplit(" ", 1)[1]) for line in lines})
    if len(lines) != seconds * (SENSORS + 1) or distinct != len(lines) or rejected:
        raise RuntimeError(f"filling the spool: {len(lines)} lines ({distinct} distinct points, {rejected} "
                           f"rejected), expected {seconds * (SENSORS + 1)}; {run.log_path}")
    return state_dir, lines, start_s, end_s, run.wall_s


def _batches(ctx, lines):
    """The batch files, plain and gzipped: ([plain paths], [gzip paths],
    seconds Python's zlib took to compress them all)."""
    folder = os.path.join(ctx.work, "batches")
    os.makedirs(folder)
    plain, packed, compress_s = [], [], 0.0
    for number, first in enumerate(range(0, len(lines), BATCH_LINES)):
        body = "".join(lines[first:first + BATCH_LINES]).encode("utf-8")
        t0 = time.perf_counter()
        # wbits 31: a gzip wrapper, as tryggd's deflateInit2(..., 15 + 16, ...).
        compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
        gz = compressor.compress(body) + compressor.flush()
        compress_s += time.perf_counter() - t0
        for suffix, data, into in (("", body, plain), (".gz", gz, packed)):
            path = os.path.join(folder, f"batch{number:05d}{suffix}")
            with open(path, "wb") as f:
                f.write(data)
            into.append(path)
    return plain, packed, compress_s


def _start_store(kind, directory):
    if kind == "influxd":
        return servers.start_influxd(directory)
    return servers.start_victoria(directory)


def _stored(kind, server, first_s, end_s):
    """Points the store holds dated in [first_s, end_s): the filled spool's."""
    series = (("footfall", "coverage"), ("light", "coverage"), ("gateway", "readings"))
    if kind == "influxd":
        total = 0
        for measurement, field in series:
            q = (f'SELECT count("{field}") FROM "{measurement}" '
                 f"WHERE time >= {first_s}s AND time < {end_s}s")
            for s in servers.influx_series(server, q):
                total += sum(row.get("count") or 0 for row in s["rows"])
        return total
    servers.vm_flush(server)
    names = "|".join(f"{m}_{f}" for m, f in series)
    # count_over_time over (end - 1 - span, end - 1]: every second filled.
    span = end_s - first_s + 1
    query = f'sum(count_over_time({{__name__=~"{names}",db="{DATABASE}"}}[{span}s]))'
    url = f"{server.url}/api/v1/query?" + urllib.parse.urlencode({"query": query, "time": end_s - 1})
    with urllib.request.urlopen(url, timeout=60) as response:
        answer = json.load(response)
    result = answer.get("data", {}).get("result", [])
    return int(float(result[0]["value"][1])) if result else 0


def _run_tryggd(ctx, kind, server, filled, end_s, gzip, verify, label):
    state_dir = os.path.join(ctx.work, f"state-{label}")
    shutil.copytree(filled, state_dir)
    conf = os.path.join(ctx.work, f"{label}.conf")
    keys = [f"url = {server.url}", f"api = {'v1' if kind == 'influxd' else 'victoriametrics'}",
            f"database = {DATABASE}", f"gzip = {'yes' if gzip else 'no'}", f"verify = {verify}"]
    # An hour after the filled spool's last point: its two points are told
    # apart from the spool's by their time.
    start_s = end_s + 3600
    drain = benchlib.sim_sensors({"drain": ("footfall", {"interval": 1, "seed": 7})})
    _config(conf, state_dir, start_s, start_s + 1, keys, drain, 3600)
    run = benchlib.Measured([ctx.program("tryggd"), "-c", conf], os.path.join(ctx.work, f"{label}.log"),
                            env=benchlib.tryggd_env())
    status = run.wait(1800)
    shutil.rmtree(state_dir, ignore_errors=True)
    if status != 0:
        raise RuntimeError(f"tryggd exited {status}; {run.log_path}")
    return run


def _run_curl(ctx, kind, server, batches, gzip, label):
    url = f"{server.url}/write?" + urllib.parse.urlencode({"db": DATABASE, "precision": "s"})
    headers = ["Content-Type: text/plain; charset=utf-8", "Expect:"] + (["Content-Encoding: gzip"] if gzip else [])
    config = os.path.join(ctx.work, f"{label}.curl")
    with open(config, "w", encoding="utf-8") as f:
        for number, path in enumerate(batches):
            if number:
                f.write("next\n")
            f.write(f'url = "{url}"\ndata-binary = "@{path}"\noutput = "/dev/null"\n'
                    'write-out = "%{http_code}\\n"\n')
            f.writelines(f'header = "{h}"\n' for h in headers)
    out = os.path.join(ctx.work, f"{label}.out")
    run = benchlib.Measured([shutil.which("curl"), "--silent", "--show-error", "-K", config], out)
    status = run.wait(1800)
    with open(out, encoding="utf-8", errors="replace") as f:
        codes = f.read().split()
    if status != 0 or len(codes) != len(batches) or any(c not in ("200", "204") for c in codes):
        bad = sorted(set(codes) - {"200", "204"})
        raise RuntimeError(f"curl exited {status}, {len(codes)} answers for {len(batches)} batches "
                           f"(other than 2xx: {bad}); {out}")
    return run


def _contend(ctx, kind, contender, gzip, verify, filled, batches, first_s, end_s, expected, label):
    """One timed run on a store of its own; the Measured run."""
    server = _start_store(kind, os.path.join(ctx.work, f"server-{label}"))
    try:
        if contender == "tryggd":
            run = _run_tryggd(ctx, kind, server, filled, end_s, gzip, verify, label)
        else:
            run = _run_curl(ctx, kind, server, batches, gzip, label)
        stored = _stored(kind, server, first_s, end_s)
    finally:
        server.stop()
    if stored != expected:
        raise RuntimeError(f"{label}: the store holds {stored} of the spool's {expected} points")
    shutil.rmtree(os.path.join(ctx.work, f"server-{label}"), ignore_errors=True)
    return run


def _available(kind):
    try:
        servers.find_program(kind)
        return True
    except servers.ServerError:
        return False


def run(ctx):
    points = 5000 if ctx.quick else 1_000_000
    if not shutil.which("curl"):
        return [Row(name="store", ratio=None, goal=f">= {GOAL}", met=None, tryggd="", reference="curl",
                    skipped="curl not installed")]
    filled, lines, first_s, end_s, fill_s = _fill(ctx, points)
    plain, packed, compress_s = _batches(ctx, lines)
    expected = len(lines)
    raw_mb = sum(len(line.encode()) for line in lines) / 1e6
    gz_mb = sum(os.path.getsize(p) for p in packed) / 1e6
    # Best of two in a full run: a one-off stall of a shared 2-core machine
    # (influxd's own compaction of an earlier run, a neighbour) is not what
    # either contender costs.
    rounds = 1 if ctx.quick else 2

    rows = []
    plans = [("influxd", False, "none"), ("influxd", True, "none"),
             ("victoria-metrics", False, "none"), ("victoria-metrics", True, "none")]
    if not ctx.quick:
        plans.append(("victoria-metrics", False, "readback"))
    for kind, gzip, verify in plans:
        short = "influx" if kind == "influxd" else "VM"
        name = f"store {short} gzip {'on' if gzip else 'off'}" + (" readback" if verify != "none" else "")
        if not _available(kind):
            rows.append(Row(name=name, ratio=None, goal=f">= {GOAL}", met=None, tryggd="", reference="curl",
                            skipped=f"{kind} not installed"))
            continue
        best = {}
        for number in range(rounds):
            # Alternating, so that neither always runs on a warmer page cache.
            order = ("tryggd", "curl") if number % 2 == 0 else ("curl", "tryggd")
            for contender in order:
                label = f"{short}-{'gz' if gzip else 'plain'}-{verify}-{contender}-{number}"
                measured = _contend(ctx, kind, contender, gzip, verify, filled, packed if gzip else plain,
                                    first_s, end_s, expected, label)
                if contender not in best or measured.wall_s < best[contender].wall_s:
                    best[contender] = measured
        t, c = best["tryggd"], best["curl"]
        ratio = c.wall_s / t.wall_s            # tryggd's points/s over curl's
        rows.append(Row(
            name=name, ratio=ratio, goal=f">= {GOAL}", met=ratio >= GOAL,
            tryggd=f"{benchlib.fmt_rate(expected, t.wall_s)} ({t.wall_s:.2f} s, cpu {t.user_s + t.system_s:.2f} s)",
            reference=f"curl {benchlib.fmt_rate(expected, c.wall_s)} ({c.wall_s:.2f} s, "
                      f"cpu {c.user_s + c.system_s:.2f} s)"))
    rows[0].notes.append(
        f"{expected:,} points ({raw_mb:.0f} MB of line protocol, {gz_mb:.1f} MB gzipped) filled by tryggd in "
        f"{fill_s:.1f} s; batch_lines {BATCH_LINES} ({len(plain)} requests); each figure the best of {rounds}, "
        f"a fresh server each run; tryggd's time is spawn to exit (start-up, spool reads and deletes, "
        f"2 points of its own, exit); ratio = tryggd's points/s / curl's")
    rows[0].notes.append(f"curl posts bodies gzipped beforehand; compressing them took Python's zlib "
                         f"{compress_s:.2f} s (level 1), which tryggd's gzip runs include and curl's do not")
    return rows
