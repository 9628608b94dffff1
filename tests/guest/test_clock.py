#!/usr/bin/env python3
"""Real-time steps of the wall clock, inside the guest, where we are root
and the clock is the guest's own to set:

    tests/guest/run -- python3 tests/guest/test_clock.py TRYGGD [TRYGGCTL]

tryggd runs in real time (no [simulation]) with `clock = trusted` (the
guest kernel calls its clock unsynchronised), 2 s windows and two sim
sensors read every second, against a mosquitto on the guest's loopback.
The clock is stepped three times, each an exact relative step
(adjtimex ADJ_SETOFFSET, which the kernel reports to a timerfd with
TFD_TIMER_CANCEL_ON_SET like any setting of the clock), half a second
into a window, by half a millisecond more than the round size so that the
whole seconds tryggd logs are the round size:

  1. back 60 s, after a few windows.  The window cut at the step is sent;
     the windows of the repeated minute are not stamped (counted), and the
     window timer keeps firing on the new clock (health's
     unstamped_windows rises one a window) instead of waiting the minute
     out, as a CLOCK_REALTIME timer alone would.
  2. forward 120 s, 10 s later: the clock then passes the last window
     sent by the step itself; windows are aligned to the new clock, and
     none is sent for the span jumped over.
  3. back 3 s, a few windows later: small enough that the clock passes
     the last window sent by itself within the run; the windows it lives
     again are not sent twice, and the window starting where the last
     one sent ended is sent as soon as it closes.

A 60 s step back cannot be waited out within a guest test that should
take about a minute with its boot, hence the small third step for the
clock passing the guard by running.

Each sensor's window starts on MQTT must be exactly the expected ones,
each once; every step logged once with its size; unstamped_windows in the
last health message and in the stop line equal to the windows not
stamped (6 + 3 here); the first window after the forward step, and the
one starting where the last one sent before the small step ended, are on
MQTT less than two windows after they start (one after they close)."""

import ctypes
import json
import os
import re
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import guest  # noqa: E402

WINDOW_S = 2
PREFIX = "gc"
TOPIC = f"{PREFIX}/arby/gw-clock"
SENSORS = ("sky", "door")
EXTRA_S = 0.0005        # each step is this much larger than its round size
BACK_S, FORWARD_S, SMALL_BACK_S = 60, 120, 3
BACK_SPAN_S = 10        # between the first two steps


# <sys/timex.h> on Linux x86_64; ctypes pads as the C compiler does.
class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
                ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
                ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
                ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
                ("padding", ctypes.c_int * 11)]


ADJ_SETOFFSET = 0x0100
LIBC = ctypes.CDLL(None, use_errno=True)


