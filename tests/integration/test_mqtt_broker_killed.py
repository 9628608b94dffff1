#!/usr/bin/env python3
"""The broker is SIGKILLed and started again mid-run, twice, while tryggd
publishes: an independent subscriber with a persistent session sees every
reading seq from the first to the last, no gap, in order (duplicates are
allowed: at least once; they are counted).

    test_mqtt_broker_killed.py TRYGGD SOURCE_DIR SERVERS_DIR

tryggd runs a simulated clock at speed 10 (some 10 readings a second)
against a private mosquitto (persistence, autosave every second) on a free
port; the subscriber is mosquitto_sub -c -q 1, which reconnects by itself
about a second after the broker is back.

A SIGKILLed mosquitto loses what it queued for an absent subscriber since
its last autosave, although it had acknowledged it to tryggd (measured: 10
of 10 messages queued 0.1 s before the kill lost, none of 10 queued 2.5 s
before).  That is the broker's loss, not tryggd's, so each kill here comes
3.5 s after the broker's return and only once the subscriber is connected
again: what tryggd sent is then delivered, or saved.  The other tests stop
the broker with SIGTERM, which saves everything.

Exit 0 when all hold, 1 with the list of what did not.
"""

import json
import sys
import time

# Beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
from mqtt_resilience import (  # noqa: E402
    Run, SeqReport, expect_every_seq, parse_args, recorded_seq, retained, start_simulated, term_cleanly)

KILLS = 2
UP_S = 3.5
DOWN_S = 2.0
# After the broker is back, tryggd tries at the end of its backoff, at
# most 5 s (+20 % jitter), and Paho then takes about a second to connect.
RECONNECT_MAX_S = 7.0


def main(argv):
    tryggd, source, servers_dir = parse_args(argv)
    run = Run("mqtt_broker_killed", tryggd, source, servers_dir)
    p = run.problems
    try:
        setup = start_simulated(run, "killed")
        broker, sub = setup.broker, setup.sub
        t = run.tryggd(setup.config, "tryggd")
        p.expect(t.wait_for(r"mqtt: connected to", 10) is not None, "tryggd connects")
        reconnect_times = []
        for number in range(1, KILLS + 1):
            time.sleep(UP_S)
            broker.kill()
            killed = time.monotonic()
            print(f"broker SIGKILLed ({number} of {KILLS}) at {killed - run.t0:.1f} s; down {DOWN_S} s")
            time.sleep(DOWN_S)
            mark = len(broker.log_lines())
            back = broker.start()
            found = t.wait_for(r"mqtt: connected again", 15, count=number)
            if p.expect(found is not None, f"tryggd connected again after restart {number}"):
                reconnect_times.append(found[0] - back)
                print(f"  broker back; tryggd connected again {found[0] - back:.2f} s later")
            # The next kill must find the subscriber connected (see above).
            p.expect(broker.wait_client(sub.client_id, mark), "the subscriber is back too")
        time.sleep(UP_S)
        said = retained(broker, setup.status_topic)
        p.expect(json.loads(said or "{}").get("state") == "online", "the retained status is online again", said)
        term_cleanly(p, t)
        sub.marker("end")
        said = retained(broker, setup.status_topic)
        p.expect(json.loads(said or "{}").get("state") == "offline", "after the stop the status is offline", said)
        last = recorded_seq(setup.state)
        report = SeqReport(sub.seqs())
        messages = sub.messages()
        print(f"tryggd used seq 1..{last}; subscriber saw {len(messages)} messages "
              f"(windows {sum(1 for m in messages if m[0].endswith('/window'))}); {report.summary()}; "
              f"subscriber (re)connections {sub.starts} process(es)")
        expect_every_seq(p, report, last, last_what="the last seq is the last one tryggd used")
        p.expect(all(r <= RECONNECT_MAX_S for r in reconnect_times),
                 f"connected again within {RECONNECT_MAX_S} s of the broker's return",
                 f"{[round(r, 2) for r in reconnect_times]}")
        print(f"figures: sent seq 1..{last}, received {report.received}, duplicates {report.duplicates}, "
              f"reconnects {len(reconnect_times)}, time to reconnect "
              f"{', '.join(f'{r:.2f}' for r in reconnect_times)} s")
    finally:
        run.close()
    return run.finish("two broker SIGKILLs lost no reading")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
