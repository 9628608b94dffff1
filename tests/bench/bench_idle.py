"""Section "idle" (issue 17, row 5): how often tryggd's threads wake up on
a quiet board, where every wake-up costs power and keeps a small CPU from
its deeper sleep states.

One sim light sensor at interval 5 s on the real clock (no [simulation]:
a gateway as it runs in the field, `clock = trusted` so its readings are
published), connected to a private mosquitto, MQTT defaults otherwise
(health every 60 s, status every 5 min, keepalive 30 s).  Once the broker
is connected and a settling second has passed, every thread's context
switches are read from /proc (benchlib.thread_switches) at the start and
the end of 30 s (quick: 3 s): a thread that sleeps and wakes is switched
out once per wake-up.  Where each thread sleeps (/proc/.../wchan, sampled
twice a second; "running" when it was caught awake) tells Paho's two
threads apart from the event loop.  CPU time over the same span from
/proc/PID/stat.

No reference and no goal: the figure is tryggd's own, to be compared with
itself across changes.  What the work needs is set against it in the
reference column: the sensor's samples and the messages they and the
timers make (each message wakes the loop, Paho's sending thread and, for
the broker's PUBACK, its receiving thread).
"""

import os
import time

import bench_publish
import benchlib
from bench import Row

TITLE = "idle: wake-ups per second per thread, one light sensor at 5 s, broker connected"

INTERVAL_S = 5
SPAN_S = 30
QUICK_SPAN_S = 3
SETTLE_S = 1.0
WCHAN_EVERY_S = 0.5
# A reading every INTERVAL_S, a window and a health message a minute, the
# status every 5 minutes.
MESSAGES_PER_S = 1 / INTERVAL_S + 2 / 60 + 1 / 300


def write_config(path, state_dir, broker):
    benchlib.write_config(path, [
        ("gateway", [f"id = {bench_publish.GATEWAY_ID}", "district = Årby", f"state_dir = {state_dir}",
                     "clock = trusted"]),
        ("mqtt", [f"uri = {broker.uri}", f"topic_prefix = {bench_publish.PREFIX}", "qos = 1",
                  "publish_readings = yes"]),
        *benchlib.sim_sensors({"sky": ("light", {"interval": INTERVAL_S, "seed": 31})}),
    ])
    return path


def wchan(pid, tid):
    try:
        with open(f"/proc/{pid}/task/{tid}/wchan", encoding="utf-8") as f:
            value = f.read().strip()
    except OSError:
        return None
    # "0": the thread was on a CPU when asked.  Kernel symbols carry
    # suffixes such as ".constprop.0".
    return "running" if value in ("", "0") else value.split(".")[0]


def most_common(values):
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return max(counts, key=counts.get) if counts else "?"


def observe(pid, span_s):
    """({tid: (name, switches)} at the start and the end, {tid: [wchan...]},
    CPU seconds used, the real span)."""
    before = benchlib.thread_switches(pid)
    cpu_before = sum(benchlib.cpu_seconds(pid))
    started = time.monotonic()
    sleeps = {tid: [] for tid in before}
    while time.monotonic() - started < span_s:
        time.sleep(min(WCHAN_EVERY_S, max(0.0, span_s - (time.monotonic() - started))))
        for tid in sleeps:
            value = wchan(pid, tid)
            if value:
                sleeps[tid].append(value)
    after = benchlib.thread_switches(pid)
    span = time.monotonic() - started
    cpu = sum(benchlib.cpu_seconds(pid)) - cpu_before
    return before, after, sleeps, cpu, span


def run(ctx):
    span_s = QUICK_SPAN_S if ctx.quick else SPAN_S
    with benchlib.Mosquitto(os.path.join(ctx.work, "broker"), None) as broker:
        broker.start()
        config = write_config(os.path.join(ctx.work, "tryggd.conf"), os.path.join(ctx.work, "state"), broker)
        log = os.path.join(ctx.work, "tryggd.log")
        tryggd = benchlib.Measured([ctx.program("tryggd"), "-c", config], log, env=benchlib.tryggd_env())
        try:
            if not benchlib.wait_for_log(log, "mqtt: connected", 15, tryggd.proc):
                raise RuntimeError(f"tryggd did not connect to the broker; {log}:\n{benchlib.log_tail(log)}")
            time.sleep(SETTLE_S)
            pid = tryggd.pid
            before, after, sleeps, cpu, span = observe(pid, span_s)
        finally:
            status = tryggd.terminate()
    if status != 0:
        raise RuntimeError(f"tryggd exited with status {status} at SIGTERM; {log}:\n{benchlib.log_tail(log)}")

    threads = []
    for tid in sorted(after):
        name, switches = after[tid]
        start = before.get(tid, (name, 0))[1]
        # The main thread runs the event loop; Paho names its own two.
        label = "loop" if tid == pid else name
        threads.append((label, (switches - start) / span, most_common(sleeps.get(tid, []))))
    ended = sorted(set(before) - set(after))
    total = sum(rate for _, rate, _ in threads)
    per_thread = ", ".join(f"{label} {rate:.1f}" for label, rate, _ in threads)
    where = "; ".join(f"{label} sleeps in {sleep}" for label, _, sleep in threads)
    notes = [f"over {span:.0f} s of real time after connecting and {SETTLE_S:.0f} s settling: "
             f"{len(threads)} threads ({per_thread} wake-ups/s); {where}"
             + (f"; {len(ended)} thread(s) ended meanwhile" if ended else ""),
             f"CPU over the span: {cpu * 1000:.0f} ms ({cpu / span * 100:.2f} % of one core; /proc/PID/stat "
             f"ticks of {1000 // os.sysconf('SC_CLK_TCK')} ms)"]
    return [Row(name="idle: wake-ups", ratio=None, goal="", met=None,
                tryggd=f"{total:.1f}/s ({per_thread})",
                reference=f"the work: {1 / INTERVAL_S:.1f} samples/s, {MESSAGES_PER_S:.2f} msg/s",
                notes=notes)]
