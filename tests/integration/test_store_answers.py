#!/usr/bin/env python3
"""The store's answers that a real server will not give on demand, from a
scripted one (fake_store.py), against the built tryggd.

    test_store_answers.py TRYGGD SOURCE_DIR SERVERS_DIR

No server of the fixture is used: SERVERS_DIR only places the working
directory (beside it).  Each scenario runs tryggd on a simulated clock
(window 60 s, two sim sensors, no [mqtt]) with [influx] at a FakeStore:

  1. partial write   5000 lines waiting in the spool, one of them bad
                     (count=notanumber); the store answers as InfluxDB 1.x
                     (good lines of a batch stored, 400 "partial write").
                     All 4999 good lines end up stored, the bad one in the
                     `rejected` table with status 400 and the store's answer,
                     one warning quoting it (it alone, not the lines after
                     it in the batch), about 2·log2(5000) requests, and
                     rejected = 1 in the last `gateway` point.
  2. 413             2500 lines waiting, a store that takes at most 1000 a
                     request: halved until they fit, each stored once,
                     nothing rejected.
  3. busy            429 with Retry-After: 120 at speed 60: the next request
                     2 s (120 virtual s) later, none in between.  503 with an
                     HTTP-date Retry-After at speed 1: the next request not
                     before that date.
  4. 401             one warning ("refused the credentials", "check user and
                     password_file"), retries backing off (0.5 s doubling),
                     the points kept in the spool, exit 75 at drain_timeout.
  5. 404             the warning points to `tryggctl setup-influx`.
  6. 500             a body with newlines is logged on one line.
  7. dialects        v2 (org with a space, bucket, Token, gzip), v3 (Bearer,
                     write_lp) and victoriametrics (/write, db label): the
                     request line and headers byte for byte, and the lines
                     exactly the windows' points (measurement, tags,
                     timestamps = window starts in seconds).
  8. rotation        v2 answering 401 until the token file holds a new token:
                     the file is read again before each retry, everything is
                     stored once the new token is there.
  9. flush_interval  5min at speed 300: a request at most every 5 virtual
                     minutes, batches of 5 windows, the rest at the stop.

Exit 0 when everything holds, 1 with the list of what did not; the working
directory is kept on failure and printed.
"""

import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import base64  # noqa: E402
import email.utils  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

# Beside this file.
import capture  # noqa: E402
import fake_store  # noqa: E402
from capture import Problems  # noqa: E402
from fake_store import (  # noqa: E402
    Answer, FakeStore, accept, busy_first, chain, database_not_found, influx_error, influx_partial_write, status,
    too_large, unauthorized)

START = "2026-11-02T06:00:00Z"
START_S = capture.parse_iso(START) // 1000
WINDOW_S = 60
DISTRICT = "Årby"
SENSORS = capture.SKY_AND_DOOR        # sky (light) and door (footfall), one reading a second
EX_TEMPFAIL = 75
# What each measurement's point carries, in order (window_fields() and
# health_fields()), for windows that were read whole.
FIELDS = {
    "light": ["lux_min", "lux_mean", "lux_max", "dark_s", "samples", "coverage"],
    "footfall": ["count", "in", "out", "samples", "coverage"],
    "gateway": ["readings", "published", "buffered", "dropped", "lost", "reconnects", "spooled", "sent",
                "spool_dropped", "rejected", "missing", "problems", "unstamped_windows", "implausible",
                "uptime_s", "window_s", "memory"],
}
POINTS_PER_WINDOW = [("light", "sky"), ("footfall", "door"), ("gateway", None)]
# tryggd's log lines (gateway/log.h), and its warnings among them.
LOG_LINE = re.compile(capture.LOG_START)
WARNING = re.compile(capture.LOG_START + "warning: ")
V2_UNAUTHORIZED = Answer(401, {"Content-Type": "application/json; charset=utf-8"},
                         b'{"code":"unauthorized","message":"unauthorized access"}')


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# ---------------------------------------------------------------- lines

