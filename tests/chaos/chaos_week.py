#!/usr/bin/env python3
"""A chaos week: one gateway's simulated week while, at random moments, the
broker goes away, the store is SIGKILLed, tryggd is SIGKILLed and the
filesystem of state_dir fills up; then every window and every seq is
accounted for.

    chaos_week.py TRYGGD SOURCE_DIR WORK_PARENT [--seconds N] [--seed S]

tryggd runs the week (window 5 min, sim footfall, light and lamp sensors
reading once a minute, windows and readings on MQTT at QoS 1, points to an
influxd) at a speed that makes it last N real seconds (default 75;
TRYGGD_LONG=1 in the environment, as `scripts/test --long` sets it: 600).
A fault starts every 2.5 to 6 real seconds, its kind drawn from a shuffled
deck of the four (the seed is printed; pass it again, or set
TRYGGD_CHAOS_SEED, to replay the same schedule):

  broker   mosquitto stopped (SIGTERM) for 0.5 to 3 s and started again on
           the same port and persistence.  SIGTERM, not SIGKILL: a SIGKILLed
           mosquitto loses what it acknowledged but had not saved, which is
           its loss, not tryggd's (test_mqtt_broker_killed.py shows tryggd's
           side of a SIGKILL);
  store    influxd SIGKILLed, started again 0.5 to 4 s later (it fsyncs its
           WAL before it answers, so a SIGKILL loses nothing it took);
  tryggd   SIGKILLed and started again 0 to 1.5 s later on the same
           state_dir.  The new process's simulated clock goes on from the
           time that really passed since the week began (its `start` is the
           week's start plus the real seconds since the first start, times
           the speed), as a board's clock would, so a restart leaves the gap
           it would leave in the field;
  disk     state_dir's filesystem (a 32 MiB tmpfs mounted here) filled to
           the last byte for 1.5 to 5 s, then freed.  Needs root; without
           root this fault is left out (said at the start).

A tryggd SIGKILL is not played while the disk is full nor in the 4 s after:
windows held in memory while the disk refuses them are lost at a crash
(docs/reliability.md), and this test counts what the design bounds, not
that.  The faults stop 8 s before the end, the week ends by itself
(`end`), tryggd delivers everything and exits 0.  Then, per series (each
sensor, and the gateway's own point):

  - every window of the week is in the store once, except (a) those of the
    time no tryggd ran (from a kill to the restart's start: the gap), and
    (b) the window open at each kill.  A missing window anywhere else fails
    the test, unless the counters say points were dropped (spool_dropped);
    a window in the store where no tryggd ran fails it too.  influxd keeps
    one point per series and time, so "once" is checked as count() equal
    to the points returned;
  - every window message the subscriber got is in the store;
  - the subscriber (mosquitto_sub, persistent session, QoS 1) saw every
    reading seq from 1 to the last, except: the numbers a kill skipped
    (recorded by the killed process, never kept), and the messages the
    counters `dropped` and `lost` say were not sent; a seq seen twice
    carries the same reading (at least once, never reused).

The counters come from the gateway's points in the store: each process
counts from its start (uptime_s falls at a restart), so a run's figures are
its last point's, summed over runs, and the last run's stop line.

Prints the faults played, the windows expected, found, lost at kills, gap,
lost otherwise, duplicates seen on MQTT, seqs missing and why.  Exit 0 when
all hold, 1 with the list of what did not (the working folder is kept).
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from mqtt_resilience import Broker, Subscriber, Tryggd, close_all, find_program, highest_recorded_seq  # noqa: E402
from capture import Problems  # noqa: E402

WEEK_S = 7 * 86400
WINDOW_S = 300
INTERVAL_S = 60
TMPFS_SIZE = "32m"
SERIES = ["passage", "ljus", "lampa", "gateway"]
MEASUREMENT = {"passage": "footfall", "ljus": "light", "lampa": "lamp", "gateway": "gateway"}
QUIET_END_S = 8.0          # no fault in the last seconds of the week
AFTER_DISK_S = 4.0         # no tryggd kill this soon after the disk is freed
EXIT_TIMEOUT_S = 120.0
# "2026-12-01 06:00:00.000 tryggd: warning: store: http://... did not ...":
# the level, and the words that say what (up to the first URL or number).
LOG_LINE = re.compile(r"^\S+ \S+ tryggd: (warning|error): ([a-z]+: [^/0-9(]{0,40})")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def align(t):
    return t // WINDOW_S * WINDOW_S


def rfc3339_s(text):
    """Unix seconds of 2026-11-02T06:00:00.000Z."""
    return int(time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone)


class Disk:
    """state_dir's filesystem: a tmpfs of its own (root), which fill() fills
    to the last byte and free() empties again."""

    def __init__(self, work):
        self.mount_point = os.path.join(work, "fs")
        os.makedirs(self.mount_point)
        self.mounted = False
        self.filler = os.path.join(self.mount_point, "filler")
        self.full = False
        if os.geteuid() != 0:
            self.why_not = "not root: cannot mount a tmpfs"
            return
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0755", "tmpfs",
                            self.mount_point], capture_output=True, text=True)
        self.mounted = r.returncode == 0
        self.why_not = None if self.mounted else f"cannot mount a tmpfs: {r.stderr.strip()}"

    def fill(self):
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        chunk = b"\0" * 65536
        try:
            while True:
                try:
                    os.write(fd, chunk)
                except OSError:
                    if len(chunk) == 1:
                        break
                    chunk = chunk[:max(1, len(chunk) // 16)]
        finally:
            os.close(fd)
        self.full = True

    def free(self):
        if os.path.exists(self.filler):
            os.unlink(self.filler)
        self.full = False

    def close(self):
        self.free()
        if self.mounted and subprocess.run(["umount", self.mount_point], capture_output=True).returncode != 0:
            time.sleep(1)
            if subprocess.run(["umount", self.mount_point], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", self.mount_point])
        self.mounted = False


class Week:
    """Everything one chaos week started, and what it recorded."""

    def __init__(self, args, servers):
        self.args = args
        self.servers = servers
        self.problems = Problems()
        parent = os.path.abspath(args.work_parent)
        os.makedirs(parent, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="chaos_week-", dir=parent)
        token = uuid.uuid4().hex[:8]
        self.prefix, self.gateway = f"tryggchaos-{token}", f"chaos-{token}"
        self.speed = WEEK_S / args.seconds
        # Nine days back, midnight: a finished week in the recent past.
        self.start = (int(time.time()) - 9 * 86400) // 86400 * 86400
        self.end = self.start + WEEK_S
        self.random = random.Random(args.seed)
        self.disk = Disk(self.work)
        self.state = os.path.join(self.disk.mount_point, "state")
        self.broker = Broker(os.path.join(self.work, "broker"))
        self.store = servers.Influxd(os.path.join(self.work, "store"))
        self.sub = None
        self.tryggd = None
        self.runs = []          # dicts: spawned (monotonic), start (virtual s), killed, last_seq
        self.faults = {"broker": 0, "store": 0, "tryggd": 0, "disk": 0}
        self.t0 = None

    # ---- tryggd

    def write_config(self, path, start):
        lines = [
            "# Written by tests/chaos/chaos_week.py",
            "[gateway]", f"id = {self.gateway}", "district = Nyfors", "site = Nyfors centrum",
            f"window = {WINDOW_S}", f"state_dir = {self.state}",
            "", "[simulation]", f"start = {iso(start)}", f"end = {iso(self.end)}", f"speed = {self.speed:.3f}",
            "drain_timeout = 60", f"profiles = {os.path.join(self.args.source, 'seeds', 'districts.ini')}",
            "", "[mqtt]", f"uri = {self.broker.uri}", f"topic_prefix = {self.prefix}", "qos = 1",
            "health_interval = 1h", "status_interval = 1h",
            "", "[influx]", f"url = {self.store.url}", "api = v1", "database = trygghet", "timeout = 5",
        ]
        sensors = [("passage", "footfall", []), ("ljus", "light", []), ("lampa", "lamp", ["light = ljus"])]
        for name, kind, extra in sensors:
            lines += ["", f"[sensor.{name}]", f"type = {kind}", "driver = sim", f"interval = {INTERVAL_S}",
                      "seed = 19", *extra]
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def spawn(self):
        """Start tryggd on the clock that really passed since the first start."""
        now = time.monotonic()
        if self.t0 is None:
            self.t0 = now
        start = self.start + int((now - self.t0) * self.speed)
        n = len(self.runs)
        config = os.path.join(self.work, f"tryggd-{n}.conf")
        self.write_config(config, start)
        env_log = os.path.join(self.work, f"tryggd-{n}.log")
        self.tryggd = Tryggd(self.args.tryggd, config, env_log)
        self.runs.append({"spawned": now, "start": start, "killed": None, "last_seq": None})

    def kill_tryggd(self):
        self.tryggd.kill()
        self.tryggd.log.close()
        run = self.runs[-1]
        run["killed"] = time.monotonic()
        run["last_seq"] = highest_recorded_seq(self.state)

    # ---- the week

    def play(self):
        print(f"chaos week {iso(self.start)} .. {iso(self.end)}: {self.args.seconds:.0f} s real, speed "
              f"{self.speed:.0f}, window {WINDOW_S} s, seed {self.args.seed}")
        if self.disk.why_not:
            print(f"  the disk fault is left out: {self.disk.why_not}")
        os.makedirs(self.state)
        self.broker.start()
        self.store.start()
        self.sub = Subscriber(self.broker, self.prefix, os.path.join(self.work, "subscriber.txt"))
        self.sub.start()
        self.spawn()
        last_disk_free = -1e9
        deck = []
        quiet_from = self.t0 + self.args.seconds - QUIET_END_S
        next_fault = self.t0 + self.random.uniform(2.0, 4.0)
        while True:
            now = time.monotonic()
            if now >= quiet_from or self.tryggd.proc.poll() is not None:
                break
            if now < next_fault:
                time.sleep(min(0.05, next_fault - now))
                continue
            # Drawn from a shuffled deck of the kinds, so that even a short
            # week plays each of them.
            if not deck:
                deck = ["broker", "store", "tryggd"] + (["disk"] if not self.disk.why_not else [])
                self.random.shuffle(deck)
            kind = deck.pop()
            if kind == "tryggd" and (self.disk.full or now - last_disk_free < AFTER_DISK_S):
                kind = "store"
            length = {"broker": (0.5, 3.0), "store": (0.5, 4.0), "tryggd": (0.0, 1.5),
                      "disk": (1.5, 5.0)}[kind]
            hold = min(self.random.uniform(*length), max(0.0, quiet_from - now - 0.5))
            self.faults[kind] += 1
            at = now - self.t0
            if kind == "broker":
                self.broker.stop()
                time.sleep(hold)
                self.broker.start()
                self.sub.ensure()
            elif kind == "store":
                self.store.kill()
                time.sleep(hold)
                self.store.start()
            elif kind == "tryggd":
                self.kill_tryggd()
                time.sleep(hold)
                self.spawn()
            else:
                self.disk.fill()
                time.sleep(hold)
                self.disk.free()
                last_disk_free = time.monotonic()
            print(f"  +{at:5.1f} s (virtual {iso(self.start + int(at * self.speed))}): {kind} "
                  f"{'down' if kind != 'disk' else 'full'} for {hold:.1f} s")
            next_fault = time.monotonic() + self.random.uniform(2.5, 6.0)
        self.sub.ensure()
        try:
            status = self.tryggd.proc.wait(timeout=EXIT_TIMEOUT_S + self.args.seconds)
        except subprocess.TimeoutExpired:
            status = None
        self.tryggd.reader.join(timeout=5)
        self.runs[-1]["last_seq"] = highest_recorded_seq(self.state)
        wall = time.monotonic() - self.t0
        self.problems.expect(status == 0, f"tryggd ends the week and exits 0 ({wall:.1f} s)",
                             f"status {status}; {self.tryggd.log.name}")
        # Everything it sent reached the subscriber: a marker after it.
        self.sub.marker("end", 30)
        return wall

    def close(self):
        close_all((self.tryggd, self.sub))
        self.store.close()
        self.broker.close()
        self.disk.close()


# ---- the checks

def stored(week):
    """({series: [window starts, s]}, {series: count()}, [gateway rows])."""
    servers, store = week.servers, week.store
    where = f'"gateway" = {servers.quote_string(week.gateway)}'
    found, counted = {}, {}
    for key in SERIES:
        measurement = MEASUREMENT[key]
        field = "uptime_s" if key == "gateway" else "coverage"
        cond = where + ("" if key == "gateway" else f' AND "sensor" = {servers.quote_string(key)}')
        rows = [r for s in servers.influx_series(store, f'SELECT "{field}" FROM "{measurement}" WHERE {cond}')
                for r in s["rows"]]
        found[key] = sorted(r["time"] for r in rows)
        counts = servers.influx_series(store, f'SELECT count("{field}") FROM "{measurement}" WHERE {cond}')
        counted[key] = sum(r.get("count") or 0 for s in counts for r in s["rows"])
    gateway_rows = [r for s in servers.influx_series(
        store, f'SELECT "uptime_s", "dropped", "lost", "spool_dropped" FROM "gateway" WHERE {where}')
        for r in s["rows"]]
    gateway_rows.sort(key=lambda r: r["time"])
    return found, counted, gateway_rows


def counters(gateway_rows):
    """Sums over runs of each counter: a run's figures are its last point's
    (uptime_s falls when a new process starts)."""
    totals = {"dropped": 0, "lost": 0, "spool_dropped": 0}
    last = None
    for row in gateway_rows:
        if last is not None and (row.get("uptime_s") or 0) < (last.get("uptime_s") or 0):
            for k in totals:
                totals[k] += last.get(k) or 0
        last = row
    if last is not None:
        for k in totals:
            totals[k] += last.get(k) or 0
    return totals


def check_windows(week, p):
    found, counted, gateway_rows = stored(week)
    totals = counters(gateway_rows)
    expected = list(range(week.start, week.end, WINDOW_S))
    # Per kill: the last moment the killed run surely reached (its last
    # reading's time, from the subscriber), the latest it could have reached
    # (its start plus the real time it ran, times the speed), and the next
    # run's start.
    readings = {}
    for topic, payload in week.sub.messages():
        if topic.endswith("/reading"):
            message = json.loads(payload)
            readings.setdefault(message["seq"], rfc3339_s(message["ts"]))
    kills = []
    first_seq = 1
    for run, following in zip(week.runs, week.runs[1:]):
        ts = [readings[s] for s in range(first_seq, run["last_seq"] + 1) if s in readings]
        reached = max(ts) if ts else run["start"]
        latest = week.start + int((run["killed"] - week.t0) * week.speed) + 1
        kills.append((reached, latest, following["start"]))
        first_seq = run["last_seq"] + 1

    def why_missing(w):
        """'kill', 'gap' or None for a window start w not in the store."""
        for reached, latest, restart in kills:
            # The window of the last reading the killed run kept: open at
            # the kill.  Every window that closed before that reading was
            # spooled before it was committed (spool_append() writes at
            # the close, the outbox once per turn), so it must be there.
            if w <= reached < w + WINDOW_S:
                return "kill"
            # After it and before the restart's first window: no tryggd
            # ran, or the killed one's last turn was never kept.
            if reached < w and w + WINDOW_S <= restart:
                return "gap"
        return None

    def where_nobody_ran(w):
        return any(latest <= w and w + WINDOW_S <= restart for _, latest, restart in kills)

    summary = {}
    for key in SERIES:
        have = found[key]
        distinct = sorted(set(have))
        p.expect(counted[key] == len(have), f"{key}: count() agrees with the points returned",
                 f"{counted[key]} vs {len(have)}")
        missing = sorted(set(expected) - set(distinct))
        extra = sorted(set(distinct) - set(expected))
        reasons = {"kill": 0, "gap": 0, None: 0}
        unexplained = []
        for w in missing:
            why = why_missing(w)
            reasons[why] += 1
            if why is None:
                unexplained.append(w)
        ghosts = [w for w in distinct if where_nobody_ran(w)]
        summary[key] = (len(distinct), reasons["kill"], reasons["gap"], len(unexplained))
        p.expect(not extra, f"{key}: no window outside the week", f"{[iso(w) for w in extra[:3]]}")
        allowed = totals["spool_dropped"]
        p.expect(len(unexplained) <= allowed,
                 f"{key}: every window is in the store but for the kills and gaps "
                 f"({len(unexplained)} otherwise missing, {allowed} counted as dropped)",
                 f"first {[iso(w) for w in unexplained[:5]]}")
        p.expect(not ghosts, f"{key}: no window from a time no tryggd ran", f"{[iso(w) for w in ghosts[:3]]}")
        p.expect(reasons["kill"] <= len(kills),
                 f"{key}: at most the open window lost at each kill ({reasons['kill']} for {len(kills)} kills)")

    # Every window the subscriber got is in the store.
    on_mqtt, duplicates = {}, 0
    for topic, payload in week.sub.messages():
        if topic.endswith("/window"):
            message = json.loads(payload)
            key = message["sensor"]
            starts = on_mqtt.setdefault(key, [])
            start = rfc3339_s(message["start"])
            duplicates += start in starts
            starts.append(start)
    never_on_mqtt = 0
    for key in SERIES[:3]:
        never_on_mqtt += len(set(found[key]) - set(on_mqtt.get(key, [])))
        not_stored = sorted(set(on_mqtt.get(key, [])) - set(found[key]))
        p.expect(not not_stored, f"{key}: every window message is in the store ({len(set(on_mqtt.get(key, [])))})",
                 f"{len(not_stored)} not: {[iso(w) for w in not_stored[:3]]}")
    return expected, summary, totals, (duplicates, never_on_mqtt), len(kills)


def check_seqs(week, p, totals):
    seen = {}
    twice = 0
    reused = []
    for topic, payload in week.sub.messages():
        if not topic.endswith("/reading"):
            continue
        message = json.loads(payload)
        seq = message["seq"]
        key = (message["sensor"], message["ts"])
        if seq in seen:
            twice += 1
            if seen[seq] != key:
                reused.append(f"{seq}: {seen[seq]} and {key}")
        else:
            seen[seq] = key
    p.expect(not reused, f"no seq used for two readings ({twice} seen again, each the same reading)",
             "; ".join(reused[:3]))
    last = week.runs[-1]["last_seq"]
    p.expect(seen and max(seen) <= last, f"no seq above the last recorded ({last})")
    tails, first_seq = set(), 1
    for run in week.runs[:-1]:
        in_run = [s for s in range(first_seq, run["last_seq"] + 1) if s in seen]
        top = max(in_run) if in_run else first_seq - 1
        tails.update(range(top + 1, run["last_seq"] + 1))
        first_seq = run["last_seq"] + 1
    skipped = len(tails)
    holes = [s for s in range(1, last + 1) if s not in seen and s not in tails]
    counted = totals["dropped"] + totals["lost"]
    p.expect(len(holes) <= counted,
             f"every seq arrived but for the kills' skips and the counted drops "
             f"({len(holes)} missing, dropped + lost {counted})",
             f"first {holes[:10]}")
    return last, len(seen), twice, skipped, len(holes), counted


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tryggd")
    parser.add_argument("source")
    parser.add_argument("work_parent")
    long_run = os.environ.get("TRYGGD_LONG") == "1"
    parser.add_argument("--seconds", type=float, default=600.0 if long_run else 75.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv[1:])
    args.tryggd, args.source = os.path.abspath(args.tryggd), os.path.abspath(args.source)
    if args.seed is None:
        args.seed = int(os.environ.get("TRYGGD_CHAOS_SEED") or random.SystemRandom().randrange(1, 1 << 31))
    for program in ("mosquitto", "mosquitto_sub", "mosquitto_pub", "influxd"):
        find_program(program)
    sys.path.insert(0, os.path.join(args.source, "scripts", "lib"))
    import servers  # noqa: E402 (the path comes from the arguments)

    week = Week(args, servers)
    p = week.problems
    began = time.monotonic()
    try:
        wall = week.play()
        expected, summary, totals, duplicates, kills = check_windows(week, p)
        last, seen, twice, skipped, holes, counted = check_seqs(week, p, totals)
    finally:
        week.close()
    # However many faults, the log says each in a handful of lines.
    said = {}
    for n in range(len(week.runs)):
        with open(os.path.join(week.work, f"tryggd-{n}.log"), encoding="utf-8", errors="replace") as f:
            for line in f:
                m = LOG_LINE.match(line)
                if m:
                    said[m.group(1)] = said.get(m.group(1), 0) + 1
                    said[m.group(2)] = said.get(m.group(2), 0) + 1
    faults_played = sum(week.faults.values())
    log_lines = said.get("warning", 0) + said.get("error", 0)
    p.expect(log_lines <= 10 * max(1, faults_played),
             f"the log says each fault in a handful of lines ({log_lines} warnings and errors for "
             f"{faults_played} faults)", ", ".join(f"{k}: {v}" for k, v in sorted(said.items())[:12]))
    faults = ", ".join(f"{k} {n}" for k, n in week.faults.items())
    print(f"  faults: {faults} ({sum(week.faults.values())} in {wall:.0f} s); tryggd ran {len(week.runs)} times")
    for key, (n, kill, gap, other) in summary.items():
        print(f"  {key}: windows expected {len(expected)}, found {n}, open at a kill {kill}, "
              f"gap (no tryggd) {gap}, lost otherwise {other}")
    print(f"  counters: dropped {totals['dropped']}, lost {totals['lost']}, spool_dropped "
          f"{totals['spool_dropped']}; window messages seen twice on MQTT {duplicates[0]}, never seen there "
          f"{duplicates[1]} (in the store: lost with a full disk, or not yet kept at a kill)")
    print(f"  seq: last {last}, seen {seen} (again {twice}), skipped at {kills} kills {skipped}, "
          f"missing otherwise {holes} (counted {counted})")
    what = "; ".join(f"{k.strip()} {v}" for k, v in sorted(said.items()) if k not in ("warning", "error"))
    print(f"  log: {said.get('warning', 0)} warnings, {said.get('error', 0)} errors ({what})")
    print(f"runtime {time.monotonic() - began:.1f} s")
    return p.verdict(week.work, "the chaos week kept every window and seq but what its bounds allow",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
