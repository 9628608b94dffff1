"""Section "publish" (issue 17, row 1): how fast tryggd gets its messages to
a broker at QoS 1, against the smallest publisher that sends the same
messages the same way.

tryggd runs its whole pipeline on three sim sensors (light, lamp, footfall,
a sample a second each, publish_readings on) over a virtual day at speed 0
(as fast as the broker takes it; some 178,000 messages, like the issue's
measurement), into a private mosquitto with nobody subscribed.  Its time is
from spawn to exit: it exits by itself at the simulated end, once the
broker acknowledged everything.  An untimed warm-up run of the same config
(the sim sensors are seeded, so both runs send the same) is captured with
a subscriber into a file, `topic<TAB>payload` a line, which the references
publish to the same broker, spawn to exit as well:

  bench-publisher   (bench_publisher.c) Paho MQTTAsync as tryggd links it,
                    QoS 1, the same in-flight window (1000,
                    MQTT_IN_FLIGHT_MAX in gateway/mqtt.h): tryggd's MQTT
                    side with nothing else around it.  Goal: tryggd at 90 %
                    of its rate or better.
  mosquitto_pub -l  the payloads as lines on one topic, QoS 1, -M 1000,
                    in runs of at most 60,000 lines (MOSQUITTO_PUB_LINES):
                    libmosquitto's rate, the protocol's limit on this
                    machine and broker; no goal.

measure() is shared with bench_cpu.py, which takes CPU time per message
from the same runs (wait4) when both sections run in one bench.py.
"""

import os
import re
import time

import benchlib
from bench import Row

TITLE = "QoS 1 throughput: tryggd's pipeline vs a minimal Paho publisher and mosquitto_pub"

QOS = 1
IN_FLIGHT = 1000            # MQTT_IN_FLIGHT_MAX, gateway/mqtt.h
FULL_SPAN_S = 86400         # a virtual day: about 178,500 messages
QUICK_SPAN_S = 900          # about 2,200
PREFIX = "bench"
GATEWAY_ID = "bench-01"
SENSORS = {
    "sky": ("light", {"interval": 1, "seed": 11}),
    "lamp": ("lamp", {"interval": 1, "light": "sky", "seed": 12}),
    "door": ("footfall", {"interval": 1, "seed": 13}),
}
TIMEOUT_S = 900
# mosquitto_pub -l (2.0.11) reads its input ahead of the broker's answers
# and stops once the message numbered as the last one is acknowledged:
# past 65,535 lines that number (a 16-bit message id) comes round early and
# the rest is dropped unsent.  So at most this many lines a run.
MOSQUITTO_PUB_LINES = 60000

# (build, quick) -> what measure() found, for bench_cpu.py in the same process.
_measured = {}


def iso(seconds):
    """benchlib.START plus seconds, in the config's own form."""
    base = benchlib.capture.parse_iso(benchlib.START) // 1000
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + seconds))


def write_gateway_config(path, state_dir, broker, sensors, span_s):
    """A simulation at speed 0 from benchlib.START for span_s virtual
    seconds, MQTT on, no store."""
    benchlib.write_config(path, [
        ("gateway", [f"id = {GATEWAY_ID}", "district = Årby", f"state_dir = {state_dir}"]),
        ("simulation", [f"start = {benchlib.START}", f"end = {iso(span_s)}", "speed = 0"]),
        ("mqtt", [f"uri = {broker.uri}", f"topic_prefix = {PREFIX}", f"qos = {QOS}", "publish_readings = yes"]),
        *benchlib.sim_sensors(sensors),
    ])
    return path


def wait_or_kill(measured, timeout_s):
    """Measured.wait, killing the child should the wait be cut short (an
    interrupt): no process outlives the section."""
    try:
        return measured.wait(timeout_s)
    except BaseException:
        if measured.status is None:
            measured.proc.kill()
            measured.proc.wait()
        raise


def run_tryggd(ctx, config, label, argv_prefix=(), timeout_s=TIMEOUT_S):
    """tryggd -c config to its end; the Measured.  Raises if it failed."""
    log = os.path.join(ctx.work, f"{label}.log")
    measured = benchlib.Measured([*argv_prefix, ctx.program("tryggd"), "-c", config], log, env=benchlib.tryggd_env())
    status = wait_or_kill(measured, timeout_s)
    if status != 0:
        raise RuntimeError(f"tryggd ({label}) exited with status {status}; {log}:\n{benchlib.log_tail(log)}")
    return measured


