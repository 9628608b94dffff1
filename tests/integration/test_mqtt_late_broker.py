#!/usr/bin/env python3
"""tryggd starts while nothing listens on the broker's port; the broker
starts 5 s later: every reading from seq 1 arrives, and the outage is
logged once, not once per try.

    test_mqtt_late_broker.py TRYGGD SOURCE_DIR SERVERS_DIR

The subscriber's persistent session is made first (the broker started,
subscribed to, and stopped with SIGTERM, which saves the session), so the
broker keeps tryggd's messages for it from the moment it is back, however
soon tryggd connects and however late mosquitto_sub does.
"""

import json
import sys
import time

# Beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
from mqtt_resilience import (  # noqa: E402
    Run, SeqReport, expect_every_seq, parse_args, recorded_seq, retained, start_simulated, tcp_accepts,
    term_cleanly)

LATE_S = 5.0
# Tries at 0, 0.5, 1.5, 3.5, 7.5 s (each wait ±20 %): the one after the
# broker is back comes at most 4.8 s later.
CONNECT_MAX_S = 7.0


def main(argv):
    tryggd, source, servers_dir = parse_args(argv)
    run = Run("mqtt_late_broker", tryggd, source, servers_dir)
    p = run.problems
    try:
        setup = start_simulated(run, "late")
        broker, sub = setup.broker, setup.sub
        broker.stop()
        p.expect(not tcp_accepts(broker.port), "nothing listens on the broker's port")
        t = run.tryggd(setup.config, "tryggd")
        time.sleep(LATE_S)
        back = broker.start()
        print(f"broker started {back - t.started:.1f} s after tryggd")
        found = t.wait_for(r"mqtt: connected to", 15)
        if p.expect(found is not None, "tryggd connects once the broker is there"):
            print(f"  connected {found[0] - back:.2f} s after the broker came")
            p.expect(found[0] - back <= CONNECT_MAX_S, f"within {CONNECT_MAX_S} s", f"{found[0] - back:.2f}")
        time.sleep(3)
        said = retained(broker, setup.status_topic)
        p.expect(json.loads(said or "{}").get("state") == "online", "the retained status is online", said)
        term_cleanly(p, t)
        warnings = t.matching(r"cannot connect")
        p.expect(len(warnings) == 1, "the outage is logged once", f"{len(warnings)} lines")
        sub.marker("end")
        last = recorded_seq(setup.state)
        report = SeqReport(sub.seqs())
        print(f"subscriber: {report.summary()}")
        expect_every_seq(p, report, last, first_what="the first reading to arrive is seq 1")
        print(f"figures: sent seq 1..{last}, received {report.received}, duplicates {report.duplicates}, "
              f"connected {found[0] - back if found else float('nan'):.2f} s after the broker came")
    finally:
        run.close()
    return run.finish("a broker that comes late gets every reading from seq 1")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