def step_clock(seconds):
    """Step CLOCK_REALTIME by exactly `seconds` (signed, whole
    microseconds); (the clock just before, just after)."""
    usec = round(seconds * 1e6)
    tx = Timex(modes=ADJ_SETOFFSET, time_sec=usec // 1000000, time_usec=usec % 1000000)
    before = time.time()
    if LIBC.adjtimex(ctypes.byref(tx)) < 0:
        raise OSError(ctypes.get_errno(), f"adjtimex ADJ_SETOFFSET {seconds:+} s")
    return before, time.time()


def align(t):
    """The start (s) of the window that holds t (s)."""
    return int(t // WINDOW_S) * WINDOW_S


class Arrivals(threading.Thread):
    """Tails the subscriber's file: the guest's clock when each window
    message was first seen, {(sensor, start s): time}."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.seen = {}
        self.stop = threading.Event()

    def run(self):
        done = 0
        while not self.stop.is_set():
            with open(self.path, "rb") as f:
                f.seek(done)
                data = f.read()
            now = time.time()
            end = data.rfind(b"\n") + 1
            done += end
            for line in data[:end].splitlines():
                parts = line.split(b" ")
                if len(parts) != 3 or not parts[1].endswith(b"/window"):
                    continue
                try:
                    msg = json.loads(bytes.fromhex(parts[2].decode()))
                    start = guest.capture.parse_rfc3339_ms(msg["start"]) // 1000
                except (ValueError, KeyError, TypeError):
                    continue
                self.seen.setdefault((parts[1].decode().split("/")[-2], start), now)
            time.sleep(0.05)


def write_config(path, work):
    guest.capture.write_config(path, [
        ("gateway", ["id = gw-clock", "district = Årby", f"window = {WINDOW_S}", f"state_dir = {work}/state",
                     "clock = trusted"]),
        ("mqtt", ["uri = tcp://127.0.0.1:18830", f"topic_prefix = {PREFIX}", "health_interval = 1s"]),
        *guest.capture.sim_sensors(guest.capture.SKY_AND_DOOR),
    ], comment="Written by tests/guest/test_clock.py")


def window_starts(messages, sensor):
    """The window starts (s) of one sensor in arrival order, repeats kept."""
    return [guest.capture.parse_rfc3339_ms(msg["start"]) // 1000 for _r, topic, msg in messages
            if topic == f"{TOPIC}/{sensor}/window"]


def health(messages):
    """[(ts s, unstamped_windows)] in arrival order."""
    return [(guest.capture.parse_rfc3339_ms(msg["ts"]) / 1000, msg.get("unstamped_windows"))
            for _r, topic, msg in messages if topic == f"{TOPIC}/health"]


def main(argv):
    guest.require_guest()
    if len(argv) < 2:
        sys.exit("usage: test_clock.py TRYGGD [TRYGGCTL]")
    tryggd = os.path.abspath(argv[1])
    problems = guest.Problems()
    work = tempfile.mkdtemp(prefix="tryggd-clock-")
    # The clock's floor is the time the build was configured: a day ahead,
    # a step back can never take the clock below it, however soon after
    # configuring this runs.
    step_clock(86400)
    broker = guest.Broker(work, PREFIX)
    arrivals = Arrivals(broker.capture_path)
    arrivals.start()
    config = os.path.join(work, "tryggd.conf")
    write_config(config, work)
    started = time.time()
    proc = guest.start_tryggd(tryggd, config, work)
    steps = []   # (what, window start at the step, clock before, clock after)
    try:
        if not guest.wait_for("tryggd online",
                              lambda: b"gw-clock/status" in open(broker.capture_path, "rb").read(), 20):
            problems.add("tryggd did not come online")
            return problems.finish("test_clock")
        online = time.time()
        # Two whole windows, then the one the first step cuts.
        c1 = guest.next_window_start(WINDOW_S, 0.3) + 2 * WINDOW_S
        guest.sleep_until(c1 + 0.5)
        before, after = step_clock(-(BACK_S + EXTRA_S))
        steps.append(("back", c1, before, after))
        # 10 s on the clock one minute back.
        d = c1 - BACK_S + BACK_SPAN_S
        guest.sleep_until(d + 0.5)
        before, after = step_clock(FORWARD_S + EXTRA_S)
        steps.append(("forward", d, before, after))
        # A window cut by the step, a whole one, then the small step back
        # in the next one.
        e = align(after) + 2 * WINDOW_S
        guest.sleep_until(e + 0.5)
        before, after = step_clock(-(SMALL_BACK_S + EXTRA_S))
        steps.append(("small back", e, before, after))
        # The clock passes e + 2, the end of the window cut by the step;
        # that window and the next close; the stop cuts the one after.
        guest.sleep_until(e + 3 * WINDOW_S + 0.5)
        stop_clock = time.time()
    finally:
        status = guest.stop_tryggd(proc, work)
        arrivals.stop.set()
        # What the stop sent: the cut window and the last health.
        messages = broker.messages(problems)
        broker.stop()

    for what, start, before, after in steps:
        print(f"step {what}: clock {before:.3f} -> {after:.3f} ({after - before:+.4f} s), "
              f"in the window starting {start}")
    # Each step landed where the plan says: half a second into the planned
    # window, and (exactly relative) half a second into another window.
    for what, start, before, after in steps:
        problems.check(f"step {what} made in the window planned", start, align(before))
        size = {"back": -BACK_S, "forward": FORWARD_S, "small back": -SMALL_BACK_S}[what]
        problems.check(f"step {what}: the clock after it is in the window expected",
                       align(before + size), align(after - 0.05))
    (_, c1, s1, _), (_, d, s2, _), (_, e, s3, _) = steps
    f_new = align(s2 + FORWARD_S)
    # The first to arrive: the one tryggd started in.
    first = min((starts[0] for starts in (window_starts(messages, sensor) for sensor in SENSORS) if starts),
                default=None)
    if first is None:
        problems.add("no window message at all")
        return problems.finish("test_clock")

    problems.check("the first window is the one tryggd started in", True,
                   align(started) <= first <= align(online))
    # The windows expected: from the first (tryggd started inside it) to
    # the one cut by the first step; from the one the forward step opened
    # to the one cut by the small step back; from the end of that one (the
    # guard) to the one cut by the stop.
    expected = (list(range(first, c1 + 1, WINDOW_S)) + list(range(f_new, e + 1, WINDOW_S)) +
                list(range(e + WINDOW_S, align(stop_clock) + 1, WINDOW_S)))
    print(f"windows expected: {first}..{c1}, {f_new}..{e}, {e + WINDOW_S}..{align(stop_clock)} "
          f"({len(expected)})")
    for sensor in SENSORS:
        got = window_starts(messages, sensor)
        twice = sorted({s for s in got if got.count(s) > 1})
        problems.check(f"{sensor}: no window start published twice", [], twice)
        problems.check(f"{sensor}: exactly the window starts expected, in order", expected, got)
        problems.check(f"{sensor}: every window start aligned to the window", True,
                       all(s % WINDOW_S == 0 for s in got))
        problems.check(f"{sensor}: no window in the repeated minute or the span jumped over", [],
                       [s for s in got if c1 < s < f_new])
        problems.check(f"{sensor}: windows before the first step contiguous", True,
                       [s for s in got if s <= c1] == list(range(first, c1 + 1, WINDOW_S)))
        by_start = {guest.capture.parse_rfc3339_ms(msg["start"]) // 1000: msg
                    for _r, topic, msg in messages if topic == f"{TOPIC}/{sensor}/window"}
        for cut, why in ((c1, "cut by the step back"), (f_new, "opened by the forward step"),
                         (e, "cut by the small step back")):
            coverage = by_start.get(cut, {}).get("coverage")
            problems.check(f"{sensor}: window {cut} ({why}) partly covered", True,
                           coverage is not None and 0 < coverage < 1)
            print(f"{sensor}: window {cut} ({why}) coverage {coverage}")

    # Not stamped: the windows the clock opened from one minute back until
    # the forward step (each closed by the window timer, the last cut by
    # the step), then the three the small step back lived again.
    unstamped_back = (d - align(s1 - BACK_S)) // WINDOW_S + 1
    unstamped_small = (e - align(s3 - SMALL_BACK_S)) // WINDOW_S + 1
    unstamped = unstamped_back + unstamped_small
    print(f"windows not stamped: {unstamped_back} after the step back, {unstamped_small} after the small one")
    figures = health(messages)
    problems.check("the last health message's unstamped_windows", unstamped, figures[-1][1] if figures else None)
    # The window timer fired on the clock a minute back: one more window
    # not stamped at each boundary.  The window just closing may not be
    # counted yet: health fires before the window at the same instant, a
    # moved timer may be a millisecond off, and a loaded guest late.
    back_health = [(ts, n) for ts, n in figures if align(s1 - BACK_S) <= ts < d + 1]
    print("health in the repeated minute (clock, unstamped_windows): "
          + ", ".join(f"{ts:.3f} {n}" for ts, n in back_health))
    wrong = []
    for ts, n in back_health:
        closed = len([b for b in range(align(s1 - BACK_S) + WINDOW_S, d + 1, WINDOW_S) if b <= ts + 0.002])
        if n not in (closed, closed - 1):
            wrong.append((round(ts, 3), n, closed))
    problems.check("health in the repeated minute: unstamped_windows one more at each window boundary",
                   True, bool(back_health) and not wrong and back_health[-1][1] >= BACK_SPAN_S // WINDOW_S - 1)
    if wrong:
        print(f"  (clock, unstamped_windows, windows closed by then): {wrong}")
    problems.check("health before the first step: unstamped_windows 0", True,
                   all(n == 0 for ts, n in figures if ts < s1 - 0.01 and ts > s1 - 30))
    reconnects = [msg.get("reconnects") for _r, topic, msg in messages if topic == f"{TOPIC}/health"]
    problems.check("MQTT stayed connected through the steps (reconnects)", 0, reconnects[-1] if reconnects else None)

    # The windows after a step arrive as they close, within two windows.
    for sensor in SENSORS:
        for start, what in ((f_new, "first after the forward step"),
                            (e + WINDOW_S, "first after the clock passed the guard")):
            seen = arrivals.seen.get((sensor, start))
            late = None if seen is None else seen - (start + WINDOW_S)
            print(f"{sensor}: window {start} ({what}) seen {late if late is None else round(late, 3)} s "
                  "after it closed")
            problems.check(f"{sensor}: window {start} ({what}) seen less than two windows after its start",
                           True, seen is not None and seen < start + 2 * WINDOW_S)

    with open(os.path.join(work, "tryggd.log"), errors="replace") as f:
        log = f.read()
    for direction, size in (("back", BACK_S), ("forward", FORWARD_S), ("back", SMALL_BACK_S)):
        problems.check(f"logged once: the clock stepped {direction} by {size} s", 1,
                       log.count(f"the clock stepped {direction} by {size} s,"))
    problems.check("three steps logged in all", 3, log.count("the clock stepped "))
    guards = [guest.capture.parse_rfc3339_ms(t) // 1000
              for t in re.findall(r"windows up to (\S+) were sent before the step", log)]
    problems.check("the steps back log the end of the last window sent", [c1 + WINDOW_S, e + WINDOW_S], guards)
    problems.check("the clock passing the guard logs the windows not stamped",
                   [unstamped_back, unstamped_small],
                   [int(n) for n in re.findall(r"passed the last window sent before it stepped back; "
                                               r"(\d+) windows in between were not stamped", log)])
    problems.check("the stop line counts them", True, f"{unstamped} windows not stamped (clock)" in log)
    problems.check("tryggd exit status", 0, status)
    return problems.finish("test_clock")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
