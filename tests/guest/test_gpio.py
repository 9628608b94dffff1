#!/usr/bin/env python3
"""The gpio driver inside the guest, on gpio-sim lines that deliver real
edge events with kernel time stamps:

    tests/guest/run -- python3 tests/guest/test_gpio.py TRYGGD [TRYGGCTL]

One tryggd reads a single beam, a beam with a long debounce (bounce), a
dual beam, a PIR, a beam with no debounce (fast), and a lamp paired with an
IIO light sensor that reads dark.  The test pulls the lines at known times,
each scene inside one window and clear of its edges, and checks the window
counts on MQTT exactly: passes, direction, bounce swallowed, the PIR's
hold-off, a burst of edges while tryggd is stopped (more edges than the
loop ever sees in one turn), fault_s and on_s of the lamp, and the
`blocked` and `lamp_fault` alerts raised and cleared.  On a line with no
debounce, 15 passes a second are all counted, and a storm (the line pulled
as fast as the guest can, far more than 20 passes within a second) counts
nothing, raises `failed` with what it saw and clears it."""

import os
import re
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import guest  # noqa: E402

WINDOW_S = 4
PREFIX = "gt"
TOPIC = f"{PREFIX}/nyfors/gw-guest"
# Every scene starts this far into its window and must be over this far
# before its end, so that no edge lies near a window's edge.
MARGIN_S = 0.4

LINES = ["beam", "bounce", "dual-a", "dual-b", "pir", "fast", "lamp", "pulled"]
BEAM, BOUNCE, DUAL_A, DUAL_B, PIR, FAST, LAMP, PULLED = range(len(LINES))


def write_config(path, work, chip, factor):
    text = f"""
[gateway]
id = gw-guest
district = Nyfors
window = {WINDOW_S}
state_dir = {work}/state
clock = trusted

[mqtt]
uri = tcp://127.0.0.1:18830
topic_prefix = {PREFIX}

# by the chip's label and the line's name
[sensor.beam]
type = footfall
driver = gpio
chip = {chip.label}
line = beam
interval = 1
blocked_after = 1s

# by the chip's device path and the line's offset
[sensor.bounce]
type = footfall
driver = gpio
chip = {chip.dev}
line = {BOUNCE}
debounce = 200ms

# by line names alone, found on whichever chip has them
[sensor.dual]
type = footfall
driver = gpio
line = dual-a
line_b = dual-b
crossing = 2s

[sensor.pir]
type = footfall
driver = gpio
chip = {chip.chip}
line = pir
detector = pir
debounce = 1s

# by the chip's number
[sensor.fast]
type = footfall
driver = gpio
chip = {chip.chip.removeprefix("gpiochip")}
line = fast
debounce = 0ms
interval = 1

# a lamp input nobody drives, read through tryggd's own pull-up: lit
[sensor.pulled]
type = lamp
driver = gpio
chip = {chip.label}
line = pulled
bias = pull-up
interval = 1

[sensor.dusk]
type = light
driver = iio
device = dusk
channel = in_voltage0
factor = {factor!r}
interval = 1

# an opto-isolator that pulls the line low while the lamp is lit
[sensor.lamp]
type = lamp
driver = gpio
chip = {chip.label}
line = lamp
active_low = yes
light = dusk
interval = 1
fault_after = 1s
"""
    with open(path, "w") as f:
        f.write(text)


class Scenes:
    """Scenes, each in a window of its own; what each window must show."""

    def __init__(self, chip, problems):
        self.chip = chip
        self.problems = problems
        self.expected = {}       # (sensor, window start) -> {field: value}

    def begin(self):
        start = guest.next_window_start(WINDOW_S, MARGIN_S + 0.2)
        guest.sleep_until(start + MARGIN_S)
        return start

    def end(self, name, start):
        over = time.time() - (start + WINDOW_S - MARGIN_S)
        if over > 0:
            self.problems.add(f"scene {name} overran its window by {over:.3f} s (the guest is too slow)")

    def expect(self, sensor, start, **fields):
        self.expected[(sensor, start)] = fields

    def pulse(self, line, high_s, low_s, count=1):
        for _ in range(count):
            self.chip.set(line, 1)
            time.sleep(high_s)
            self.chip.set(line, 0)
            time.sleep(low_s)

    def steps(self, sequence, step_s=0.04):
        """A dual-beam sequence of (A, B) levels, one step each."""
        for a, b in sequence:
            if self.chip.value(DUAL_A) != a:
                self.chip.set(DUAL_A, a)
            if self.chip.value(DUAL_B) != b:
                self.chip.set(DUAL_B, b)
            time.sleep(step_s)


