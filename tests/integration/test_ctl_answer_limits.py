#!/usr/bin/env python3
"""tryggctl's bounds on the store's answers to its queries: `tryggctl
setup-influx` and `tryggctl report` against a scripted store
(fake_store.py) that answers /query with more than they read.

    test_ctl_answer_limits.py TRYGGD SOURCE_DIR WORK_DIR

tryggctl is the binary next to TRYGGD.  No server of the fixture is used.

  1. setup-influx: an answer of 5 MiB, over its bound of 4 MiB (a
     statement's answer is a few hundred bytes): exit 69, the bound named,
     nothing else asked.
  2. report: an answer of 1 MiB compressed with gzip that unpacks to
     1 GiB, as a hostile store could send, over its bound of 256 MiB (after
     decompression): exit 69, "more than 256 MiB", and tryggctl's peak
     memory under 320 MiB: it stopped reading at the bound (not checked
     under AddressSanitizer, whose quarantine keeps what was freed).
  3. report: a store that takes longer to answer than --timeout: exit 69,
     "timed out", within a few seconds of the timeout.

Exit 0 when everything holds, 1 with the list of what did not; the working
directory is kept on failure and printed.
"""

import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402

# Beside this file.
from capture import Problems  # noqa: E402
from fake_store import INFLUX_VERSION, Answer, FakeStore, slow  # noqa: E402

EX_UNAVAILABLE = 69
RUN_TIMEOUT_S = 60
SETUP_MAX = 4 << 20        # SETUP_ANSWER_SIZE_MAX (setup_influx_internal.h)
REPORT_MAX = 256 << 20     # ANSWER_SIZE_MAX (report_query.c)
BOMB = 1 << 30             # what the gzip answer unpacks to
PEAK_MAX = 320 << 20       # REPORT_MAX and tryggctl itself


def gzip_of_blanks(size):
    """A gzip stream of size blanks, made a MiB at a time (deflate packs
    them about a thousand to one)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + 15)
    chunk = b" " * (1 << 20)
    parts = [packer.compress(chunk) for _ in range(size // len(chunk))]
    parts.append(packer.flush())
    return b"".join(parts)


def query_answer(body, headers=None):
    """A rule: /query answered 200 with body; the rest 404."""
    answer = Answer(200, {"Content-Type": "application/json", "X-Influxdb-Version": INFLUX_VERSION,
                          **(headers or {})}, body, store=[])

    def rule(request):
        return answer if request.path == "/query" else Answer(404, store=[])
    return rule


def run(tryggctl, args):
    """(exit status, stderr, peak memory in bytes) of tryggctl ARGS."""
    with tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen([tryggctl, *args], stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        deadline = started + RUN_TIMEOUT_S
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", errors="replace")
    elapsed = time.monotonic() - started
    peak = usage.ru_maxrss * 1024
    print(f"  $ tryggctl {' '.join(args)}  -> {proc.returncode} in {elapsed:.1f} s, peak {peak >> 20} MiB")
    for line in text.splitlines():
        print(f"    {line}")
    return proc.returncode, text, peak, elapsed


def setup_influx(p, tryggctl):
    print(f"1. setup-influx, an answer of {(SETUP_MAX + (1 << 20)) >> 20} MiB")
    with FakeStore(query_answer(b" " * (SETUP_MAX + (1 << 20)))) as store:
        status, err, _, _ = run(tryggctl, ["setup-influx", "--url", store.url, "--database", "limits"])
        queries = [r for r in store.requests if r.path == "/query"]
    p.expect(status == EX_UNAVAILABLE, f"exit {EX_UNAVAILABLE}", f"{status}")
    p.expect(f"answered with more than {SETUP_MAX} bytes" in err, "the bound is named", err.strip())
    p.expect(len(queries) == 1, "nothing more is asked", f"{len(queries)} queries")


def report_bomb(p, tryggctl, work):
    body = gzip_of_blanks(BOMB)
    print(f"2. report, an answer of {len(body) >> 20} MiB gzip that unpacks to {BOMB >> 30} GiB")
    with FakeStore(query_answer(body, {"Content-Encoding": "gzip"})) as store:
        status, err, peak, _ = run(tryggctl, ["report", "--influx", store.url, "--db", "trygghet",
                                              "--since", "2026-11-02", "--until", "2026-11-03",
                                              "-o", os.path.join(work, "report.html")])
        asked = [r for r in store.requests if r.path == "/query"]
    p.expect(any("gzip" in (r.header("Accept-Encoding") or "") for r in asked), "report asks for gzip",
             f"{[r.header('Accept-Encoding') for r in asked]}")
    p.expect(status == EX_UNAVAILABLE, f"exit {EX_UNAVAILABLE}", f"{status}")
    p.expect(f"answered with more than {REPORT_MAX >> 20} MiB" in err, "the bound is named", err.strip())
    if "ASAN_OPTIONS" in os.environ:
        # AddressSanitizer keeps freed blocks in quarantine, and its own
        # shadow: the peak is not tryggctl's (tests/sanitizers).
        print("  (peak memory not checked under AddressSanitizer)")
    else:
        p.expect(peak < PEAK_MAX, f"tryggctl's peak memory under {PEAK_MAX >> 20} MiB: it stops at the bound",
                 f"{peak >> 20} MiB")
    p.expect(not os.path.exists(os.path.join(work, "report.html")), "no report is written")


def report_timeout(p, tryggctl, work):
    print("3. report, a store slower than --timeout 2")
    with FakeStore(slow(6, query_answer(b'{"results":[{"statement_id":0}]}\n'))) as store:
        status, err, _, elapsed = run(tryggctl, ["report", "--influx", store.url, "--db", "trygghet",
                                                 "--since", "2026-11-02", "--until", "2026-11-03", "--timeout", "2",
                                                 "-o", os.path.join(work, "slow.html")])
    p.expect(status == EX_UNAVAILABLE, f"exit {EX_UNAVAILABLE}", f"{status}")
    p.expect("timed out" in err, "it says the store timed out", err.strip())
    p.expect(elapsed < 5, "it gives up at the timeout, not when the store answers", f"{elapsed:.1f} s")


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR WORK_DIR")
    tryggctl = os.path.join(os.path.dirname(os.path.abspath(argv[1])), "tryggctl")
    os.makedirs(argv[3], exist_ok=True)
    work = tempfile.mkdtemp(prefix="ctl_answer_limits-", dir=argv[3])
    p = Problems()
    setup_influx(p, tryggctl)
    report_bomb(p, tryggctl, work)
    report_timeout(p, tryggctl, work)
    return p.verdict(work, "tryggctl reads no more of an answer than its bound, and no longer than its timeout",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