def delivered(log_path):
    """The MQTT messages tryggd's last line says it delivered, or None."""
    with open(log_path, encoding="utf-8", errors="replace") as f:
        found = re.findall(r"(\d+) MQTT messages delivered", f.read())
    return int(found[-1]) if found else None


def captured_run(ctx, broker, config, label, messages_path, argv_prefix=(), timeout_s=TIMEOUT_S):
    """A tryggd run with a subscriber on its topics: the Measured and the
    number of messages written to messages_path (topic<TAB>payload)."""
    with benchlib.Subscriber(broker, f"{PREFIX}/#", os.path.join(ctx.work, f"{label}.sub")) as subscriber:
        measured = run_tryggd(ctx, config, label, argv_prefix, timeout_s)
        subscriber.drain(timeout_s=120)
        count = subscriber.messages_to(messages_path)
    if count == 0:
        raise RuntimeError(f"tryggd ({label}) published nothing; {measured.log_path}")
    return measured, count


def run_publisher(ctx, broker, messages_path, label, argv_prefix=()):
    """bench-publisher on the file to its end: the Measured."""
    log = os.path.join(ctx.work, f"{label}.log")
    measured = benchlib.Measured([*argv_prefix, ctx.program("bench-publisher"), broker.uri, str(QOS), str(IN_FLIGHT),
                                  messages_path], log)
    status = wait_or_kill(measured, TIMEOUT_S)
    if status != 0:
        raise RuntimeError(f"bench-publisher exited with status {status}; {log}:\n{benchlib.log_tail(log)}")
    return measured


class Runs:
    """Several Measured runs one after the other, summed."""

    def __init__(self, runs):
        self.runs = runs
        self.wall_s = sum(r.wall_s for r in runs)
        self.user_s = sum(r.user_s for r in runs)
        self.system_s = sum(r.system_s for r in runs)


def run_mosquitto_pub(ctx, broker, messages_path):
    """mosquitto_pub -l with the payloads as lines on one topic, at most
    MOSQUITTO_PUB_LINES a run, runs one after the other: a Runs."""
    with open(messages_path, "rb") as f:
        payloads = [line.split(b"\t", 1)[1] for line in f]
    argv = [benchlib.servers.find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(broker.port),
            "-i", "bench-mosquitto-pub", "-q", str(QOS), "-M", str(IN_FLIGHT), "-t", f"{PREFIX}-lines/all", "-l"]
    runs = []
    for number, first in enumerate(range(0, len(payloads), MOSQUITTO_PUB_LINES)):
        chunk = os.path.join(ctx.work, f"payloads-{number}.txt")
        with open(chunk, "wb") as out:
            out.writelines(payloads[first:first + MOSQUITTO_PUB_LINES])
        log = os.path.join(ctx.work, f"mosquitto_pub-{number}.log")
        # The shell execs mosquitto_pub with the file as its input: wait4
        # measures mosquitto_pub itself.
        measured = benchlib.Measured(["sh", "-c", 'input=$1; shift; exec "$@" < "$input"', "sh", chunk, *argv], log)
        status = wait_or_kill(measured, TIMEOUT_S)
        if status != 0:
            raise RuntimeError(f"mosquitto_pub exited with status {status}; {log}:\n{benchlib.log_tail(log)}")
        runs.append(measured)
    return Runs(runs)