def run_scenes(scenes, tryggd_proc):
    chip = scenes.chip

    # Five clean passes on a single beam: 30 ms broken, 60 ms clear.
    start = scenes.begin()
    scenes.pulse(BEAM, 0.03, 0.06, count=5)
    scenes.end("beam", start)
    scenes.expect("beam", start, count=5)

    # Three people on a beam with a 200 ms debounce, each breaking it
    # three times with 20 ms clear gaps (legs, bags): three passes.
    start = scenes.begin()
    for _ in range(3):
        scenes.pulse(BOUNCE, 0.04, 0.02, count=2)
        scenes.pulse(BOUNCE, 0.04, 0.5)
    scenes.end("bounce", start)
    scenes.expect("bounce", start, count=3)

    # Dual beam: A is out, B in.  Three in, two out, two who turn back
    # halfway, one who hesitates in the middle and goes on in.
    start = scenes.begin()
    going_in = [(1, 0), (1, 1), (0, 1), (0, 0)]
    going_out = [(0, 1), (1, 1), (1, 0), (0, 0)]
    turning_back = [(1, 0), (1, 1), (1, 0), (0, 0)]
    hesitating = [(1, 0), (1, 1), (1, 0), (1, 1), (0, 1), (0, 0)]
    for sequence in [going_in, going_out, going_in, turning_back, going_out, going_in, turning_back,
                     hesitating]:
        scenes.steps(sequence)
        time.sleep(0.15)
    scenes.end("dual", start)
    scenes.expect("dual", start, count=6, **{"in": 4, "out": 2})

    # PIR with a 1 s hold-off: triggers at 0, 0.3 and 0.6 s are one
    # person; one at 1.5 s is the next.
    start = scenes.begin()
    t0 = time.time()
    for at in (0.0, 0.3, 0.6, 1.5):
        guest.sleep_until(t0 + at)
        scenes.pulse(PIR, 0.1, 0.0)
    scenes.end("pir", start)
    scenes.expect("pir", start, count=2)

    # Bursts on the beam while tryggd is stopped, read in one go when it
    # runs again.  The kernel keeps 16 edges per line: 7 passes (14 edges)
    # all count; of 12 passes (24 edges) the first 8 count, the rest are
    # lost, which is logged, and the level read afterwards keeps the count
    # right.
    for name, passes, counted in (("burst", 7, 7), ("overrun", 12, 8)):
        start = scenes.begin()
        tryggd_proc.send_signal(signal.SIGSTOP)
        scenes.pulse(BEAM, 0.015, 0.02, count=passes)
        tryggd_proc.send_signal(signal.SIGCONT)
        scenes.end(name, start)
        scenes.expect("beam", start, count=counted)

    # A beam held broken for 2 s: one pass, and `blocked` after 1 s.
    start = scenes.begin()
    scenes.pulse(BEAM, 2.0, 0.0)
    scenes.end("held", start)
    scenes.expect("beam", start, count=1)

    # The lamp, lit (line low) since the start, goes dark 1 s into the
    # window and is lit again 2 s later, while its light sensor reads dark:
    # 2 s of fault, 2 s on; `lamp_fault` after 1 s of it.
    start = scenes.begin()
    guest.sleep_until(start + 1.0)
    chip.set(LAMP, 1)
    guest.sleep_until(start + 3.0)
    chip.set(LAMP, 0)
    scenes.end("lamp", start)
    scenes.expect("lamp", start, on_s=2, fault_s=2, coverage=1.0)
    scenes.expect("lamp", start + WINDOW_S, on_s=4, fault_s=0, coverage=1.0)
    # The line the test never pulls reads as tryggd's bias set it.
    scenes.expect("pulled", start, on_s=4, coverage=1.0)

    # No debounce, 36 pulses at 15 a second: a crowd at a wide door,
    # every one counted.
    start = scenes.begin()
    began = time.monotonic()
    scenes.pulse(FAST, 1 / 30, 1 / 30, count=36)
    paced_rate = 36 / (time.monotonic() - began)
    scenes.end("paced", start)
    scenes.expect("fast", start, count=36, coverage=1.0)

    # As fast as the guest can pull the line, never yielding its CPU: a
    # storm (a floating or broken line) of far more than 20 passes within
    # one second.  None of it is counted; the sensor fails and recovers.
    start = scenes.begin()
    began = time.monotonic()
    for _ in range(300):
        chip.set(FAST, 1)
        chip.set(FAST, 0)
    full_rate = 600 / (time.monotonic() - began)
    scenes.end("storm", start)
    scenes.expect("fast", start, count=0)
    return start, paced_rate, full_rate


