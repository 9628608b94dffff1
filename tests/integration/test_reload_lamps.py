#!/usr/bin/env python3
"""SIGHUP when a lamp changes: its light sensor is opened again too.

    test_reload_lamps.py TRYGGD SOURCE_DIR WORK_PARENT

A sim light sensor reads the light of the sim lamps paired with it (their
`light =`), from the lamps' own sections (driver_env.paired), so a reload
that adds, removes or changes such a lamp must reopen the light sensor
even when its own section did not change.  A simulated 40 minutes at speed
120 (20 s), no broker and no store, three sim sensors: ljus (light), lampa
(lamp, light = ljus) and passage (footfall).  SIGHUP after

  1. lampa's seed changed: lampa and ljus changed, passage kept;
  2. a second lamp lampb added: lampb added, ljus changed, the rest kept;
  3. the same file again: all four kept;
  4. lampa removed: lampa removed, ljus changed, the rest kept;
  5. passage's interval changed: passage changed only (a footfall
     sensor has no lamps).

Checked from tryggd's log: each reload's tally, "new settings taken" for
ljus exactly three times, and exit status 0.  Exit 0 when all hold, 1 with
the list of what did not.  Python 3.11 standard library only.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import capture  # noqa: E402
from capture import Problems  # noqa: E402

START = "2026-11-02T15:00:00Z"
END = "2026-11-02T15:40:00Z"
SPEED = 120
PAUSE_S = 2.5
RELOADED = re.compile(r"SIGHUP: configuration reloaded: (\d+) sensors kept, (\d+) changed, (\d+) added, "
                      r"(\d+) removed")


def write(path, work, source, sensors):
    capture.write_config(path, [
        ("gateway", ["id = lamps-01", "district = Årby", "window = 60", f"state_dir = {os.path.join(work, 'state')}"]),
        ("simulation", [f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}", f"start = {START}",
                        f"end = {END}", f"speed = {SPEED}", "drain_timeout = 5"]),
        *capture.sim_sensors(sensors),
    ], comment="Written by tests/integration/test_reload_lamps.py")


def main(argv):
    if len(argv) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    tryggd, source, parent = (os.path.abspath(a) for a in argv[1:])
    work = tempfile.mkdtemp(prefix="reload-lamps-", dir=parent)
    config = os.path.join(work, "tryggd.conf")
    light = ("light", {"interval": 5, "seed": 3})
    passage = ("footfall", {"interval": 5, "seed": 3})
    lamp = ("lamp", {"interval": 5, "light": "ljus", "seed": 3})
    lamp_4 = ("lamp", {"interval": 5, "light": "ljus", "seed": 4})
    lamp_b = ("lamp", {"interval": 5, "light": "ljus", "seed": 5})
    steps = [
        ({"ljus": light, "lampa": lamp_4, "passage": passage}, ("1", "2", "0", "0")),
        ({"ljus": light, "lampa": lamp_4, "lampb": lamp_b, "passage": passage}, ("2", "1", "1", "0")),
        ({"ljus": light, "lampa": lamp_4, "lampb": lamp_b, "passage": passage}, ("4", "0", "0", "0")),
        ({"ljus": light, "lampb": lamp_b, "passage": passage}, ("2", "1", "0", "1")),
        ({"ljus": light, "lampb": lamp_b, "passage": ("footfall", {"interval": 2, "seed": 3})},
         ("2", "1", "0", "0")),
    ]
    write(config, work, source, {"ljus": light, "lampa": lamp, "passage": passage})
    p = Problems()
    log_path = os.path.join(work, "tryggd.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            for sensors, _ in steps:
                time.sleep(PAUSE_S)
                temporary = config + ".new"
                write(temporary, work, source, sensors)
                os.replace(temporary, config)
                proc.send_signal(signal.SIGHUP)
            try:
                status = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                status = None
        finally:
            if proc.poll() is None:
                proc.kill()
    with open(log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    p.expect(status == 0, "tryggd exits 0", f"status {status}; {text[-1500:]}")
    reloaded = RELOADED.findall(text)
    print(f"reloads applied (kept, changed, added, removed): {reloaded}")
    expected = [tally for _, tally in steps]
    p.expect(reloaded == expected, "each reload reopened the light sensor exactly when its lamps changed",
             f"expected {expected}")
    taken = text.count("sensor ljus: new settings taken")
    p.expect(taken == 3, "ljus took new settings three times (its lamps changed, one was added, one removed)",
             str(taken))
    p.expect("cannot" not in text, "nothing failed to open", text[-1500:])
    return p.verdict(work, "a lamp that changed reopened its light sensor", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
