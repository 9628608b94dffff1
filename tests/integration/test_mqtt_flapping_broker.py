#!/usr/bin/env python3
"""A broker stopped and started again every second for 30 s while tryggd
publishes, then 20 s of one stopped and started every 2.5 s: the
subscriber misses no seq, order is kept, and in the second phase tryggd
connects again at least 6 times of 8.

    test_mqtt_flapping_broker.py TRYGGD SOURCE_DIR SERVERS_DIR

Each time the private broker is stopped (SIGTERM, so that it saves what
it queued for the subscriber: a SIGKILL would lose up to its last second),
left down for 0.3 s and started again on the same port.  tryggd runs a
simulated clock at speed 10 (some 10 readings a second).

In the first phase no reconnect is required, only that nothing is lost:
with Paho 1.3.12 (Debian 12), after a lost connection the async client
sends CONNECT about 1.04 s after its TCP connection was accepted (its
receive thread polls with a 1 s timeout; eclipse-paho/paho.mqtt.c #1039,
#1430, PR #1458), so a broker that stays up 0.7 s at a time is never
reached.  The broker's log shows those connections: accepted, no CONNECT.
The count is printed.  Everything tryggd kept meanwhile is delivered once
the broker stays up.
"""

import statistics
import sys
import time

# Beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
from mqtt_resilience import (  # noqa: E402
    Run, SeqReport, expect_every_seq, parse_args, recorded_seq, start_simulated, term_cleanly)

# name, period, down, duration, reconnects at least: the brief's broker,
# stopped and started every second (up 0.7 s at a time, shorter than
# Paho's reconnect takes: none required, see above); then one that stays
# up 2.2 s each time, long enough for a connect through Paho (which took
# 1.2 to 1.5 s from the broker's start in some 40 such restarts).
PHASES = (("every 1 s", 1.0, 0.3, 30.0, 0), ("every 2.5 s", 2.5, 0.3, 20.0, 6))


def stalled_connections(log_path, since_line):
    """TCP connections the broker accepted that sent no CONNECT before it
    went away: accepted minus connected minus closed at once (our own
    port probes)."""
    with open(log_path, encoding="utf-8", errors="replace") as f:
        lines = f.readlines()[since_line:]
    accepted = sum("New connection from" in line for line in lines)
    connected = sum("New client connected from" in line for line in lines)
    closed = sum("Client <unknown> closed its connection" in line for line in lines)
    return accepted - connected - closed


def wait_connected(t, timeout_s):
    """True once tryggd's last word on the link is that it connected."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        said = t.matching(r"mqtt: connected|mqtt: connection to .* lost")
        if said and "lost" not in said[-1][1]:
            return True
        time.sleep(0.05)
    return False


def flap(run, broker, t, name, period_s, down_s, duration_s, minimum):
    p = run.problems
    print(f"phase {name}: stopped (SIGTERM), {down_s} s down, started again, for {duration_s:.0f} s")
    mark = len(broker.log_lines())
    before = len(t.matching(r"mqtt: connected again"))
    backs = []
    begin = time.monotonic()
    while time.monotonic() - begin < duration_s:
        tick = time.monotonic()
        broker.stop()
        time.sleep(down_s)
        backs.append(broker.start())
        time.sleep(max(0.0, period_s - (time.monotonic() - tick)))
    ended = time.monotonic()
    again = [when for when, _ in t.matching(r"mqtt: connected again")][before:]
    during = [w for w in again if w < ended]
    # For each start of the broker, how long until tryggd was on it.
    delays = []
    for i, back in enumerate(backs):
        until = backs[i + 1] if i + 1 < len(backs) else ended
        first = next((w for w in during if back <= w < until), None)
        if first is not None:
            delays.append(first - back)
    stalled = stalled_connections(broker.log, mark)
    print(f"  broker started {len(backs)} times in {ended - begin:.1f} s; tryggd connected again {len(during)} "
          f"times meanwhile; {stalled} TCP connections the broker accepted sent no CONNECT before it stopped")
    if delays:
        print(f"  broker start to tryggd's connect: min {min(delays):.2f} s, "
              f"median {statistics.median(delays):.2f} s, max {max(delays):.2f} s")
    if minimum:
        p.expect(len(during) >= minimum, f"{name}: connected again at least {minimum} times", f"{len(during)}")
    return len(backs), len(during), delays


def main(argv):
    tryggd, source, servers_dir = parse_args(argv)
    run = Run("mqtt_flapping_broker", tryggd, source, servers_dir)
    p = run.problems
    try:
        setup = start_simulated(run, "flap")
        broker, sub = setup.broker, setup.sub
        t = run.tryggd(setup.config, "tryggd")
        p.expect(t.wait_for(r"mqtt: connected to", 10) is not None, "tryggd connects")
        figures = []
        for name, period_s, down_s, duration_s, minimum in PHASES:
            time.sleep(1)
            figures.append((name, *flap(run, broker, t, name, period_s, down_s, duration_s, minimum)))
            # Left up: tryggd is back within its longest backoff (6 s) and
            # a connect, and what it kept goes out.
            p.expect(wait_connected(t, 12), f"{name}: connected once the broker stays up")
            time.sleep(1)
        term_cleanly(p, t)

        sub.marker("end")
        last = recorded_seq(setup.state)
        report = SeqReport(sub.seqs())
        print(f"subscriber: {report.summary()}")
        expect_every_seq(p, report, last)
        print(f"figures: sent seq 1..{last}, received {report.received}, duplicates {report.duplicates}; "
              + "; ".join(f"{name}: {starts} broker starts, {again} reconnects"
                          + (f" (median {statistics.median(d):.2f} s after the start)" if d else "")
                          for name, starts, again, d in figures))
    finally:
        run.close()
    return run.finish("a flapping broker costs no reading")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
