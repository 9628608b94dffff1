#!/usr/bin/env python3
"""Failover on a real broker cluster: two RabbitMQ nodes (Debian 12's
rabbitmq-server 3.10, rabbitmq_mqtt) clustered on loopback; tryggd lists
both (`uri = A, B`) and is connected to A; a subscriber with a persistent
session (MQTT 3.1.1, QoS 1) is on B.  Node A is SIGKILLed, beam.smp and
all, while tryggd publishes.  Then:

- tryggd connects again, to B (its log says so);
- the subscriber on B has every reading seq from the first to the last,
  no gap (duplicates allowed: at least once; counted), and every window of
  every sensor, none missing between the first and the last;
- the retained status read fresh from B (a new subscriber) is online
  within status_interval of the failover.  RabbitMQ keeps a retained
  message on the node that took it, so before the failover B has none
  (printed); meanwhile the subscriber on B sees the status said again
  every status_interval (counted).

    test_mqtt_cluster.py TRYGGD SOURCE_DIR WORK_DIR

Everything runs in a new folder under WORK_DIR, removed when the test
passes and kept when it fails.  The nodes, their epmd and every client are
always stopped, and no process naming the folder may be left (checked in
/proc).  Prints the figures: RabbitMQ's boot and clustering time, messages
sent and received, duplicates, failover times.  Exit 0 when all holds, 1
with the list of what did not.

Python 3.11 standard library only.
"""

import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

# Beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
from mqtt_resilience import (  # noqa: E402
    Problems, SessionSubscriber, Tryggd, find_program, recorded_seq)
from rabbit_cluster import Cluster, children  # noqa: E402

# tryggd on a simulated clock, so that the kill finds many messages in
# flight: 2 sensors, one reading a virtual second each, at SPEED virtual
# seconds per real second.  Times below are virtual unless named _REAL.
SPEED = 10
WINDOW_S = 20                 # a window every 2 s real
STATUS_INTERVAL_S = 30        # status said again every 3 s real
STATUS_INTERVAL_REAL = STATUS_INTERVAL_S / SPEED
ON_A_REAL = 8                 # tryggd on node A this long before the kill
ON_B_REAL = 10                # and on node B after it, before SIGTERM
# tryggd tries again at once after a lost connection, A refuses, B takes it.
RECONNECT_MAX_REAL = 5.0
# A known bug: after a lost connection Paho 1.3.12 starts a connect to the
# next URI of its own, and tryggd's own connect at the same time races with
# it.  So tryggd's "connected again, to URI" line may name the dead node A
# while it is connected to B (the URI index Paho reports is that of
# tryggd's connect, the socket that of Paho's), and B may see two
# connections from tryggd, one dropped as soon as it was accepted.  While
# this is True, these two are shown as KNOWN BUG and not counted as
# failures (that tryggd is on B is checked in B's own log either way); set
# it to False once tryggd is fixed.
RECONNECT_RACE_IS_KNOWN = False


def fail(text):
    sys.exit(f"FAIL: {text}")


def retained(port, topic):
    """The retained payload of topic as a new subscriber at node port
    sees it, '' when there is none (mosquitto_sub gives up after 1 s)."""
    done = subprocess.run([find_program("mosquitto_sub"), "-V", "mqttv311", "-h", "127.0.0.1", "-p", str(port),
                           "-C", "1", "-W", "1", "--retained-only", "-t", topic],
                          capture_output=True, timeout=10)
    return done.stdout.decode(errors="replace").strip()


