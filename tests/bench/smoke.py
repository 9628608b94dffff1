#!/usr/bin/env python3
"""The benchmarks' smoke test (ctest bench.smoke): every section of
bench.py at tiny sizes, and the table they print checked for its shape.

    smoke.py BUILD_DIR [bench.py arguments...]

Fails (exit 1, saying why) unless bench.py exits 0, each section it runs
reported its end ("bench: NAME: N s"), the table has at least one row per
section, and every row either has figures (a ratio or tryggd's figures) or
was skipped because a program is missing ("... not installed", "... not
found", "... missing").  A row skipped for any other reason, or a section
that failed ("FAILED: ..."), fails the test.  The figures themselves are
not judged: at these sizes they mean nothing.
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = re.compile(r"^benchmark\s*\| ratio\s*\| goal\s*\| met\s*\| tryggd\s*\| reference")
MISSING = re.compile(r"not installed|not found|missing", re.IGNORECASE)


def sections_run(argv):
    """The sections bench.py runs with these arguments."""
    sys.path.insert(0, HERE)
    import bench   # noqa: E402 (beside this file)
    for number, arg in enumerate(argv):
        if arg == "--only" and number + 1 < len(argv):
            return [s for s in argv[number + 1].split(",") if s]
        if arg.startswith("--only="):
            return [s for s in arg.split("=", 1)[1].split(",") if s]
    return list(bench.SECTIONS)


def table_rows(output):
    """[[cell, ...]] of the table bench.py printed last."""
    lines = output.splitlines()
    starts = [number for number, line in enumerate(lines) if HEADER.match(line)]
    if not starts:
        return None
    rows = []
    for line in lines[starts[-1] + 2:]:
        if not line.strip():
            break
        rows.append([cell.strip() for cell in line.split(" | ")])
    return rows


def problems_of(status, output, sections):
    problems = []
    if status != 0:
        problems.append(f"bench.py exited with status {status}")
    for name in sections:
        if not re.search(rf"^bench: {re.escape(name)}: \d+ s$", output, re.MULTILINE):
            problems.append(f"section {name} did not report its end")
    rows = table_rows(output)
    if rows is None:
        return problems + ["no table printed"]
    if len(rows) < len(sections):
        problems.append(f"{len(rows)} rows for {len(sections)} sections")
    for cells in rows:
        if len(cells) != 6:
            problems.append(f"a row not understood: {' | '.join(cells)}")
            continue
        name, ratio, _, met, figures, _ = cells
        if met == "skipped":
            if figures.startswith("FAILED") or not MISSING.search(figures):
                problems.append(f"{name}: {figures}")
        elif ratio == "-" and not figures:
            problems.append(f"{name}: no figures")
    return problems


def main(argv):
    if len(argv) < 2:
        sys.exit(f"usage: {argv[0]} BUILD_DIR [bench.py arguments...]")
    extra = argv[2:]
    started = time.monotonic()
    done = subprocess.run([sys.executable, os.path.join(HERE, "bench.py"), "--build", argv[1], "--quick", *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(done.stdout, end="")
    problems = problems_of(done.returncode, done.stdout, sections_run(extra))
    if problems:
        print(f"FAIL: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"OK: every section gave its rows in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
