#!/usr/bin/env python3
"""A damaged state database (state_dir/tryggd.db) is set aside with one
warning that names it and says what it held, tryggd starts afresh, and the
reading sequence number goes on without going back.

    test_state_damaged.py TRYGGD SOURCE_DIR SERVERS_DIR

First a real state_dir: tryggd with a store nobody listens on, so that
the spool keeps its points, and the real broker, so that both tryggd.db
and mqtt-buffer.db hold a sequence number.  Then copies of it, each
damaged one way, and tryggd run on each against the real broker and store:

  garbage    tryggd.db is 16 KiB of random bytes
  text       tryggd.db is a text file
  truncated  tryggd.db cut to half its size (its -wal checkpointed first)
  root       the spool table's root page overwritten
  page       a page in the middle of the spool overwritten
  both       tryggd.db and mqtt-buffer.db random bytes: seq restarts at 1

Each must exit 0, log exactly one warning "state: PATH is damaged (...);
set aside as PATH.broken-YYYYMMDDTHHMMSSZ", which is there, saying how many
points were lost (a number, or "an unknown number of"), and no "cannot
start"; the readings then go on from the sequence number mqtt-buffer.db
kept ("both": from 1, said in a warning).  Exit 0 when all hold, 1 with the
list of what did not.
"""

import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

# Beside this file.
import capture
from capture import Problems, load_servers

ASIDE = re.compile(r"warning: state: (\S+) is damaged \((.*)\); set aside as (\S+?)[ ,]")
LOST = re.compile(r"lost (\d+|an unknown number of) points waiting for the store")


def write_config(path, state_dir, source, info, gateway_id, influx_url, start, end):
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", "district = Årby", "window = 60", f"state_dir = {state_dir}"]),
        ("simulation", [f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}", f"start = {start}",
                        f"end = {end}", "speed = 0", "drain_timeout = 2"]),
        ("mqtt", [f"uri = {info['mqtt_uri']}", f"topic_prefix = tryggtest-{gateway_id}"]),
        ("influx", [f"url = {influx_url}", f"database = {info['database']}"]),
        *capture.sim_sensors(capture.SKY_AND_DOOR),
    ])


def run(tryggd, config):
    p = subprocess.run([tryggd, "-c", config], capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def query(path, sql):
    """One value from a database, read on a copy so that nothing of it changes."""
    with tempfile.TemporaryDirectory() as work:
        copy = os.path.join(work, "copy.db")
        shutil.copyfile(path, copy)
        if os.path.exists(path + "-wal"):
            shutil.copyfile(path + "-wal", copy + "-wal")
        db = sqlite3.connect(copy)
        try:
            return db.execute(sql).fetchone()[0]
        finally:
            db.close()


def overwrite_page(path, number, page_size):
    with open(path, "r+b") as f:
        f.seek((number - 1) * page_size)
        f.write(random.Random(number).randbytes(page_size))


def prepare(work, tryggd, source, info, servers, token, problems):
    """The real state_dir, its -wal checkpointed into tryggd.db, and what it held."""
    state = os.path.join(work, "state-real")
    config = os.path.join(work, "real.conf")
    write_config(config, state, source, info, f"damage-{token}", f"http://127.0.0.1:{servers.free_port()}",
                 "2026-11-02T07:00:00Z", "2026-11-02T08:00:00Z")
    status, err = run(tryggd, config)
    problems.expect(status == 75, "the real state_dir: exit 75 with the store unreachable", f"status {status}")
    db = sqlite3.connect(os.path.join(state, "tryggd.db"))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    points = db.execute("SELECT count(*) FROM spool").fetchone()[0]
    seq = db.execute("SELECT value FROM meta WHERE key = 'sequence'").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'spool'").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    print(f"prepared: {points} points in the spool, seq {seq}, {pages} pages of {page_size} bytes, spool root {root}")
    return state, points, seq, root, pages, page_size


def damage(kind, real, target, root, pages, page_size):
    shutil.copytree(real, target)
    db = os.path.join(target, "tryggd.db")
    for side in ("-wal", "-shm"):
        if os.path.exists(db + side):
            os.unlink(db + side)
    if kind in ("garbage", "both"):
        with open(db, "wb") as f:
            f.write(random.Random(7).randbytes(16384))
    if kind == "both":
        with open(os.path.join(target, "mqtt-buffer.db"), "wb") as f:
            f.write(random.Random(8).randbytes(16384))
        for side in ("-wal", "-shm"):
            if os.path.exists(os.path.join(target, "mqtt-buffer.db" + side)):
                os.unlink(os.path.join(target, "mqtt-buffer.db" + side))
    if kind == "text":
        with open(db, "w") as f:
            f.write("this is not a database\n" * 200)
    if kind == "truncated":
        os.truncate(db, os.path.getsize(db) // 2)
    if kind == "root":
        overwrite_page(db, root, page_size)
    if kind == "page":
        overwrite_page(db, (root + pages) // 2, page_size)


def main(argv):
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    work = tempfile.mkdtemp(prefix="state_damaged-", dir=os.path.dirname(servers_dir))
    problems = Problems()
    token = os.urandom(4).hex()
    real, points, seq, root, pages, page_size = prepare(work, tryggd, source, info, servers, token, problems)
    for kind in ("garbage", "text", "truncated", "root", "page", "both"):
        print(kind)
        state = os.path.join(work, f"state-{kind}")
        damage(kind, real, state, root, pages, page_size)
        config = os.path.join(work, f"{kind}.conf")
        write_config(config, state, source, info, f"damage-{token}-{kind}", info["influx_url"],
                     "2026-11-02T08:00:00Z", "2026-11-02T08:10:00Z")
        status, err = run(tryggd, config)
        with open(os.path.join(work, f"{kind}.log"), "w") as f:
            f.write(err)
        lines = err.splitlines()
        problems.expect(status == 0, f"{kind}: exit 0", f"status {status}\n" + "\n".join(lines[-5:]))
        problems.expect(not any("cannot start" in line for line in lines), f"{kind}: no 'cannot start'")
        about = [line for line in lines if "tryggd.db" in line and "state:" in line]
        asides = [m for m in map(ASIDE.search, about) if m]
        problems.expect(len(about) == 1 and len(asides) == 1, f"{kind}: one warning about tryggd.db",
                        "\n".join(about) or "none")
        if not asides:
            continue
        path, why, aside = asides[0].groups()
        problems.expect(path == os.path.join(state, "tryggd.db"), f"{kind}: it names the file", path)
        problems.expect(os.path.basename(aside).startswith("tryggd.db.broken-") and os.path.exists(aside),
                        f"{kind}: what was set aside is there (tryggd.db.broken-TIMESTAMP)", aside)
        lost = LOST.search(about[0])
        problems.expect(lost is not None, f"{kind}: it says how many points were lost",
                        lost.group(1) if lost else about[0])
        if lost and lost.group(1).isdigit():
            problems.expect(int(lost.group(1)) <= points, f"{kind}: no more lost than the spool held",
                            f"{lost.group(1)} of {points}")
        now = query(os.path.join(state, "tryggd.db"), "SELECT value FROM meta WHERE key = 'sequence'")
        if kind == "both":
            problems.expect(any("restarts from 1" in line and "warning:" in line for line in lines),
                            "both: a warning says the sequence number restarts from 1")
            problems.expect(0 < now < seq, "both: seq restarts", f"{now}, {seq} before")
        else:
            problems.expect(now > seq, f"{kind}: seq goes on from what mqtt-buffer.db kept", f"{now}, {seq} before")
    return problems.verdict(work, "a damaged state database is set aside, said, and started afresh", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
