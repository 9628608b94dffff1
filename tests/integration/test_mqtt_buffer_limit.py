#!/usr/bin/env python3
"""The outbox's bounds: with the broker away for far more readings than the
outbox may hold, the subscriber afterwards misses exactly the oldest
messages, and as many as tryggd's stop line says it dropped.

    test_mqtt_buffer_limit.py TRYGGD SOURCE_DIR SERVERS_DIR

A. Two gateways at once on one private broker: `count` with buffer_max =
   50, and `size` with buffer_size = 64K.  The broker is down from their
   start (the subscriber's session made before: the broker started,
   subscribed to, stopped with SIGTERM).  Run 1 of each, on a simulated
   clock from 10:00 at speed 60, takes over 300 readings and is stopped
   (SIGTERM) with the broker still down; its stop line says how many it
   dropped (D) and kept (K).  Its outbox (read on a copy) must hold the
   newest K messages: numbered D+1..D+K, as the outbox numbers every
   message it accepts from 1.  Then the broker comes back and run 2, on a
   clock from 12:00 and with the default bounds (so that it drops nothing
   of what it hands to the broker, see B), sends what run 1 kept: the
   subscriber gets exactly those K messages of run 1 (told apart from run
   2's by their time, before 11:00), every kind counted, so it misses
   exactly the D oldest; among the readings, exactly seq 1..(first kept - 1).

B. `stall`, buffer_max = 50, connected to a broker that then stalls
   (SIGSTOP: the connection stays open, no PUBACK comes) for over 150
   readings, and resumes (SIGCONT): every message was handed to the broker
   before the outbox had to drop it, so the subscriber misses none, and
   the stop line must not count any as dropped either.
"""

import json
import sys
import time
import uuid

# Beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
from mqtt_resilience import Run, SeqReport, outbox_rows, parse_args, recorded_seq, write_config  # noqa: E402

READINGS = 300
RUN2_FROM = "2026-06-15T12:00:00Z"
# Run 1 reaches some 10:10; run 2's first readings stand for the second
# before 12:00.
RUN1_BEFORE = "2026-06-15T11:00:00Z"
SIZE = 64 * 1024


