#!/usr/bin/env python3
"""A broken outbox file is set aside, with one warning naming where it went,
and tryggd starts with a fresh one and delivers new readings.

    test_mqtt_broken_outbox.py TRYGGD SOURCE_DIR SERVERS_DIR

Three gateways at once on one private broker, each with its own state_dir
prepared before the start:
  garbage    state_dir/mqtt-buffer.db is 16 KiB of bytes that are no SQLite
             database;
  truncated  a real outbox (from a tryggd that kept some 200 messages while
             no broker listened, SIGKILLed, its -wal checkpointed into the
             file with Python's sqlite3) cut to half its size;
  wal-only   the -wal of such an outbox without its main file (nor -shm).
Each must log exactly one line about its outbox, a warning that names
where the broken file went (PATH.broken-TIMESTAMP, or that name with -wal
for a lone -wal), which is there; the fresh outbox holds nothing from
before, and the readings of this run arrive from seq 1.

Known to fail for wal-only: SQLite, opening a missing (so empty) database
beside a -wal, deletes the -wal without a word (its pager does so for a
database of zero pages), so tryggd sees a fresh file, warns of nothing and
sets nothing aside: the messages in the -wal are gone.
"""

import os
import random
import re
import shutil
import sqlite3
import sys
import time
import uuid

# Beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
from mqtt_resilience import Run, SeqReport, free_port, parse_args, recorded_seq, write_config  # noqa: E402

OUTBOX = "mqtt-buffer.db"


def make_real_outbox(run, source, token):
    """A state_dir whose outbox holds messages: tryggd with nothing to
    connect to, SIGKILLed.  Returns its path (mqtt-buffer.db and -wal)."""
    state = run.path("state-real")
    config = run.path("real.conf")
    write_config(config, gateway_id=f"real-{token}", prefix=f"tryggtest-{token}-real", source=source,
                 state_dir=state, uri=f"tcp://127.0.0.1:{free_port()}", window_s=3600,
                 simulation=("2026-06-15T10:00:00Z", 60))
    t = run.tryggd(config, "real")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            if recorded_seq(state) >= 200:
                break
        except Exception:  # noqa: BLE001 (not there yet)
            pass
    t.kill()
    return state


def prepare(run, source, token):
    real = make_real_outbox(run, source, token)
    dirs = {name: run.path(f"state-{name}") for name in ("garbage", "truncated", "wal-only")}
    for d in dirs.values():
        os.makedirs(d)

    noise = random.Random(7).randbytes(16384)
    with open(os.path.join(dirs["garbage"], OUTBOX), "wb") as f:
        f.write(noise)

    copy = run.path("checkpointed.db")
    shutil.copyfile(os.path.join(real, OUTBOX), copy)
    shutil.copyfile(os.path.join(real, OUTBOX + "-wal"), copy + "-wal")
    db = sqlite3.connect(copy)
    rows = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = os.path.getsize(copy)
    with open(copy, "rb") as f:
        half = f.read(size // 2)
    with open(os.path.join(dirs["truncated"], OUTBOX), "wb") as f:
        f.write(half)
    wal = os.path.join(real, OUTBOX + "-wal")
    shutil.copyfile(wal, os.path.join(dirs["wal-only"], OUTBOX + "-wal"))
    print(f"prepared: garbage 16384 bytes; truncated {size // 2} of {size} bytes ({rows} messages); "
          f"wal-only {os.path.getsize(wal)} bytes of -wal")
    return dirs


def main(argv):
    tryggd, source, servers_dir = parse_args(argv)
    run = Run("mqtt_broken_outbox", tryggd, source, servers_dir)
    p = run.problems
    token = uuid.uuid4().hex[:8]
    prefix = f"tryggtest-{token}"
    try:
        dirs = prepare(run, source, token)
        broker = run.broker()
        broker.start()
        sub = run.subscriber(broker, prefix)
        sub.start()
        procs = {}
        for name, state in dirs.items():
            config = run.path(f"{name}.conf")
            write_config(config, gateway_id=f"{name}-{token}", prefix=prefix, source=source, state_dir=state,
                         uri=broker.uri, simulation=("2026-06-15T10:00:00Z", 10))
            procs[name] = run.tryggd(config, name)
        for name, t in procs.items():
            p.expect(t.wait_for(r"mqtt: connected to", 10) is not None, f"{name}: starts and connects")
        time.sleep(2)
        for name, t in procs.items():
            status = t.term()
            p.expect(status == 0, f"{name}: exits 0 on SIGTERM", f"status {status}")
        sub.marker("end")
        messages = sub.messages()
        for name, t in procs.items():
            state = dirs[name]
            print(f"{name}: files now {sorted(os.listdir(state))}")
            about = t.matching(r"mqtt outbox|mqtt-buffer")
            for _, line in about:
                print(f"  log: {line}")
            warnings = [line for _, line in about if "warning:" in line]
            p.expect(len(about) == 1 and len(warnings) == 1, f"{name}: one warning about the outbox",
                     f"{len(warnings)} warnings, {len(about)} lines")
            named = [m.group(1) for line in warnings for m in [re.search(r"set aside as (\S+?),? ", line)] if m]
            aside = named[0] if named else None
            p.expect(aside is not None and os.path.basename(aside).startswith(OUTBOX + ".broken-"),
                     f"{name}: the warning names the file set aside ({OUTBOX}.broken-TIMESTAMP)", f"{aside}")
            if aside:
                p.expect(os.path.exists(aside) or os.path.exists(aside + "-wal"),
                         f"{name}: what was set aside is there", aside)
            p.expect(not t.matching(r"kept from before"), f"{name}: the fresh outbox holds nothing from before")
            gateway = f"{name}-{token}"
            seqs = [int(s) for topic, payload in messages if topic.endswith("/reading") and f"/{gateway}/" in topic
                    for s in re.findall(r'"seq":(\d+)', payload)]
            report = SeqReport(seqs)
            last = recorded_seq(state)
            print(f"  subscriber: {report.summary()}; tryggd used seq 1..{last}")
            p.expect(bool(seqs) and report.first == 1 and report.last == last and not report.missing,
                     f"{name}: new readings delivered, seq 1..{last}", report.summary())
    finally:
        run.close()
    return run.finish("broken outbox files are set aside and tryggd goes on")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