def measure(ctx):
    """The three contenders on one broker, once each (cached per build and
    size): {"messages", "span_s", "tryggd", "publisher", "mosquitto_pub",
    "delivered"}, tryggd and publisher benchlib.Measured, mosquitto_pub
    Runs."""
    key = (ctx.build, ctx.quick)
    if key in _measured:
        return _measured[key]
    span_s = QUICK_SPAN_S if ctx.quick else FULL_SPAN_S
    messages_path = os.path.join(ctx.work, "messages.tsv")
    with benchlib.Mosquitto(os.path.join(ctx.work, "broker"), None) as broker:
        broker.start()
        warm_config = write_gateway_config(os.path.join(ctx.work, "warm-up.conf"), os.path.join(ctx.work, "state-warm"),
                                           broker, SENSORS, span_s)
        warm, count = captured_run(ctx, broker, warm_config, "tryggd-warm-up", messages_path)
        config = write_gateway_config(os.path.join(ctx.work, "tryggd.conf"), os.path.join(ctx.work, "state"),
                                      broker, SENSORS, span_s)
        tryggd = run_tryggd(ctx, config, "tryggd")
        if delivered(tryggd.log_path) != delivered(warm.log_path):
            raise RuntimeError(f"the timed run delivered {delivered(tryggd.log_path)} messages, the warm-up "
                               f"{delivered(warm.log_path)}: the sim runs differ")
        publisher = run_publisher(ctx, broker, messages_path, "bench-publisher")
        mosquitto_pub = run_mosquitto_pub(ctx, broker, messages_path)
    result = {"messages": count, "span_s": span_s, "tryggd": tryggd, "publisher": publisher,
              "mosquitto_pub": mosquitto_pub, "delivered": delivered(tryggd.log_path),
              "messages_path": messages_path}
    _measured[key] = result
    return result


def kinds(messages_path):
    """{last topic level: count} of the captured messages."""
    counts = {}
    with open(messages_path, "rb") as f:
        for line in f:
            leaf = line.split(b"\t", 1)[0].rsplit(b"/", 1)[-1].decode()
            counts[leaf] = counts.get(leaf, 0) + 1
    return counts


def rate(n, measured):
    return n / measured.wall_s


def run(ctx):
    m = measure(ctx)
    n = m["messages"]
    tryggd, publisher, mosquitto_pub = m["tryggd"], m["publisher"], m["mosquitto_pub"]
    ours = rate(n, tryggd)
    versus_publisher = ours / rate(n, publisher)
    versus_mosquitto = ours / rate(n, mosquitto_pub)
    day = "a virtual day" if m["span_s"] == 86400 else f"{m['span_s'] // 60} virtual min"
    split = ", ".join(f"{k} {v:,}" for k, v in sorted(kinds(m["messages_path"]).items(), key=lambda kv: -kv[1]))
    return [
        Row(name="publish: tryggd / minimal publisher", ratio=versus_publisher, goal=">= 0.9",
            met=versus_publisher >= 0.9,
            tryggd=f"{ours:,.0f} msg/s ({n:,} in {tryggd.wall_s:.1f} s)",
            reference=f"bench-publisher {rate(n, publisher):,.0f} msg/s ({publisher.wall_s:.1f} s)",
            notes=[f"{n:,} QoS {QOS} messages ({split}) from 3 sim sensors at 1 s over {day}, speed 0; "
                   f"in flight at most {IN_FLIGHT} for both; wall time spawn to exit, one run each, "
                   f"one private mosquitto, nobody subscribed",
                   f"bench-publisher's own clock (connect to disconnect): "
                   f"{publisher_elapsed(publisher):.2f} s; tryggd's log: {m['delivered']} delivered "
                   f"through its buffer (the rest: status and alerts said straight to the broker)"]),
        Row(name="publish: tryggd / mosquitto_pub -l", ratio=versus_mosquitto, goal="", met=None,
            tryggd=f"{ours:,.0f} msg/s",
            reference=f"mosquitto_pub {rate(n, mosquitto_pub):,.0f} msg/s ({mosquitto_pub.wall_s:.1f} s)",
            notes=[f"mosquitto_pub -l -q {QOS} -M {IN_FLIGHT}: the same payloads as lines on one topic, "
                   f"{len(mosquitto_pub.runs)} run(s) of at most {MOSQUITTO_PUB_LINES:,} lines (past 65,535 "
                   f"it stops early), times summed"]),
    ]


def publisher_elapsed(measured):
    """elapsed_s from bench-publisher's output line, or nan."""
    with open(measured.log_path, encoding="utf-8", errors="replace") as f:
        found = re.findall(r"elapsed_s=([0-9.]+)", f.read())
    return float(found[-1]) if found else float("nan")
