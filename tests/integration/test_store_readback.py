#!/usr/bin/env python3
"""A 204 is not proof: tryggd reads a sample of every batch back from
VictoriaMetrics, end to end.

    test_store_readback.py TRYGGD SOURCE_DIR SERVERS_DIR

A private VictoriaMetrics with a retention of one month (servers.py
start_victoria).  VictoriaMetrics answers 204 to a point older than its
retention and drops it (measured, 1.79):

  1. Windows of 60 days ago: every write is answered 204, nothing is kept;
     tryggd's read-back finds every sampled point missing, says so per point
     and in its summary, and the exit status is still 0 (the points were
     delivered as far as HTTP can tell; the loss is reported, not hidden).
  2. Windows of yesterday: every sampled point is found, none missing.

Exit 0 when all hold, 1 with the list of what did not.
"""

import os
import re
import subprocess
import sys
import time
import uuid

import capture
from capture import Problems

SUMMARY = re.compile(r"store: (\d+) sampled points read back: (\d+) found, (\d+) missing")
NOT_KEPT = "the store acknowledged a point it did not keep"
RUN_TIMEOUT_S = 90


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def run(tryggd, source, work, name, url, start_s):
    """One simulated half hour at full speed against url; (exit, log text)."""
    config = os.path.join(work, f"{name}.conf")
    capture.write_config(config, [
        ("gateway", [f"id = readback-{name}-{uuid.uuid4().hex[:6]}", "district = Årby", "window = 60",
                     f"state_dir = {os.path.join(work, name)}"]),
        ("simulation", [f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}",
                        f"start = {iso(start_s)}", f"end = {iso(start_s + 1800)}", "speed = 0",
                        "drain_timeout = 60"]),
        ("influx", [f"url = {url}", "api = victoriametrics"]),
        *capture.sim_sensors(capture.SKY_AND_DOOR),
    ], comment="Written by tests/integration/test_store_readback.py")
    log_path = os.path.join(work, f"{name}.log")
    with open(log_path, "w") as log:
        code = subprocess.run([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT_S).returncode
    with open(log_path, encoding="utf-8") as f:
        return code, f.read()


def main(argv):
    # Its own store; the fixture's servers are not needed.
    tryggd, source, servers_dir = (os.path.abspath(a) for a in argv[1:4])
    sys.path.insert(0, os.path.join(source, "scripts", "lib"))
    sys.dont_write_bytecode = True
    import servers  # noqa: E402 (the path comes from the arguments)
    work = os.path.join(os.path.dirname(servers_dir), f"store-readback-{uuid.uuid4().hex[:10]}")
    os.makedirs(work)
    p = Problems()
    hour = 3600
    now = int(time.time()) // hour * hour
    with servers.start_victoria(os.path.join(work, "victoria"), retention="1") as victoria:
        code, log = run(tryggd, source, work, "old", victoria.url, now - 60 * 86400)
        summary = SUMMARY.findall(log)
        print(f"60 days ago: exit {code}; {summary[-1] if summary else 'no summary'}")
        p.expect(code == 0, "60 days ago: exit 0", f"exit {code}")
        if p.expect(len(summary) == 1, "60 days ago: one read-back summary", log[-2000:]):
            sampled, found, missing = (int(x) for x in summary[0])
            p.expect(sampled > 0 and found == 0 and missing == sampled,
                     "60 days ago: every sampled point missing", str(summary[0]))
            p.expect(log.count(NOT_KEPT) == missing, "60 days ago: one warning per missing point",
                     f"{log.count(NOT_KEPT)} warnings, {missing} missing")

        code, log = run(tryggd, source, work, "recent", victoria.url, now - 86400)
        summary = SUMMARY.findall(log)
        print(f"yesterday:   exit {code}; {summary[-1] if summary else 'no summary'}")
        p.expect(code == 0, "yesterday: exit 0", f"exit {code}")
        if p.expect(len(summary) == 1, "yesterday: one read-back summary", log[-2000:]):
            sampled, found, missing = (int(x) for x in summary[0])
            p.expect(sampled > 0 and found == sampled and missing == 0,
                     "yesterday: every sampled point found", str(summary[0]))
            p.expect(NOT_KEPT not in log, "yesterday: no point reported missing")
    return p.verdict(work, "read-back found what VictoriaMetrics kept and reported what it dropped",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
