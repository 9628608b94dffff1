#!/usr/bin/env python3
"""tryggd is SIGKILLed while the broker is down, started again (the broker
still down), then the broker comes back: every reading tryggd had accepted
before the kill arrives, and seq goes on after the restart without reuse.
The same gateway is then SIGKILLed while the broker is up (the broker sees
the connection die: the retained status becomes offline, from the will),
stopped with SIGTERM while the broker is down (its stop line counts what it
keeps for the next start) and started once more: in the end every seq it
ever used arrives, but for the numbers a SIGKILL may skip.

    test_mqtt_tryggd_killed.py TRYGGD SOURCE_DIR SERVERS_DIR

What tryggd had accepted at a kill is what its outbox (state_dir/
mqtt-buffer.db, read on a copy with Python's sqlite3) still held, plus what
the subscriber had got; the last seq it used is in state_dir/tryggd.db.  A
crash between recording a seq and keeping its message may skip numbers
(README), never reuse one: skips are counted and printed.

The broker is stopped with SIGTERM here, not SIGKILL: a SIGKILLed mosquitto
loses what it queued for an absent subscriber since its last autosave (up
to a second), which is the broker's loss, not tryggd's (see
test_mqtt_broker_killed.py for SIGKILL).
"""

import json
import sys
import time

# Beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
from mqtt_resilience import (  # noqa: E402
    Run, SeqReport, outbox_rows, parse_args, reading_seqs, recorded_seq, retained, start_simulated)

RECONNECT_MAX_S = 7.0


