#!/usr/bin/env python3
"""tryggd's benchmarks: one table, each row a ratio measured in one run
against a reference, with the absolute figures beside it.

    bench.py --build DIR [--quick] [--only NAME[,NAME...]] [--keep]

Each section is a module tests/bench/bench_NAME.py with

    TITLE = "..."
    def run(ctx) -> list[Row]

and ctx (Context below) gives the build folder, a private work folder that
goes away at the end (unless --keep), and quick: tiny sizes, for the smoke
test in scripts/test, where figures mean nothing and only the table's shape
is checked.  A section that cannot run here (a program missing) returns a
Row with skipped set; one that fails raises, and the table says so in its
row, and bench.py exits 1 after printing the rest.

Benchmarks print figures; they are not timed tests: a goal that is not met
is shown as such, not failed.  Python 3.11 standard library only.
"""

import argparse
import dataclasses
import importlib
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
sys.path.insert(0, HERE)

# In the order the table shows them.
SECTIONS = ["publish", "cpu", "store", "footprint", "idle", "scale", "week"]


@dataclasses.dataclass
class Row:
    name: str                 # what was measured, short
    ratio: float | None       # tryggd's figure over the reference's (or the reverse); goal says which way is good
    goal: str                 # e.g. ">= 0.9", "<= 1 MiB"; "" when none
    met: bool | None          # the goal met; None when there is no goal or no figure
    tryggd: str               # tryggd's absolute figures, short
    reference: str            # the reference's name and figures, short
    skipped: str = ""         # why it could not run here, or ""
    notes: list = dataclasses.field(default_factory=list)   # printed under the table


@dataclasses.dataclass
class Context:
    build: str                # the build folder: tryggd, tryggctl, bench-publisher
    work: str                 # a folder of this section's own, removed at the end unless --keep
    quick: bool
    root: str = ROOT

    def program(self, name):
        path = os.path.join(self.build, name)
        if not os.access(path, os.X_OK):
            raise FileNotFoundError(f"{path}: not built (scripts/build)")
        return path


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Linux {platform.release()}, "
            f"{platform.freedesktop_os_release().get('PRETTY_NAME', '?')}")


def format_ratio(row):
    return "-" if row.ratio is None else f"{row.ratio:.2f}"


def format_met(row):
    if row.skipped:
        return "skipped"
    if row.met is None:
        return ""
    return "yes" if row.met else "NO"


def print_table(rows, out=sys.stdout):
    headers = ["benchmark", "ratio", "goal", "met", "tryggd", "reference"]
    cells = [[r.name, format_ratio(r), r.goal, format_met(r), r.skipped or r.tryggd, r.reference] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = " | ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line, file=out)
    print("-+-".join("-" * w for w in widths), file=out)
    for c in cells:
        print(" | ".join(v.ljust(w) for v, w in zip(c, widths)), file=out)
    notes = [(r.name, n) for r in rows for n in r.notes]
    if notes:
        print(file=out)
        for name, note in notes:
            print(f"  {name}: {note}", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--quick", action="store_true", help="tiny sizes: the smoke test")
    parser.add_argument("--only", default="", help="comma-separated sections: " + ",".join(SECTIONS))
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sys.dont_write_bytecode = True

    chosen = [s for s in args.only.split(",") if s] or SECTIONS
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")

    work = tempfile.mkdtemp(prefix="tryggd-bench.")
    rows, failed = [], False
    print(f"bench: {machine()}", flush=True)
    print(f"bench: {'quick (smoke: sizes too small for the figures to mean anything)' if args.quick else 'full'}; "
          f"work folder {work}", flush=True)
    try:
        for name in chosen:
            module = importlib.import_module(f"bench_{name}")
            section_work = os.path.join(work, name)
            os.makedirs(section_work)
            ctx = Context(build=os.path.abspath(args.build), work=section_work, quick=args.quick)
            started = time.monotonic()
            print(f"bench: {name}: {module.TITLE} ...", flush=True)
            try:
                section_rows = module.run(ctx)
            except Exception as e:   # one section's failure does not hide the others
                traceback.print_exc()
                failed = True
                section_rows = [Row(name=name, ratio=None, goal="", met=None, tryggd="",
                                    reference="", skipped=f"FAILED: {e}")]
            print(f"bench: {name}: {time.monotonic() - started:.0f} s", flush=True)
            rows.extend(section_rows)
    finally:
        if args.keep:
            print(f"bench: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