def parse_line(line):
    """(measurement, series as written, {tag: value as written},
    [(field, value as written)], timestamp int) of one line."""
    series, fields, stamp = fake_store.split_line(line)
    measurement, *tags = fake_store._split_unescaped(series, ",")
    return (measurement, series, dict(t.split("=", 1) for t in tags),
            [tuple(f.split("=", 1)) for f in fake_store._split_unescaped(fields, ",")], int(stamp))


def expected_series(measurement, sensor, gateway_id, site_escaped=None):
    tags = [f"district={DISTRICT}", f"gateway={gateway_id}"] + ([f"sensor={sensor}"] if sensor else []) + \
        ([f"site={site_escaped}"] if site_escaped else [])
    return ",".join([measurement, *tags])


def check_window_points(p, label, lines, gateway_id, minutes, site_escaped=None, exactly=True):
    """The lines of the run's windows (gateway = gateway_id, no backlog):
    three points per window, measurement and tags byte for byte, the window
    start in seconds, the fields of a window read whole.  exactly: no other
    line and none twice."""
    starts = [START_S + WINDOW_S * k for k in range(minutes)]
    expected = {(expected_series(m, s, gateway_id, site_escaped), t) for t in starts for m, s in POINTS_PER_WINDOW}
    got, problems = [], []
    for line in lines:
        measurement, series, tags, fields, stamp = parse_line(line)
        if tags.get("gateway") != gateway_id or tags.get("sensor") == "backlog":
            continue
        got.append((series, stamp))
        keys = [k for k, _ in fields]
        if keys != FIELDS.get(measurement):
            problems.append(f"{series} {stamp}: fields {keys}")
        elif measurement != "gateway" and dict(fields)["coverage"] != "1":
            problems.append(f"{series} {stamp}: coverage {dict(fields)['coverage']}")
    p.expect(set(got) == expected,
             f"{label}: {len(expected)} points, {len(POINTS_PER_WINDOW)} per window from {iso(starts[0])} to "
             f"{iso(starts[-1])}, measurement and tags byte for byte, time = the window's start in seconds",
             f"missing {sorted(expected - set(got))[:4]}, unexpected {sorted(set(got) - expected)[:4]}")
    if exactly:
        p.expect(len(got) == len(set(got)), f"{label}: no point sent twice", f"{len(got)} lines, {len(set(got))} points")
    p.expect(not problems, f"{label}: the fields of windows read whole (coverage 1)", "; ".join(problems[:3]))


def backlog_lines(gateway_id, count, bad_index=None):
    """count lines of an earlier run, oldest first, one a minute before
    START, each with its '\\n' as tryggd spools them; the one at bad_index
    has a field value no store can read."""
    lines = []
    for i in range(count):
        stamp = START_S - (count - i) * WINDOW_S
        value = "notanumber" if i == bad_index else f"{i % 7}i"
        lines.append(f"footfall,district={DISTRICT},gateway={gateway_id},sensor=backlog "
                     f"count={value},in=0i,out={i % 7}i,samples=60i,coverage=1 {stamp}\n")
    return lines


# ---------------------------------------------------------------- tryggd

