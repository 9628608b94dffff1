#!/usr/bin/env python3
"""tryggd run from its build tree finds the checkout's district profiles,
without an install and without a profiles key.

    test_build_tree.py TRYGGD SOURCE_DIR WORK_PARENT

CMakeLists.txt links BUILD/seeds to the checkout's seeds/, next to tryggd
(gateway/build_tree.h).  In a temporary folder, with a configuration that
has a sim sensor and no profiles key, run from that folder as
`BUILD/tryggd -c my.conf`:

  1. --check, without [simulation] and with one that has no profiles key:
     the summary names SOURCE_DIR/seeds/districts.ini;
  2. a real-time run of a few seconds: the sensor opens and reads, SIGTERM
     stops it with exit 0;
  3. a simulated 10 minutes at full speed: every window, exit 0;
  4. the same program copied out of the build tree: --check names the
     installed /usr/share/tryggd/seeds/districts.ini, never the checkout.

Exit 0 when all hold, 1 with the list of what did not.  Python 3.11
standard library only.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import capture  # noqa: E402
from capture import Problems  # noqa: E402

INSTALLED = "/usr/share/tryggd/seeds/districts.ini"
STOPPED = re.compile(r"stopped: (\d+) readings, (\d+) windows")
REAL_TIME_S = 3.5
TIMEOUT_S = 60


def write(path, work, simulation):
    capture.write_config(path, [
        ("gateway", ["id = bench-01", "district = Årby", "window = 1", f"state_dir = {os.path.join(work, 'state')}"]),
        *([("simulation", simulation)] if simulation is not None else []),
        *capture.sim_sensors({"door": ("footfall", {"interval": 1})}),
    ], comment="Written by tests/integration/test_build_tree.py: no profiles key")


def summary_profiles(tryggd, work, name):
    """(exit status, the profiles line of --check, output)."""
    run = subprocess.run([tryggd, "-c", name, "--check"], cwd=work, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=TIMEOUT_S)
    line = next((line.split(None, 1)[1] for line in run.stdout.splitlines()
                 if line.startswith("profiles ")), None)
    return run.returncode, line, run.stdout + run.stderr


def tryggd_env():
    return {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "TRYGGD_DEBUG")}


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR WORK_PARENT")
    tryggd, source, parent = (os.path.abspath(a) for a in argv[1:])
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="build-tree-", dir=parent)
    checkout_profiles = os.path.realpath(os.path.join(source, "seeds", "districts.ini"))
    p = Problems()

    print("1. --check from the build tree")
    write(os.path.join(work, "real.conf"), work, None)
    write(os.path.join(work, "simulated.conf"), work,
          ["start = 2026-11-02T06:00:00Z", "end = 2026-11-02T06:10:00Z", "speed = 0", "drain_timeout = 2"])
    for name in ("real.conf", "simulated.conf"):
        code, profiles, output = summary_profiles(tryggd, work, name)
        p.expect(code == 0 and profiles == checkout_profiles,
                 f"{name}: --check names the checkout's {checkout_profiles}", f"exit {code}, {profiles}\n{output}")

    print("2. a real-time run of a few seconds")
    log_path = os.path.join(work, "real.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([tryggd, "-c", "real.conf"], cwd=work, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=tryggd_env())
        time.sleep(REAL_TIME_S)
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            capture.stop_process(proc)
            code = None
    with open(log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    stopped = STOPPED.search(text)
    readings = int(stopped.group(1)) if stopped else 0
    p.expect(code == 0, "SIGTERM: exit 0", f"exit {code}\n{text}")
    p.expect("cannot open" not in text and "alert failed" not in text, "the sim sensor opened", text)
    p.expect(readings >= 2, f"it read ({readings} readings in {REAL_TIME_S} s)", text)

    print("3. a simulated 10 minutes")
    log_path = os.path.join(work, "simulated.log")
    with open(log_path, "wb") as log:
        code = subprocess.run([tryggd, "-c", "simulated.conf"], cwd=work, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, env=tryggd_env(), timeout=TIMEOUT_S).returncode
    with open(log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    stopped = STOPPED.search(text)
    p.expect(code == 0 and "cannot open" not in text, "exit 0, the sim sensor opened", f"exit {code}\n{text}")
    p.expect(stopped is not None and int(stopped.group(1)) == 600 and int(stopped.group(2)) == 600,
             "600 readings in 600 windows of 1 s", stopped.group(0) if stopped else text)

    print("4. the program copied out of the build tree")
    copy = os.path.join(work, "bin", "tryggd")
    os.makedirs(os.path.dirname(copy))
    shutil.copy2(tryggd, copy)
    code, profiles, output = summary_profiles(copy, work, "real.conf")
    p.expect(code == 0 and profiles == INSTALLED, f"--check names the installed {INSTALLED}",
             f"exit {code}, {profiles}\n{output}")
    return p.verdict(work, "a run from the build tree takes the checkout's profiles; a copy elsewhere the installed "
                     "ones", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