def check_windows(scenes, problems, messages):
    by_sensor = {}
    for sensor in {sensor for sensor, _ in scenes.expected}:
        by_sensor[sensor] = guest.windows(messages, TOPIC, sensor)
    for (sensor, start), fields in sorted(scenes.expected.items()):
        window = by_sensor[sensor].get(start)
        if window is None:
            problems.add(f"{sensor}: no window starting at {start}")
            continue
        for key, value in fields.items():
            problems.check(f"{sensor} window {start % 3600}: {key}", value, window.get(key))
    # Nothing was counted outside the scenes: a footfall sensor's total over
    # every window is the sum of its scenes.
    for sensor in ("beam", "bounce", "dual", "pir"):
        expected = sum(f["count"] for (s, _), f in scenes.expected.items() if s == sensor)
        total = sum(w.get("count", 0) for w in guest.windows(messages, TOPIC, sensor).values())
        problems.check(f"{sensor}: passes over all windows", expected, total)
    # Every window of the dual beam carries in and out, even empty ones.
    dual = guest.windows(messages, TOPIC, "dual")
    problems.check("dual: every window has in and out", True,
                   all("in" in w and "out" in w for w in dual.values()) and len(dual) > 0)


def check_readings(problems, messages):
    """One reading per counted pass on the single beam, its value the passes
    since the last reading."""
    readings = [m for _, t, m in messages if t == f"{TOPIC}/beam/reading"]
    windows = guest.windows(messages, TOPIC, "beam")
    problems.check("beam: passes in readings = passes in windows",
                   sum(w["count"] for w in windows.values()), sum(m["value"] for m in readings))
    directions = {m.get("dir") for _, t, m in messages if t == f"{TOPIC}/dual/reading"}
    problems.check("dual: readings carry a direction", {"in", "out"}, directions)


def check_alerts(problems, messages):
    def states(sensor):
        out = []
        for retained, topic, msg in messages:
            if topic == f"{TOPIC}/{sensor}/alert" and (not out or out[-1] != msg["state"]):
                out.append(msg["state"])
        return out
    problems.check("beam alert states", ["ok", "blocked", "ok"], states("beam"))
    problems.check("lamp alert states", ["ok", "lamp_fault", "ok"], states("lamp"))
    problems.check("fast alert states (the storm)", ["ok", "failed", "ok"], states("fast"))
    failed = [m for _, t, m in messages if t == f"{TOPIC}/fast/alert" and m["state"] == "failed"]
    problems.check("the storm's alert says what it saw", True,
                   bool(failed) and "more than 20 passes within one second" in failed[0].get("detail", ""))
    blocked = [m for _, t, m in messages if t == f"{TOPIC}/beam/alert" and m["state"] == "blocked"]
    if blocked:
        print(f"blocked alert: {blocked[0].get('detail')!r} since {blocked[0].get('since')}")


def main(argv):
    guest.require_guest()
    if len(argv) < 2:
        sys.exit("usage: test_gpio.py TRYGGD [TRYGGCTL]")
    tryggd = os.path.abspath(argv[1])
    problems = guest.Problems()
    work = tempfile.mkdtemp(prefix="tryggd-gpio-")
    chip = guest.GpioSim("door", len(LINES), LINES)
    dusk = guest.IioDummy("dusk")
    # The light sensor reads 2.5 lx: dark (below the default dark_lux 10).
    factor = 2.5 / dusk.voltage0()
    chip.set(LAMP, 0)   # lit: active low
    broker = guest.Broker(work, PREFIX)
    config = os.path.join(work, "tryggd.conf")
    write_config(config, work, chip, factor)
    proc = guest.start_tryggd(tryggd, config, work)
    try:
        if not guest.wait_for("tryggd online", lambda: b"gw-guest/status" in open(broker.capture_path, "rb").read(),
                              20):
            problems.add("tryggd did not come online")
        else:
            scenes = Scenes(chip, problems)
            fast_start, paced_rate, full_rate = run_scenes(scenes, proc)
            # Let the last windows close.
            guest.sleep_until(fast_start + WINDOW_S + 1.0)
            messages = broker.messages(problems)
            check_windows(scenes, problems, messages)
            check_readings(problems, messages)
            check_alerts(problems, messages)
            storm = guest.windows(messages, TOPIC, "fast").get(fast_start, {})
            print(f"fast: 36 passes paced at {paced_rate:.1f} a second: all counted; a storm of 300 "
                  f"pulses at {full_rate:.0f} edges/s: {storm.get('count')} counted, coverage "
                  f"{storm.get('coverage')}")
            problems.check("the storm's window says it was not read whole", True,
                           storm.get("coverage", 1) < 1)
    finally:
        status = guest.stop_tryggd(proc, work)
    with open(os.path.join(work, "tryggd.log"), errors="replace") as f:
        log = f.read()
    overruns = set(re.findall(r"sensor (\S+): the kernel's queue of edges was full", log))
    problems.check("the edges lost while stopped were logged, for beam", True, "beam" in overruns)
    problems.check("no overrun logged for a line that never outran tryggd", set(), overruns - {"beam", "fast"})
    broker.stop()
    chip.remove()
    dusk.remove()
    problems.check("tryggd exit status", 0, status)
    return problems.finish("test_gpio")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