class Gateway:
    """One tryggd with its own directory, state and log."""

    def __init__(self, ctx, name):
        self.ctx = ctx
        self.name = name
        self.id = f"{name}-01"
        self.dir = os.path.join(ctx.work, name)
        os.makedirs(self.dir)
        self.state_dir = os.path.join(self.dir, "state")
        self.db_path = os.path.join(self.state_dir, "tryggd.db")
        self.config = os.path.join(self.dir, "tryggd.conf")
        self.runs = 0
        self.log_path = None
        self.proc = None

    def secret(self, name, text):
        path = os.path.join(self.dir, name)
        replace_file(path, text + "\n")
        return path

    def write_config(self, influx, minutes=3, speed=0, drain_timeout=10, end=None, site=None):
        """influx: the [influx] keys, or None for no store."""
        gateway = [f"id = {self.id}", f"district = {DISTRICT}", f"window = {WINDOW_S}",
                   f"state_dir = {self.state_dir}"] + ([f"site = {site}"] if site else [])
        simulation = [f"profiles = {os.path.join(self.ctx.source, 'seeds', 'districts.ini')}", f"start = {START}",
                      f"end = {end or iso(START_S + minutes * 60)}", f"speed = {speed}",
                      f"drain_timeout = {drain_timeout}"]
        capture.write_config(self.config, [
            ("gateway", gateway), ("simulation", simulation),
            *([("influx", influx)] if influx is not None else []),
            *capture.sim_sensors(SENSORS),
        ], comment="Written by tests/integration/test_store_answers.py")

    def start(self):
        self.runs += 1
        self.log_path = os.path.join(self.dir, f"tryggd-{self.runs}.log")
        log = open(self.log_path, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([self.ctx.tryggd, "-c", self.config], stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.ctx.env)
        log.close()
        return self.proc

    def wait(self, timeout_s=60):
        """The exit status (None: killed after timeout_s) and the real time
        it ran."""
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        return code, time.monotonic() - self.started

    def run(self, timeout_s=60):
        self.start()
        return self.wait(timeout_s)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()

    def warnings(self, *needles):
        return [line for line in self.log() if WARNING.match(line) and all(n in line for n in needles)]

    def query(self, sql, *args):
        connection = sqlite3.connect(self.db_path, timeout=10)
        try:
            return connection.execute(sql, args).fetchall()
        finally:
            connection.close()

    def create_state(self):
        """A state database as tryggd makes it: a one-minute run with no
        store (so nothing is spooled)."""
        self.write_config(None, minutes=1, speed=0)
        code, _ = self.run(30)
        return code == 0 and os.path.exists(self.db_path)

    def prefill(self, lines):
        connection = sqlite3.connect(self.db_path, timeout=10)
        try:
            with connection:
                connection.executemany("INSERT INTO spool (line) VALUES (?)", [(line,) for line in lines])
        finally:
            connection.close()

    def spooled(self):
        return self.query("SELECT count(*) FROM spool")[0][0]

    def tail(self, n=15):
        return "\n".join(self.log()[-n:])


def replace_file(path, text):
    """Write path whole in one step (a reader sees the old or the new text)."""
    temporary = path + ".new"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def expect_exit(p, label, gateway, code, expected, wall):
    p.expect(code == expected, f"{label}: tryggd exits {expected} ({wall:.1f} s)",
             f"status {code}; {gateway.log_path}:\n{gateway.tail()}")


def summary(requests):
    """'2500:413 1250:413 625:204 ...' for a list of requests."""
    return " ".join(f"{len(r.lines)}:{r.status}" for r in requests)


# ---------------------------------------------------------------- scenarios

def partial_write(ctx, p):
    print("1. partial write: 5000 lines waiting, one bad; InfluxDB 1.x stores the good ones and answers 400")
    g = Gateway(ctx, "partial")
    if not p.expect(g.create_state(), "the state database is made by a first run", g.tail()):
        return
    bad_index = 3217
    backlog = backlog_lines(g.id, 5000, bad_index)
    bad = backlog[bad_index].rstrip("\n")
    good = {line.rstrip("\n") for i, line in enumerate(backlog) if i != bad_index}
    g.prefill(backlog)
    minutes = 3
    with FakeStore(influx_partial_write("count=notanumber")) as store:
        # Speed 60: the backlog is settled long before the last window closes.
        g.write_config([f"url = {store.url}"], minutes=minutes, speed=60, drain_timeout=10)
        code, wall = g.run(60)
        requests, stored, history = store.snapshot()
    expect_exit(p, "partial write", g, code, 0, wall)
    writes = [r for r in requests if r.method == "POST"]
    with_backlog = [r for r in writes if any("sensor=backlog" in line for line in r.lines)]
    print(f"  requests: {len(writes)} in all, {len(with_backlog)} with backlog lines "
          f"(2·log2(5000) = {2 * 12.3:.1f}); lines:status {summary(with_backlog)}")
    p.expect(bool(writes) and len(writes[0].lines) == 5000, "the first request carries batch_lines = 5000 lines",
             f"{len(writes[0].lines) if writes else 0}")
    p.expect(13 <= len(with_backlog) < 60, f"the bad line is cornered in about 2·log2(n) requests "
             f"({len(with_backlog)}, fewer than 60)")
    stored_backlog = {line for (series, _), line in stored.items() if "sensor=backlog" in series}
    p.expect(stored_backlog == good, f"all 4999 good lines stored, each point once ({len(stored_backlog)})",
             f"missing {len(good - stored_backlog)}, other {sorted(stored_backlog - good)[:2]}")
    resent = sum(1 for _, line, _ in history if line in good) - len(good)
    print(f"  good lines written again by resent halves (each replacing itself): {resent}")
    p.expect(bad not in stored.values(), "the bad line is not stored")
    single = [r for r in writes if r.lines == [bad]]
    p.expect(len(single) == 1 and single[0].status == 400, "the bad line is finally sent alone, once, and refused",
             summary(single))
    rows = g.query("SELECT line, status, answer FROM rejected")
    answer = single[0].answer[2].decode() if single else None
    p.expect(len(rows) == 1 and rows[0][0].rstrip("\n") == bad and rows[0][1] == 400 and rows[0][2] == answer,
             "the rejected table holds the bad line, status 400 and the store's answer",
             f"{rows} vs answer {answer!r}")
    p.expect(g.spooled() == 0, "the spool is empty", f"{g.spooled()} lines left")
    naming = g.warnings(bad)
    p.expect(len(naming) == 1 and "rejected" in naming[0] and "HTTP 400" in naming[0],
             "one warning names the refused line, the rejected table and HTTP 400", f"{naming}")
    # The line alone: the batch's body goes on after it with the lines sent
    # before and after, which were stored.
    p.expect(len(naming) == 1 and f"rejected table: {bad} (HTTP 400: " in naming[0],
             "the warning quotes the refused line alone, not the lines after it in the batch",
             naming[0][:420] if naming else "")
    others = [line for line in g.warnings() if line not in naming]
    p.expect(not others, "no other warning", f"{others[:3]}")
    gateway_points = [line for _, line, _ in history if line.startswith("gateway,")]
    last = dict(parse_line(gateway_points[-1])[3]) if gateway_points else {}
    p.expect(last.get("rejected") == "1i", "the last gateway point written says rejected=1i",
             f"{gateway_points[-1] if gateway_points else None}")
    check_window_points(p, "partial write", [line for _, line, _ in history if line not in good], g.id, minutes)


def too_large_batches(ctx, p):
    print("2. 413: 2500 lines waiting, a store that takes at most 1000 lines a request")
    g = Gateway(ctx, "toolarge")
    if not p.expect(g.create_state(), "the state database is made by a first run", g.tail()):
        return
    backlog = [line.rstrip("\n") for line in backlog_lines(g.id, 2500)]
    g.prefill(backlog)
    minutes = 3
    with FakeStore(chain(too_large(1000), accept())) as store:
        g.write_config([f"url = {store.url}"], minutes=minutes, speed=60, drain_timeout=10)
        code, wall = g.run(60)
        requests, stored, history = store.snapshot()
    expect_exit(p, "413", g, code, 0, wall)
    writes = [r for r in requests if r.method == "POST"]
    with_backlog = [r for r in writes if any("sensor=backlog" in line for line in r.lines)]
    print(f"  requests: {len(writes)} in all, {len(with_backlog)} with backlog lines; lines:status "
          f"{summary(with_backlog)}")
    p.expect(summary(with_backlog) == "2500:413 1250:413 625:204 625:204 1250:413 625:204 625:204",
             "halved until it fits: 2500 → 1250 → 625, in order (7 requests)", summary(with_backlog))
    times = {}
    for key, line, _ in history:
        times[line] = times.get(line, 0) + 1
    p.expect(all(times.get(line) == 1 for line in backlog), "every backlog line stored exactly once",
             f"{sum(1 for line in backlog if line not in times)} missing, "
             f"{sum(1 for line in backlog if times.get(line, 0) > 1)} twice")
    p.expect(not fake_store_duplicates(history), "no point stored twice", f"{fake_store_duplicates(history)[:3]}")
    p.expect(g.query("SELECT count(*) FROM rejected")[0][0] == 0 and not g.warnings("refused"), "nothing rejected")
    p.expect(g.spooled() == 0, "the spool is empty", f"{g.spooled()} lines left")
    gateway_points = [line for _, line, _ in history if line.startswith("gateway,")]
    last = dict(parse_line(gateway_points[-1])[3]) if gateway_points else {}
    p.expect(last.get("rejected") == "0i", "the last gateway point says rejected=0i",
             f"{gateway_points[-1] if gateway_points else None}")
    check_window_points(p, "413", [line for _, line, _ in history], g.id, minutes)


def fake_store_duplicates(history):
    seen, twice = set(), []
    for key, _, _ in history:
        if key in seen:
            twice.append(key)
        seen.add(key)
    return twice


def busy(ctx, p):
    print("3a. 429 with Retry-After: 120 at speed 60: the next request 2 s of real time later")
    g = Gateway(ctx, "busy429")
    minutes = 4
    with FakeStore(busy_first(1, 429, retry_after=120)) as store:
        g.write_config([f"url = {store.url}"], minutes=minutes, speed=60, drain_timeout=10)
        code, wall = g.run(60)
        requests, stored, history = store.snapshot()
    expect_exit(p, "429", g, code, 0, wall)
    if p.expect(len(requests) >= 2, "at least two requests", f"{requests}"):
        first, second = requests[0], requests[1]
        gap = second.monotonic - first.monotonic
        print(f"  429 at {first.monotonic - g.started:.2f} s, next request {gap:.3f} s later "
              f"(120 s / speed 60 = 2.000 s)")
        p.expect(first.status == 429 and second.method == "POST" and second.status == 204,
                 "the first write gets 429, the next one (no request in between) is taken",
                 f"{first!r} {second!r}")
        p.expect(2.0 <= gap < 3.5, f"Retry-After obeyed on the simulated clock: 2.0 s <= {gap:.3f} s < 3.5 s")
        p.expect(second.lines[:len(first.lines)] == first.lines, "the refused batch leads the retry")
    p.expect(len(g.warnings("is busy", "HTTP 429")) == 1, "one warning: the store is busy (HTTP 429)",
             f"{g.warnings()}")
    p.expect(not fake_store_duplicates(history), "no point stored twice")
    check_window_points(p, "429", [line for _, line, _ in history], g.id, minutes)

    print("3b. 503 with an HTTP-date Retry-After at speed 1: the next request not before that date")
    g = Gateway(ctx, "busy503")
    if not p.expect(g.create_state(), "the state database is made by a first run", g.tail()):
        return
    backlog = [line.rstrip("\n") for line in backlog_lines(g.id, 10)]
    g.prefill(backlog)          # so that the first request goes out at once
    dates = []

    def busy_until(request):
        if request.method != "POST" or dates:
            return None
        dates.append(int(time.time()) + 3)
        return influx_error(503, "service unavailable", {"Retry-After": email.utils.formatdate(dates[0], usegmt=True)})

    with FakeStore(busy_until) as store:
        g.write_config([f"url = {store.url}"], speed=1, end=iso(START_S + 4), drain_timeout=10)
        code, wall = g.run(60)
        requests, stored, history = store.snapshot()
    expect_exit(p, "503", g, code, 0, wall)
    if p.expect(len(requests) >= 2 and dates, "at least two requests", f"{requests}"):
        first, second = requests[0], requests[1]
        header = first.answer[1].get("Retry-After")
        print(f"  503 at {first.time:.3f} with Retry-After: {header} ({dates[0]}); next request at "
              f"{second.time:.3f}, {second.time - dates[0]:+.3f} s from the date, {second.time - first.time:.3f} s "
              f"after the 503")
        p.expect(first.status == 503 and second.status == 204 and first.lines == backlog,
                 "the backlog gets 503, the next request (none in between) is taken", f"{first!r} {second!r}")
        p.expect(dates[0] - 0.05 <= second.time <= dates[0] + 1.5,
                 "the next request comes at the Retry-After date (not before, within 1.5 s)",
                 f"{second.time - dates[0]:+.3f} s")
    p.expect(all(line in stored.values() for line in backlog) and g.spooled() == 0, "everything stored")


def unauthorized_store(ctx, p):
    print("4. 401: one warning, back off, keep the points, exit 75 at drain_timeout")
    g = Gateway(ctx, "unauthorized")
    password = g.secret("influx-password", "s3cret-pw")
    minutes, drain = 3, 5
    with FakeStore(unauthorized()) as store:
        g.write_config([f"url = {store.url}", "user = tryggd", f"password_file = {password}"],
                       minutes=minutes, speed=0, drain_timeout=drain)
        code, wall = g.run(60)
        writes = store.writes()
    expect_exit(p, "401", g, code, EX_TEMPFAIL, wall)
    times = [r.monotonic - g.started for r in writes]
    gaps = [b - a for a, b in zip(times, times[1:])]
    print(f"  {len(writes)} requests in {wall:.1f} s, at {', '.join(f'{t:.2f}' for t in times)} s "
          f"(gaps {', '.join(f'{x:.2f}' for x in gaps)})")
    p.expect(3 <= len(writes) <= 15, f"retried, not in a tight loop: {len(writes)} requests in {wall:.1f} s "
             "(3 to 15)")
    # Each wait starts once the answer is in, after the store saw the
    # request: a lower bound that load on the machine cannot break.
    p.expect(bool(gaps) and all(gap >= 0.98 * 0.5 * 2 ** k for k, gap in enumerate(gaps)),
             "backing off: at least 0.5 s, then doubling", f"{gaps}")
    basic = "Basic " + base64.b64encode(b"tryggd:s3cret-pw").decode()
    p.expect(all(r.header("Authorization") == basic for r in writes), "each request authenticates as tryggd",
             f"{[r.header('Authorization') for r in writes][:2]}")
    warned = g.warnings("refused the credentials")
    p.expect(len(warned) == 1 and "check user and password_file" in warned[0] and "HTTP 401" in warned[0]
             and "authorization failed" in warned[0],
             "one warning: refused the credentials (HTTP 401: authorization failed); check user and password_file",
             f"{g.warnings()}")
    left = g.spooled()
    points = minutes * len(POINTS_PER_WINDOW)
    p.expect(left == points, f"the points stay in the spool ({left} of {points})")
    p.expect(bool(g.warnings(f"stopping with {points} points not yet in the store")),
             "the stop says how many points stay in the spool", f"{g.warnings()}")


def not_found(ctx, p):
    print("5. 404: the warning says how to make the database")
    g = Gateway(ctx, "notfound")
    with FakeStore(database_not_found()) as store:
        g.write_config([f"url = {store.url}"], minutes=2, speed=0, drain_timeout=2)
        code, wall = g.run(60)
        writes = store.writes()
    expect_exit(p, "404", g, code, EX_TEMPFAIL, wall)
    warned = g.warnings("has no such database or bucket")
    print(f"  {len(writes)} requests; {warned[0] if warned else g.warnings()}")
    p.expect(len(warned) == 1 and 'database not found: \\"trygghet\\"' in warned[0]
             and "tryggctl setup-influx" in warned[0],
             "one warning with the store's answer and the hint `tryggctl setup-influx`", f"{g.warnings()}")
    p.expect(g.spooled() == 2 * len(POINTS_PER_WINDOW), "the points stay in the spool", f"{g.spooled()}")


def server_error(ctx, p):
    print("6. 500 with a body of two lines: one log line")
    g = Gateway(ctx, "servererror")
    with FakeStore(status(500, b"line one\nline two\n", {"Content-Type": "text/plain"})) as store:
        g.write_config([f"url = {store.url}"], minutes=2, speed=0, drain_timeout=2)
        code, wall = g.run(60)
        writes = store.writes()
    expect_exit(p, "500", g, code, EX_TEMPFAIL, wall)
    log = g.log()
    warned = g.warnings("had a server error")
    print(f"  {len(writes)} requests; {warned[0] if warned else g.warnings()}")
    p.expect(len(warned) == 1 and "(HTTP 500: line one line two)" in warned[0],
             "one warning with the body on one line: (HTTP 500: line one line two)", f"{g.warnings()}")
    p.expect(all(LOG_LINE.match(line) for line in log), "no log line broken in two",
             f"{[line for line in log if not LOG_LINE.match(line)]}")


def flush_interval(ctx, p):
    print("9. flush_interval = 5min: fewer, larger requests; the rest at the stop")
    g = Gateway(ctx, "flush")
    with FakeStore() as store:
        # 17 virtual minutes at 300 per second: a request at most every 5
        # virtual minutes (1 s of real time), and what is left at the end.
        g.write_config([f"url = {store.url}", "flush_interval = 5min"], minutes=17, speed=300, drain_timeout=10)
        code, wall = g.run(60)
        writes = store.writes()
    expect_exit(p, "flush_interval", g, code, 0, wall)
    gaps = [b.monotonic - a.monotonic for a, b in zip(writes, writes[1:])]
    sizes = [len(w.lines) for w in writes]
    print(f"  {len(writes)} requests of {sizes} lines, {', '.join(f'{gap:.2f}' for gap in gaps)} s apart")
    # 17 windows of 3 points: the first at once (nothing sent yet), then
    # at most one every 5 virtual minutes, and the stop's flush.
    p.expect(sum(sizes) == 17 * 3, "flush_interval: every point sent", f"{sum(sizes)}")
    p.expect(len(writes) <= 5, "flush_interval: at most one request every 5 virtual minutes and the stop's",
             summary(writes))
    p.expect(all(gap >= 0.95 for gap in gaps[:-1]), "flush_interval: requests 5 virtual minutes (1 s) apart",
             str(gaps))


def dialects(ctx, p):
    print("7. v2, v3 and victoriametrics: the requests byte for byte")
    minutes = 3
    cases = [
        ("v2", ["api = v2", "org = Eskilstuna kommun", "bucket = trygghet", "token_file = {token}", "gzip = yes"],
         "/api/v2/write?org=Eskilstuna+kommun&bucket=trygghet&precision=s", "Token {token_text}", "gzip"),
        ("v3", ["api = v3", "database = trygghet", "token_file = {token}"],
         "/api/v3/write_lp?db=trygghet&precision=second", "Bearer {token_text}", None),
        ("victoriametrics", ["api = victoriametrics", "database = trygghet", "verify = none"],
         "/write?db=trygghet&precision=s", None, None),
    ]
    site, site_escaped = "Årby torg", "Årby\\ torg"
    for api, keys, target, authorization, encoding in cases:
        g = Gateway(ctx, f"dialect-{api}")
        token_text = f"tok-{api}-Zm9v=="
        token = g.secret("influx-token", token_text)
        with FakeStore() as store:
            g.write_config([f"url = {store.url}", *(k.format(token=token) for k in keys)],
                           minutes=minutes, speed=0, drain_timeout=10, site=site)
            code, wall = g.run(60)
            requests = store.snapshot()[0]
        expect_exit(p, api, g, code, 0, wall)
        if not p.expect(bool(requests), f"{api}: requests came"):
            continue
        print(f"  {api}: {len(requests)} requests, first: {requests[0].method} {requests[0].target}")
        expected_auth = authorization.format(token_text=token_text) if authorization else None
        wrong = []
        for r in requests:
            headers = {k.lower(): v for k, v in r.headers.items()}
            if (r.method, r.target) != ("POST", target):
                wrong.append(f"#{r.index}: {r.method} {r.target}")
            if headers.get("authorization") != expected_auth:
                wrong.append(f"#{r.index}: Authorization {headers.get('authorization')!r}")
            if headers.get("content-type") != "text/plain; charset=utf-8":
                wrong.append(f"#{r.index}: Content-Type {headers.get('content-type')!r}")
            if headers.get("content-encoding") != encoding:
                wrong.append(f"#{r.index}: Content-Encoding {headers.get('content-encoding')!r}")
            if "expect" in headers:
                wrong.append(f"#{r.index}: Expect {headers['expect']!r}")
            if int(headers.get("content-length", -1)) != len(r.raw):
                wrong.append(f"#{r.index}: Content-Length {headers.get('content-length')} for {len(r.raw)} bytes")
            if encoding == "gzip" and (r.raw[:2] != b"\x1f\x8b" or r.decode_error):
                wrong.append(f"#{r.index}: not a gzip body ({r.decode_error})")
            if r.body is None or not r.body.endswith(b"\n") or b"\n\n" in r.body:
                wrong.append(f"#{r.index}: the body is not lines each ending in a newline")
        auth_text = f"Authorization: {authorization.split()[0]} <token>" if authorization else "no Authorization"
        p.expect(not wrong, f"{api}: every request POST {target}, {auth_text}, Content-Type: text/plain; "
                 f"charset=utf-8{', Content-Encoding: gzip (a gzip body)' if encoding else ', not compressed'}",
                 "; ".join(wrong[:4]))
        lines = [line for r in requests for line in r.lines]
        check_window_points(p, api, lines, g.id, minutes, site_escaped)
        p.expect(len(lines) == minutes * len(POINTS_PER_WINDOW), f"{api}: no other line",
                 f"{len(lines)} lines")


def rotation(ctx, p):
    print("8. credentials rotate: v2 answers 401 until the token file holds the new token")
    g = Gateway(ctx, "rotation")
    token = g.secret("influx-token", "old-token")
    minutes = 3

    def rule(request):
        return None if request.header("Authorization") == "Token new-token" else V2_UNAUTHORIZED

    with FakeStore(rule) as store:
        g.write_config([f"url = {store.url}", "api = v2", "org = eskilstuna", "bucket = trygghet",
                        f"token_file = {token}"], minutes=minutes, speed=0, drain_timeout=15)
        g.start()
        rotated = None
        try:
            store.wait_requests(2, 15)
            replace_file(token, "new-token\n")
            rotated = time.monotonic()
        except TimeoutError as e:
            p.expect(False, "two refused requests before the rotation", str(e))
        code, wall = g.wait(60)
        requests, stored, history = store.snapshot()
    expect_exit(p, "rotation", g, code, 0, wall)
    if rotated is None:
        return
    before = [r for r in requests if r.monotonic < rotated]
    after = [r for r in requests if r.monotonic >= rotated]
    tokens = [r.header("Authorization") for r in requests]
    print(f"  token rotated {rotated - g.started:.2f} s after the start; requests: "
          + ", ".join(f"{r.monotonic - g.started:.2f} s {r.header('Authorization')} -> {r.status}" for r in requests))
    p.expect(len(before) >= 2 and all(t == "Token old-token" and r.status == 401
                                      for r, t in zip(before, tokens)),
             "before the rotation: the old token, refused", f"{tokens[:len(before)]}")
    p.expect(bool(after) and all(r.header("Authorization") == "Token new-token" and r.status == 204 for r in after),
             "after it: the new token (read again before the retry), every request taken",
             f"{[(r.header('Authorization'), r.status) for r in after]}")
    p.expect(len(g.warnings("refused the credentials", "check token_file")) == 1,
             "one warning: refused the credentials; check token_file", f"{g.warnings()}")
    p.expect(any("takes points again" in line for line in g.log()), "the log says the store takes points again")
    p.expect(g.spooled() == 0, "the spool is empty", f"{g.spooled()} lines left")
    p.expect(not fake_store_duplicates(history), "no point stored twice")
    check_window_points(p, "rotation", [line for _, line, _ in history], g.id, minutes)


# ---------------------------------------------------------------- main

class Context:
    def __init__(self, tryggd, source, work):
        self.tryggd, self.source, self.work = tryggd, source, work
        # tryggd's own log prefixes ("warning: "), no systemd around it, no
        # credentials from elsewhere.
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "CREDENTIALS_DIRECTORY", "TRYGGD_DEBUG")}


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR SERVERS_DIR")
    tryggd, source, servers_dir = (os.path.abspath(a) for a in argv[1:])
    work = tempfile.mkdtemp(prefix="store_answers-", dir=os.path.dirname(servers_dir))
    print(f"work dir {work}")
    ctx = Context(tryggd, source, work)
    p = Problems()
    began = time.monotonic()
    for scenario in (partial_write, too_large_batches, busy, unauthorized_store, not_found, server_error, flush_interval,
                     dialects, rotation):
        t0 = time.monotonic()
        scenario(ctx, p)
        print(f"  ({time.monotonic() - t0:.1f} s)")
    print(f"all scenarios: {time.monotonic() - began:.1f} s")
    return p.verdict(work, "partial writes, 413, 429/503, 401, 404, 500, v2/v3/victoriametrics requests and a "
                     "rotated token all handled as documented", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