def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def write_config(path, *, gateway, prefix, source, state_dir, uris):
    lines = [
        "[gateway]", f"id = {gateway}", "district = Skiftinge", f"window = {WINDOW_S}", f"state_dir = {state_dir}",
        "",
        "[simulation]", f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}",
        "start = 2026-06-15T10:00:00Z", f"speed = {SPEED}",
        "",
        "[mqtt]", f"uri = {', '.join(uris)}", f"topic_prefix = {prefix}", "qos = 1",
        f"status_interval = {STATUS_INTERVAL_S}s",
    ]
    for name, kind in (("sky", "light"), ("door", "footfall")):
        lines += ["", f"[sensor.{name}]", f"type = {kind}", "driver = sim", "interval = 1"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def check_windows(p, windows):
    """Per sensor: distinct window starts, each WINDOW_S after the one
    before, from the first to the last.  Returns (count, duplicates)."""
    by_sensor = {}
    for payload in windows:
        w = json.loads(payload)
        by_sensor.setdefault(w["sensor"], []).append(when(w["start"]))
    total = duplicates = 0
    for sensor in ("sky", "door"):
        starts = by_sensor.get(sensor, [])
        distinct = sorted(set(starts))
        total += len(distinct)
        duplicates += len(starts) - len(distinct)
        step = datetime.timedelta(seconds=WINDOW_S)
        gaps = [f"{a.time()}..{b.time()}" for a, b in zip(distinct, distinct[1:]) if b - a != step]
        p.expect(len(distinct) >= 2 and not gaps, f"every window of {sensor}, none missing",
                 f"{len(distinct)} windows, gaps {gaps[:5]}")
    return total, duplicates


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR WORK_DIR")
    binary, source, parent = (os.path.abspath(a) for a in argv[1:])
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="mqtt_cluster-", dir=parent)
    t0 = time.monotonic()
    p = Problems()
    token = uuid.uuid4().hex[:8]
    prefix, gateway = f"tryggtest-{token}", f"cluster-{token}"
    status_topic = f"{prefix}/skiftinge/{gateway}/status"
    state = os.path.join(work, "state")
    cluster = Cluster(work)
    sub = tryggd = None
    try:
        a, b = cluster.nodes["a"], cluster.nodes["b"]
        boot = cluster.start()
        joined = cluster.join(b, a)
        print(f"RabbitMQ: two nodes booted in {boot:.1f} s, clustered in {joined:.1f} s "
              f"(A {a.name} MQTT {a.mqtt_port}, B {b.name} MQTT {b.mqtt_port})")

        sub = SessionSubscriber(b.mqtt_port, prefix, os.path.join(work, "subscriber-b.txt"))
        if not sub.publish_marker("probe"):
            fail("the subscriber on B got nothing published to B")
        # A message published to A reaches the queue on B: the cluster routes.
        p.expect(sub.publish_marker("via-a", port=a.mqtt_port), "a message published to A reaches the subscriber on B")

        config = os.path.join(work, "tryggd.conf")
        write_config(config, gateway=gateway, prefix=prefix, source=source, state_dir=state, uris=[a.uri, b.uri])
        tryggd = Tryggd(binary, config, os.path.join(work, "tryggd.log"))
        first = tryggd.wait_for(r"mqtt: connected to", 15)
        if not p.expect(first is not None and first[1].endswith(a.uri), "tryggd connects to A, listed first",
                        first and first[1]):
            fail(f"tryggd is not connected to A; see {work}/tryggd.log")

        time.sleep(ON_A_REAL)
        before = retained(b.mqtt_port, status_topic)
        killed, killed_wall = a.kill()
        print(f"node A SIGKILLed (beam.smp and all) at {killed - t0:.1f} s, "
              f"{killed - first[0]:.1f} s after tryggd connected to it")

        again = tryggd.wait_for(r"mqtt: connected again", RECONNECT_MAX_REAL + 10)
        p.expect(again is not None, "tryggd connects again")
        if again is not None and not again[1].endswith(b.uri) and RECONNECT_RACE_IS_KNOWN:
            print(f"  KNOWN BUG  tryggd's log names the wrong node: {again[1]} (B is {b.uri}; "
                  f"see RECONNECT_RACE_IS_KNOWN)")
        else:
            p.expect(again is not None and again[1].endswith(b.uri), "tryggd's log names B", again and again[1])
        reconnect = again[0] - killed if again else None
        p.expect(reconnect is not None and reconnect <= RECONNECT_MAX_REAL,
                 f"within {RECONNECT_MAX_REAL} s of the kill", f"{reconnect}")

        # The retained status as a newcomer on B sees it, until online.
        online_after = None
        deadline = time.monotonic() + STATUS_INTERVAL_REAL + 5
        while time.monotonic() < deadline:
            if '"online"' in retained(b.mqtt_port, status_topic):
                online_after = time.monotonic() - (again[0] if again else killed)
                break
            time.sleep(0.1)
        p.expect(online_after is not None and online_after <= STATUS_INTERVAL_REAL + 1.5,
                 f"the retained status read fresh from B is online within status_interval "
                 f"({STATUS_INTERVAL_S} s virtual, {STATUS_INTERVAL_REAL:g} s real) of the failover",
                 f"{online_after}")

        remaining = ON_B_REAL - (time.monotonic() - killed)
        if remaining > 0:
            time.sleep(remaining)
        status = tryggd.term()
        p.expect(status == 0, "tryggd exits 0 on SIGTERM", f"status {status}")
        stop = tryggd.matching(r"stopped: .* MQTT messages delivered")
        m = stop and re.search(r"(\d+) MQTT messages delivered, (\d+) kept for the next start, (\d+) dropped",
                               stop[-1][1])
        delivered, kept, dropped = (int(x) for x in m.groups()) if m else (None, None, None)
        p.expect(m and kept == 0 and dropped == 0, "nothing kept or dropped at the stop", stop and stop[-1][1])
        p.expect(sub.publish_marker("end"), "the end marker comes through B")
        # Where tryggd really was, as each node saw it.
        accepted = f"accepting MQTT connection .*client id: {re.escape(gateway)}\\)"
        on_a, on_b = (len(re.findall(accepted, n.log_text())) for n in (a, b))
        p.expect(on_a == 1 and on_b >= 1, "the nodes' own logs: tryggd connected to A, then to B",
                 f"A {on_a}, B {on_b}")
        if on_b > 1 and RECONNECT_RACE_IS_KNOWN:
            print(f"  KNOWN BUG  B accepted {on_b} connections from tryggd (see RECONNECT_RACE_IS_KNOWN)")
        else:
            p.expect(on_b == 1, "B accepted one connection from tryggd", f"{on_b}")

        # ---- what the subscriber on B got
        messages = sub.timed_messages()
        last = recorded_seq(state)
        readings = [(t, json.loads(pl)["seq"]) for t, topic, pl in messages if topic.endswith("/reading")]
        seqs = [s for _, s in readings]
        distinct = sorted(set(seqs))
        duplicates = len(seqs) - len(distinct)
        missing = sorted(set(range(1, last + 1)) - set(seqs))
        p.expect(distinct[:1] == [1], "the first seq is 1", f"{distinct[:1]}")
        p.expect(distinct[-1:] == [last], f"the last seq is the last one tryggd used ({last})", f"{distinct[-1:]}")
        p.expect(not missing, "no seq missing", ", ".join(map(str, missing[:12])))
        window_count, window_dups = check_windows(p, [pl for _, topic, pl in messages if topic.endswith("/window")])
        closed = stop and re.search(r"(\d+) windows", stop[-1][1])
        p.expect(closed and int(closed.group(1)) == window_count,
                 "as many windows as tryggd says it closed", f"{closed and closed.group(1)} closed, {window_count} came")
        statuses = [(t, pl) for t, topic, pl in messages if topic == status_topic]
        online_on_a = [t for t, pl in statuses if t < killed_wall and '"online"' in pl]
        # Said on connect and every status_interval: one each time, give or
        # take the first period, which started mid-way.
        p.expect(len(online_on_a) >= int(ON_A_REAL / STATUS_INTERVAL_REAL),
                 "the subscriber on B saw the status said again every status_interval while tryggd was on A",
                 f"{len(online_on_a)} in {ON_A_REAL} s")
        before_kill = [s for t, s in readings if t < killed_wall]
        after_kill = [(t, s) for t, s in readings if t >= killed_wall]
        first_after = after_kill[0] if after_kill else None
        newest_before = max(before_kill, default=0)
        first_new = next(((t, s) for t, s in after_kill if s > newest_before), None)
        p.expect(first_after is not None, "readings reach B after the kill")

        def since_kill(t):
            return f"{t - killed_wall:.2f} s" if t is not None else "never"

        print("figures:")
        print(f"  RabbitMQ boot (two nodes at once) {boot:.1f} s, cluster join {joined:.1f} s")
        print(f"  sent: seq 1..{last}; tryggd says {delivered} MQTT messages delivered, {kept} kept, {dropped} dropped")
        print(f"  received on B: {len(messages)} messages, {len(seqs)} readings ({len(distinct)} distinct, "
              f"{duplicates} duplicates, {len(missing)} missing), {window_count} windows ({window_dups} duplicates), "
              f"{len(statuses)} status ({len(online_on_a)} online while tryggd was on A)")
        print(f"  retained status on B before the failover: {before or 'none'}")
        print(f"  failover: kill -> 'connected again' {reconnect:.2f} s" if reconnect is not None
              else "  failover: never connected again")
        print(f"  kill -> first reading on B {since_kill(first_after and first_after[0])} "
              f"(seq {first_after and first_after[1]}, newest before the kill {newest_before}); "
              f"-> first new reading {since_kill(first_new and first_new[0])}")
        print(f"  'connected again' -> retained status online on B (read fresh): "
              f"{'%.2f s' % online_after if online_after is not None else 'never'}")
        print(f"  connections from tryggd as the nodes logged them: A {on_a}, B {on_b}; "
              f"subscriber processes {sub.starts}")
        print("tryggd's MQTT lines, time from the kill:")
        for t, line in tryggd.matching(r"mqtt: "):
            print(f"  {t - killed:+7.2f} s  {line}")
    finally:
        if tryggd is not None:
            tryggd.close()
        if sub is not None:
            sub.close()
        left = cluster.close()
        p.expect(not left, "no RabbitMQ, epmd or CLI process left (checked in /proc)",
                 "; ".join(f"{pid} {cmd[:80]}" for pid, cmd in left))
        p.expect(not children(), "no child of the test left, not even a zombie", f"{children()}")
    print(f"runtime {time.monotonic() - t0:.1f} s")
    return p.verdict(work, "tryggd failed over from a killed RabbitMQ node to the other and lost no reading",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
