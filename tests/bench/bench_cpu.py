"""Section "cpu" (issue 17, row 4): what a published message costs tryggd
in CPU, against the minimal publisher sending the same messages.

Two rows:

  CPU time   user and system seconds from wait4 (the process and all its
             threads, start-up included) per message, of the publish
             section's runs (bench_publish.measure(): a virtual day of three
             sim sensors, some 178,000 QoS 1 messages; shared when both
             sections run in one bench.py, else run here).  Goal: tryggd's
             total at most 1.1 times bench-publisher's.
  callgrind  instructions (valgrind --tool=callgrind, Ir) per reading of
             one sim light sensor at 1 s over a virtual hour (3,600
             readings; quick: 5 minutes), speed 0, into a private broker;
             the messages it published are captured and bench-publisher,
             under callgrind too, sends them, per message.  The self cost of
             every function is summed per ELF object and grouped by
             library; the split goes in the notes.  Skipped when valgrind
             is not installed.  No goal: the ratio says how much work
             tryggd adds around the MQTT library per reading.
"""

import os
import shutil

import bench_publish
import benchlib
from bench import Row

TITLE = "CPU per message: tryggd vs the minimal publisher (wait4), and instructions by library (callgrind)"

GOAL = 1.1
CALLGRIND_SPAN_S = 3600
CALLGRIND_QUICK_SPAN_S = 300
LIGHT = {"sky": ("light", {"interval": 1, "seed": 21})}
# Library groups, by the start of the ELF object's file name; the program
# itself is "own".
GROUPS = [("libc", ("libc.so", "libc-")), ("Paho", ("libpaho-mqtt",)), ("SQLite", ("libsqlite3",)),
          ("cJSON", ("libcjson",)), ("libsystemd", ("libsystemd",)), ("ld.so", ("ld-linux",)),
          ("OpenSSL", ("libcrypto", "libssl"))]


def per_message_row(ctx):
    m = bench_publish.measure(ctx)
    n = m["messages"]
    tryggd, publisher = m["tryggd"], m["publisher"]

    def micro(measured):
        return (measured.user_s + measured.system_s) / n * 1e6

    ratio = micro(tryggd) / micro(publisher)
    return Row(
        name="cpu: per message (wait4)", ratio=ratio, goal=f"<= {GOAL}", met=ratio <= GOAL,
        tryggd=f"{micro(tryggd):.1f} µs/msg (user {tryggd.user_s / n * 1e6:.1f}, sys {tryggd.system_s / n * 1e6:.1f})",
        reference=f"bench-publisher {micro(publisher):.1f} µs/msg (user {publisher.user_s / n * 1e6:.1f}, "
                  f"sys {publisher.system_s / n * 1e6:.1f})",
        notes=[f"the publish section's runs: {n:,} messages; CPU of the whole process (all threads, start-up "
               f"included) from wait4"])


def group_of(path, own):
    name = os.path.basename(path)
    if name == own:
        return "own"
    for group, starts in GROUPS:
        if name.startswith(starts):
            return group
    return "other"


def by_group(costs, own):
    groups = {}
    for path, cost in costs.items():
        group = group_of(path, own)
        groups[group] = groups.get(group, 0) + cost
    return groups


def describe(groups, per):
    """`own 12.3k (45 %), libc ...` per reading or message, largest first."""
    total = sum(groups.values())
    parts = [f"{group} {cost / per / 1000:,.1f}k ({cost / total * 100:.0f} %)"
             for group, cost in sorted(groups.items(), key=lambda kv: -kv[1]) if cost / total >= 0.005]
    return ", ".join(parts)


def callgrind_argv(out_file):
    return [shutil.which("valgrind"), "--tool=callgrind", f"--callgrind-out-file={out_file}"]


def callgrind_row(ctx):
    if not shutil.which("valgrind"):
        return Row(name="cpu: instructions (callgrind)", ratio=None, goal="", met=None, tryggd="", reference="",
                   skipped="valgrind not installed (scripts/deps installs it)")
    span_s = CALLGRIND_QUICK_SPAN_S if ctx.quick else CALLGRIND_SPAN_S
    readings = span_s // LIGHT["sky"][1]["interval"]
    messages_path = os.path.join(ctx.work, "callgrind-messages.tsv")
    tryggd_out = os.path.join(ctx.work, "callgrind.tryggd")
    publisher_out = os.path.join(ctx.work, "callgrind.publisher")
    with benchlib.Mosquitto(os.path.join(ctx.work, "broker-callgrind"), None) as broker:
        broker.start()
        config = bench_publish.write_gateway_config(os.path.join(ctx.work, "callgrind.conf"),
                                                    os.path.join(ctx.work, "state-callgrind"), broker, LIGHT, span_s)
        tryggd, count = bench_publish.captured_run(ctx, broker, config, "tryggd-callgrind", messages_path,
                                                   argv_prefix=callgrind_argv(tryggd_out))
        bench_publish.run_publisher(ctx, broker, messages_path, "bench-publisher-callgrind",
                                    argv_prefix=callgrind_argv(publisher_out))
    ours = by_group(benchlib.callgrind_self_cost(tryggd_out), "tryggd")
    theirs = by_group(benchlib.callgrind_self_cost(publisher_out), "bench-publisher")
    per_reading = sum(ours.values()) / readings
    per_message = sum(theirs.values()) / count
    return Row(
        name="cpu: instructions (callgrind)", ratio=per_reading / per_message, goal="", met=None,
        tryggd=f"{per_reading / 1000:,.0f}k Ir/reading",
        reference=f"bench-publisher {per_message / 1000:,.0f}k Ir/msg",
        notes=[f"callgrind: 1 sim light sensor at 1 s, {span_s // 60} virtual min at speed 0: {readings:,} "
               f"readings, {count:,} messages (windows, health, status too); start-up and exit included",
               f"tryggd per reading: {describe(ours, readings)}",
               f"bench-publisher per message: {describe(theirs, count)}",
               f"under valgrind: tryggd {tryggd.wall_s:.0f} s wall"])


def run(ctx):
    return [per_message_row(ctx), callgrind_row(ctx)]