def main(argv):
    tryggd, source, servers_dir = parse_args(argv)
    run = Run("mqtt_tryggd_killed", tryggd, source, servers_dir)
    p = run.problems
    used = [0]          # the last seq recorded after each run
    skipped = []        # (from, to) numbers recorded but never kept
    try:
        setup = start_simulated(run, "crash")
        broker, sub, config = setup.broker, setup.sub, setup.config
        state, status_topic = setup.state, setup.status_topic

        def after_kill(label):
            rows = outbox_rows(state)
            kept = reading_seqs(rows)
            last = recorded_seq(state)
            delivered = [s for s in sub.seqs() if s <= last]
            accepted = max(kept + delivered + [used[-1]])
            print(f"  {label}: seq {last} recorded in tryggd.db; the outbox holds {len(rows)} messages, "
                  f"{len(kept)} of them readings" + (f" (seq {kept[0]}..{kept[-1]})" if kept else "")
                  + f"; accepted up to seq {accepted}; recorded but not kept: {last - accepted}")
            p.expect(kept == list(range(kept[0], kept[-1] + 1)) if kept else True,
                     f"{label}: the outbox's readings are consecutive")
            p.expect(accepted <= last, f"{label}: nothing kept above the seq recorded", f"{accepted} > {last}")
            if last > accepted:
                skipped.append((accepted + 1, last))
            used.append(last)
            return rows

        print("run 1: publish 3 s, broker stopped, 3 s more into the outbox, SIGKILL")
        first = run.tryggd(config, "tryggd-1")
        p.expect(first.wait_for(r"mqtt: connected to", 10) is not None, "run 1 connects")
        time.sleep(3)
        broker.stop()
        time.sleep(3)
        first.kill()
        rows = after_kill("run 1 killed with the broker down")
        p.expect(len(reading_seqs(rows)) > 10, "the outbox holds the readings taken while the broker was down",
                 f"{len(reading_seqs(rows))}")

        print("run 2: started with the broker down; the broker back 3 s later; SIGKILL with the broker up")
        second = run.tryggd(config, "tryggd-2")
        said = second.wait_for(r"messages kept from before are sent once connected", 5)
        p.expect(said is not None and f"mqtt: {len(rows)} messages kept" in said[1],
                 f"run 2 says it has the {len(rows)} messages kept from before", said and said[1])
        time.sleep(3)
        back = broker.start()
        found = second.wait_for(r"mqtt: connected to", 15)
        reconnect = found[0] - back if found else None
        if p.expect(found is not None, "run 2 connects once the broker is back"):
            print(f"  connected {reconnect:.2f} s after the broker came back")
            p.expect(reconnect <= RECONNECT_MAX_S, f"within {RECONNECT_MAX_S} s", f"{reconnect:.2f}")
        time.sleep(3)
        p.expect(json.loads(retained(broker, status_topic) or "{}").get("state") == "online",
                 "the retained status is online while run 2 is connected")
        sub.marker("before-kill")
        second.kill()
        time.sleep(0.5)
        status = retained(broker, status_topic)
        print(f"  retained status after the SIGKILL: {status}")
        p.expect(json.loads(status or "{}").get("state") == "offline", "the retained status is offline (the will)",
                 status)
        sub.marker("after-kill")
        after_kill("run 2 killed with the broker up")

        print("run 3: started with the broker down, SIGTERM 2 s later")
        broker.stop()
        third = run.tryggd(config, "tryggd-3")
        time.sleep(2)
        stopping = time.monotonic()
        code = third.term()
        took = time.monotonic() - stopping
        p.expect(code == 0, f"run 3 exits 0 on SIGTERM ({took:.1f} s)", f"status {code}")
        stop = third.stop_line()
        rows = outbox_rows(state)
        print(f"  stop line: {stop and 'delivered %d, kept %d, dropped %d' % stop}; the outbox holds {len(rows)}")
        p.expect(stop is not None and stop[1] == len(rows) and stop[1] > 0,
                 "the stop line's 'kept for the next start' is what the outbox holds", f"{stop}, {len(rows)} rows")
        lost = third.matching(r"they are lost")
        p.expect(not lost, "no line says kept messages are lost", lost and lost[0][1])
        used.append(recorded_seq(state))

        print("run 4: the broker back, started again, SIGTERM")
        broker.start()
        fourth = run.tryggd(config, "tryggd-4")
        said = fourth.wait_for(r"messages kept from before are sent once connected", 5)
        p.expect(said is not None and f"mqtt: {len(rows)} messages kept" in said[1],
                 f"run 4 says it has the {len(rows)} messages kept from before", said and said[1])
        p.expect(fourth.wait_for(r"mqtt: connected to", 10) is not None, "run 4 connects")
        time.sleep(2)
        code = fourth.term()
        p.expect(code == 0, "run 4 exits 0 on SIGTERM", f"status {code}")
        stop = fourth.stop_line()
        p.expect(stop is not None and stop[1:] == (0, 0), "run 4 keeps and drops nothing", f"{stop}")
        used.append(recorded_seq(state))
        sub.marker("end")
        status = retained(broker, status_topic)
        p.expect(json.loads(status or "{}").get("state") == "offline", "after a clean stop the status is offline",
                 status)

        seqs = sub.seqs()
        report = SeqReport(seqs)
        got = set(seqs)
        print(f"subscriber: {report.summary()}")
        print(f"  runs used seq {', '.join(f'{a + 1}..{b}' for a, b in zip(used, used[1:]))}; "
              f"skipped at the SIGKILLs: {skipped or 'none'}")
        p.expect(report.first == 1, "the first seq is 1", f"{report.first}")
        p.expect(report.last == used[-1], f"the last seq is the last one used ({used[-1]})", f"{report.last}")
        allowed = {s for a, b in skipped for s in range(a, b + 1)}
        lost = [s for s in range(1, used[-1] + 1) if s not in got and s not in allowed]
        p.expect(not lost, "every reading accepted arrived, across two SIGKILLs, a stop and three restarts",
                 f"{len(lost)} missing: {lost[:10]}")
        for number, (before, after) in enumerate(zip(used[1:], used[2:]), 2):
            began = min((s for s in got if s > before), default=None)
            p.expect(began is None or began > before, f"run {number} uses no seq of the runs before", f"{began}")
        p.expect(not report.out_of_order, "order kept", f"{report.out_of_order[:5]}")
        print(f"figures: seq 1..{used[-1]} used over 4 runs, received {report.received}, "
              f"duplicates {report.duplicates}, skipped by SIGKILLs {len(allowed)}, "
              f"reconnect after the broker's return {reconnect if reconnect is None else round(reconnect, 2)} s")
    finally:
        run.close()
    return run.finish("crashes and stops with the broker away lose nothing kept; the will says offline")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