def wait_readings(state, at_least, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if recorded_seq(state) >= at_least:
                return True
        except Exception:  # noqa: BLE001 (not there yet)
            pass
        time.sleep(0.25)
    return False


def when(payload):
    """A message's time: ts, or a window's start."""
    try:
        data = json.loads(payload)
    except ValueError:
        return ""
    return data.get("ts") or data.get("start") or ""


def stalled_broker(run, broker, sub, source, prefix, token):
    p = run.problems
    print("B: the broker stalls (SIGSTOP) while tryggd, buffer_max = 50, has handed it everything")
    gateway = f"stall-{token}"
    state = run.path("state-stall")
    config = run.path("stall.conf")
    write_config(config, gateway_id=gateway, prefix=prefix, source=source, state_dir=state, uri=broker.uri,
                 window_s=3600, simulation=("2026-06-15T10:00:00Z", 60), mqtt_extra=("buffer_max = 50",))
    t = run.tryggd(config, "stall")
    p.expect(t.wait_for(r"mqtt: connected to", 10) is not None, "stall: connects")
    time.sleep(1)
    try:
        before = recorded_seq(state)
        broker.pause()
        stalled = wait_readings(state, before + 150, 20)
        during = recorded_seq(state) - before
    finally:
        broker.resume()
    p.expect(stalled, f"stall: {during} readings taken while the broker stalled")
    time.sleep(2)
    status = t.term()
    p.expect(status == 0, "stall: exits 0 on SIGTERM", f"status {status}")
    stop = t.stop_line()
    sub.marker("stall-end")
    last = recorded_seq(state)
    report = SeqReport([json.loads(pl)["seq"] for tp, pl in sub.messages()
                        if tp.endswith("/reading") and f"/{gateway}/" in tp])
    print(f"  stop line: {stop and 'delivered %d, kept %d, dropped %d' % stop}; tryggd used seq 1..{last}; "
          f"subscriber: {report.summary()}")
    missed = last - len(set(report.seqs))
    p.expect(missed == 0, "stall: no reading missed", f"{missed}")
    p.expect(stop is not None and stop[2] == missed,
             f"stall: the stop line's dropped ({stop and stop[2]}) = readings missed ({missed})",
             "it counts messages dropped from the outbox while in flight, which the broker then "
             "acknowledged (and are counted as delivered too)")
    print(f"figures stall: sent seq 1..{last}, received {report.received}, duplicates {report.duplicates}, "
          f"missed {missed}, dropped (stop line) {stop and stop[2]}")


def main(argv):
    tryggd, source, servers_dir = parse_args(argv)
    run = Run("mqtt_buffer_limit", tryggd, source, servers_dir)
    p = run.problems
    token = uuid.uuid4().hex[:8]
    prefix = f"tryggtest-{token}"
    cases = {"count": "buffer_max = 50", "size": "buffer_size = 64K"}
    outboxes, stops, used = {}, {}, {}
    try:
        broker = run.broker()
        broker.start()
        sub = run.subscriber(broker, prefix)
        sub.start()
        broker.stop()

        def config(name, start):
            path = run.path(f"{name}-{start[11:13]}.conf")
            write_config(path, gateway_id=f"{name}-{token}", prefix=prefix, source=source,
                         state_dir=run.path(f"state-{name}"), uri=broker.uri, window_s=3600,
                         simulation=(start, 60), mqtt_extra=(cases[name],) if start < RUN2_FROM else ())
            return path

        print(f"run 1: broker down, over {READINGS} readings each, SIGTERM")
        first = {name: run.tryggd(config(name, "2026-06-15T10:00:00Z"), f"{name}-1") for name in cases}
        for name in cases:
            p.expect(wait_readings(run.path(f"state-{name}"), READINGS, 30),
                     f"{name}: over {READINGS} readings taken while the broker is down")
        for name, t in first.items():
            status = t.term()
            p.expect(status == 0, f"{name}: run 1 exits 0 on SIGTERM", f"status {status}")
            stops[name] = t.stop_line()
            used[name] = recorded_seq(run.path(f"state-{name}"))
            outboxes[name] = outbox_rows(run.path(f"state-{name}"), with_ids=True)
            with open(run.path(f"{name}-outbox-after-run-1.txt"), "w", encoding="utf-8") as f:
                f.writelines(f"{i} {t} {b.decode(errors='replace')}\n" for i, t, b in outboxes[name])
        for name, setting in cases.items():
            stop, rows = stops[name], outboxes[name]
            if not p.expect(stop is not None, f"{name}: run 1 logs its stop line"):
                continue
            delivered, kept, dropped = stop
            ids = [i for i, _, _ in rows]
            held = sum(len(t.encode()) + len(b) for _, t, b in rows)
            seqs = [json.loads(b)["seq"] for _, t, b in rows if t.endswith("/reading")]
            print(f"  {name} ({setting}): seq 1..{used[name]} used; stop line: delivered {delivered}, "
                  f"kept {kept}, dropped {dropped}; outbox: {len(rows)} messages, ids "
                  f"{ids[0] if ids else '-'}..{ids[-1] if ids else '-'}, {held} bytes, readings seq "
                  f"{seqs[0] if seqs else '-'}..{seqs[-1] if seqs else '-'}")
            p.expect(delivered == 0 and dropped > 0, f"{name}: nothing delivered, some dropped", f"{stop}")
            p.expect(kept == len(rows), f"{name}: 'kept' is what the outbox holds", f"{kept} vs {len(rows)}")
            p.expect(ids == list(range(dropped + 1, dropped + kept + 1)),
                     f"{name}: the outbox holds the newest: messages {dropped + 1}..{dropped + kept} of "
                     f"{dropped + kept} accepted", f"{ids[:3]}..{ids[-3:]}")
            p.expect(bool(seqs) and seqs == list(range(seqs[0], used[name] + 1)),
                     f"{name}: its readings are the newest, up to seq {used[name]}")
            if name == "count":
                p.expect(kept == 50, f"{name}: it holds buffer_max = 50 messages", f"{kept}")
            else:
                largest = max(len(t.encode()) + len(b) for _, t, b in rows)
                p.expect(SIZE - largest < held <= SIZE,
                         f"{name}: it holds as much as fits in 64K ({held} bytes; no message is over {largest})",
                         f"{held}")

        print("run 2: the broker back, what run 1 kept is sent")
        back = broker.start()
        second = {name: run.tryggd(config(name, RUN2_FROM), f"{name}-2") for name in cases}
        for name, t in second.items():
            found = t.wait_for(r"mqtt: connected to", 15)
            p.expect(found is not None, f"{name}: run 2 connects")
            said = t.matching(r"messages kept from before")
            p.expect(bool(said) and f"mqtt: {len(outboxes[name])} messages kept" in said[0][1],
                     f"{name}: run 2 says it has the {len(outboxes[name])} messages kept from before",
                     said and said[0][1])
        time.sleep(2)
        for name, t in second.items():
            status = t.term()
            p.expect(status == 0, f"{name}: run 2 exits 0 on SIGTERM", f"status {status}")
            stop = t.stop_line()
            p.expect(stop is not None and stop[1:] == (0, 0), f"{name}: run 2 keeps and drops nothing", f"{stop}")
            used[name] = (used[name], recorded_seq(run.path(f"state-{name}")))
        sub.marker("end")
        print(f"  the broker was back {back - run.t0:.1f} s into the test")

        messages = sub.messages()
        for name, setting in cases.items():
            if stops[name] is None:
                continue
            mine = [(t, pl) for t, pl in messages if f"/{name}-{token}/" in t]
            run1 = {(t, pl) for t, pl in mine if when(pl) and when(pl) < RUN1_BEFORE}
            _, kept, dropped = stops[name]
            accepted = dropped + kept
            missed = accepted - len(run1)
            seqs = sorted(json.loads(pl)["seq"] for t, pl in run1 if t.endswith("/reading"))
            first_kept = seqs[0] if seqs else None
            last1, last2 = used[name]
            report = SeqReport([json.loads(pl)["seq"] for t, pl in mine if t.endswith("/reading")])
            kinds = sorted({t.rsplit("/", 1)[1] for t, _ in run1})
            print(f"{name} ({setting}): run 1 accepted {accepted} messages; the subscriber got {len(run1)} distinct "
                  f"of them ({', '.join(kinds)}), so missed {missed}; dropped at run 1's stop: {dropped}; "
                  f"readings of run 1 "
                  f"seq {first_kept}..{seqs[-1] if seqs else '-'}; all readings: {report.summary()}")
            p.expect(missed == dropped, f"{name}: messages of run 1 missed ({missed}) = dropped at its stop ({dropped})")
            p.expect(bool(seqs) and seqs == list(range(first_kept, last1 + 1)),
                     f"{name}: run 1's readings arrived from the first kept (seq {first_kept}) to its last ({last1})")
            p.expect(report.first == first_kept and not report.missing,
                     f"{name}: the readings missed are exactly the oldest, seq 1..{(first_kept or 1) - 1}",
                     report.missing_text())
            p.expect(report.last == last2 and not report.out_of_order,
                     f"{name}: run 2 goes on in order up to seq {last2}", report.summary())
            print(f"figures {name}: run 1 accepted {accepted}, dropped {dropped} (of which readings "
                  f"{(first_kept or 1) - 1}), kept {kept}, received {len(run1)} of run 1, "
                  f"duplicates {report.duplicates}")

        stalled_broker(run, broker, sub, source, prefix, token)
    finally:
        run.close()
    return run.finish("a full outbox drops the oldest, and says how many")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
