#!/usr/bin/env python3
"""The sanitizers' reports of a -DTRYGGD_SANITIZE=ON build's tests.

    reports.py clear DIR   remove DIR and what it holds (the fixture's setup)
    reports.py check DIR   print every report in DIR; exit 1 if there is one

The tests whose programs tryggd and tryggctl are started by a Python test
(integration, bench) run with log_path=DIR/TEST in ASAN_OPTIONS and
UBSAN_OPTIONS, so a sanitizer writes each report to DIR/TEST.PID instead of
a stderr that the test may have captured and not shown.  Such a finding
also ends the program with exit status 86, which fails nearly every test by
itself; `check`, run after the last of them (CTest fixture
sanitizer_reports), fails the run for the ones whose test did not look at
that status (a tryggd killed at the end, a tryggctl whose output only was
read) and names the test in each file's name.
"""

import os
import shutil
import sys


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("clear", "check"):
        sys.exit(__doc__)
    command, folder = sys.argv[1:]
    if command == "clear":
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        return 0
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    for name in names:
        with open(os.path.join(folder, name), errors="replace") as f:
            text = f.read()
        print(f"==== {name} (test {name.rsplit('.', 1)[0]}) ====\n{text}")
    if names:
        print(f"FAIL: {len(names)} sanitizer report(s) in {folder}")
        return 1
    print(f"no sanitizer report in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
