"""What the benchmark sections share: a private mosquitto of their own,
tryggd's config, a child process measured (CPU time from wait4, memory
from /proc), and /proc readings of a running process.  Python 3.11
standard library only; the servers come from scripts/lib/servers.py."""

import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import capture  # noqa: E402
import servers  # noqa: E402

# A day that the simulated clock starts at, in every section.
START = "2026-11-02T00:00:00Z"


class Mosquitto(servers._Private):
    """A broker of a section's own on a free port: nobody else's messages
    share its CPU, and it can be stopped between runs."""

    name = "mosquitto"

    def _argv(self):
        conf = servers._write_mosquitto_conf(self.directory, self.port)
        return [servers.find_program("mosquitto"), "-c", conf]

    def _answers(self):
        return servers._tcp_accepts(self.port) and servers._mqtt_roundtrip(self.port)

    @property
    def uri(self):
        return f"tcp://127.0.0.1:{self.port}"


def write_config(path, sections, comment="Written by tests/bench"):
    capture.write_config(path, sections, comment)


def sim_sensors(sensors):
    return capture.sim_sensors(sensors)


def tryggd_env():
    """Log lines as on a terminal, no debug lines."""
    return {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "TRYGGD_DEBUG")}


class Measured:
    """A child process, run to its end: wall time and its CPU time (user,
    system, from wait4: the child alone, its threads included).  Not its
    peak RSS: wait4's ru_maxrss counts the Python parent's pages from
    before the exec (about 22 MiB even for /bin/true); peak_rss_kib()
    reads VmHWM while it runs."""

    def __init__(self, argv, log_path, env=None, cwd=None):
        self.argv = argv
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        self.pid = self.proc.pid
        self.wall_s = self.user_s = self.system_s = None
        self.status = None

    def wait(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                pid, status, usage = os.wait4(self.pid, 0)
                self._record(status, usage)
                raise TimeoutError(f"{self.argv[0]} ran longer than {timeout_s:.0f} s; {self.log_path}")
            time.sleep(0.005)
        self._record(status, usage)
        # Popen must not wait for it again.
        self.proc.returncode = self.status
        return self.status

    def _record(self, status, usage):
        self.wall_s = time.monotonic() - self.started
        self.user_s, self.system_s = usage.ru_utime, usage.ru_stime
        self.status = os.waitstatus_to_exitcode(status)

    def terminate(self, timeout_s=30):
        if self.status is None:
            self.proc.terminate()
            return self.wait(timeout_s)
        return self.status


def smaps_rollup(pid):
    """{field: KiB} from /proc/PID/smaps_rollup (Rss, Private_Dirty, ...)."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    return fields


def thread_switches(pid):
    """{tid: (name, voluntary + involuntary context switches)} of a running
    process: a thread that sleeps and wakes is switched out once per
    wake-up, so the difference of two readings counts its wake-ups."""
    threads = {}
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            with open(f"{base}/{tid}/status", encoding="utf-8") as f:
                status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue   # the thread ended meanwhile
        switches = int(status.get("voluntary_ctxt_switches", 0)) + int(status.get("nonvoluntary_ctxt_switches", 0))
        threads[int(tid)] = (status.get("Name", "?").strip(), switches)
    return threads


def cpu_seconds(pid):
    """User and system CPU seconds of a running process so far (all its
    threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def self_rusage_children():
    return resource.getrusage(resource.RUSAGE_CHILDREN)


def mib(kib):
    return kib / 1024


def fmt_rate(n, seconds):
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "-"


# ---------------------------------------------------------------- added for publish, cpu, idle, scale

def wait_for_log(path, needle, timeout_s, proc=None):
    """Wait until the text needle appears in the log file path; False when
    timeout_s passed first or proc (a Popen) exited meanwhile."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                if needle in f.read():
                    return True
        except FileNotFoundError:
            pass
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def log_tail(path, lines=15):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


class Subscriber:
    """mosquitto_sub on a topic filter at QoS 1, each message written to a
    file as `topic<TAB>payload` as it arrives (bench-publisher's input).
    Markers on a topic of its own say when it is subscribed (start) and
    when it has everything published before (drain): a broker hands one
    subscriber its messages in the order they came.  Use with `with`."""

    MARKER = "_bench/marker"

    def __init__(self, broker, topic_filter, path):
        self.broker, self.path = broker, path
        self.port = broker.port
        with open(path, "wb") as out:
            self.proc = subprocess.Popen(
                [servers.find_program("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(self.port), "-q", "1",
                 "-i", f"bench-sub-{os.getpid()}", "-t", topic_filter, "-t", self.MARKER, "-F", r"%t\t%p"],
                stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            self._marker("start")
        except BaseException:
            self.close()
            raise

    def _marker(self, word, timeout_s=15):
        needle = f"{self.MARKER}\t{word}\n".encode()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto_sub exited with status {self.proc.returncode}")
            subprocess.run([servers.find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(self.port),
                            "-q", "1", "-t", self.MARKER, "-m", word], check=True, capture_output=True, timeout=10)
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                with open(self.path, "rb") as f:
                    if needle in f.read():
                        return
                time.sleep(0.02)
        raise RuntimeError(f"the {word} marker did not come through the broker within {timeout_s} s")

    def drain(self, timeout_s=30):
        """Returns once everything published before the call was written."""
        self._marker("drained", timeout_s)

    def messages_to(self, path):
        """Writes the messages (markers left out) to path; their count."""
        count = 0
        with open(self.path, "rb") as f, open(path, "wb") as out:
            for line in f:
                if not line.startswith(self.MARKER.encode() + b"\t"):
                    out.write(line)
                    count += 1
        return count

    def close(self):
        capture.stop_process(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def callgrind_self_cost(path):
    """{ELF object: instructions} from a callgrind output file: the self
    cost of every function, summed per object (`ob=`), calls' inclusive
    costs left out.  The first event is taken (Ir by default)."""
    names, costs = {}, {}
    current, skip_next, position_fields = "?", False, 1

    def name_of(value):
        # Compressed names: "(id) name" the first time, "(id)" after.
        if value.startswith("("):
            key, _, rest = value.partition(")")
            rest = rest.strip()
            if rest:
                names[key] = rest
            return names.get(key, rest or key)
        return value

    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            first = line[:1]
            if first.isdigit() or first in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                fields = line.split()
                if len(fields) > position_fields:
                    costs[current] = costs.get(current, 0) + int(fields[position_fields])
            elif line.startswith("ob="):
                current = name_of(line[3:].strip())
            elif line.startswith("calls="):
                skip_next = True
            elif line.startswith("cob="):
                # An object first named as a callee: a later "ob=(id)"
                # refers to it.
                name_of(line[4:].strip())
            elif line.startswith("positions:"):
                position_fields = len(line.split()) - 1
    return costs


# ---------------------------------------------------------------- added for store, footprint, week

def read_config(path):
    """{section: {key: value}} of a tryggd config (full-line comments only,
    as tryggd's own files have them): scripts/lib/demo_alerts.py's reader."""
    import demo_alerts   # noqa: E402 (scripts/lib, on the path above)
    sections = {}
    for name, keys in demo_alerts.ini(path):
        sections.setdefault(name, {}).update(keys)
    return sections


def copy_config(src, dst, values):
    """Copy a tryggd config, giving the keys in values {(section, key):
    value} their new value in place; every other line stays as written (a
    copy of a demo config differs only where it must).  A key the file
    lacks is a ValueError: the copy would not mean what was asked."""
    out, section, done = [], None, set()
    with open(src, encoding="utf-8") as f:
        for raw in f:
            stripped = raw.strip()
            if stripped.startswith("["):
                section = stripped[1:stripped.index("]")].strip()
            elif stripped and stripped[0] not in "#;" and "=" in stripped:
                key = stripped.split("=", 1)[0].strip()
                if (section, key) in values:
                    raw = f"{raw[:len(raw) - len(raw.lstrip())]}{key} = {values[(section, key)]}\n"
                    done.add((section, key))
            out.append(raw if raw.endswith("\n") else raw + "\n")
    lacking = sorted(f"[{s}] {k}" for s, k in set(values) - done)
    if lacking:
        raise ValueError(f"{src}: no {', '.join(lacking)} line to change")
    with open(dst, "w", encoding="utf-8") as f:
        f.writelines(out)


def median(values):
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def wait_all(runs, timeout_s):
    """Wait for every Measured in runs, reaping each as it ends (so each
    wall_s is its own, not the time its turn to be waited for came); kill
    those left at timeout_s and raise TimeoutError."""
    deadline = time.monotonic() + timeout_s
    left = [r for r in runs if r.status is None]
    while left:
        for r in list(left):
            pid, status, usage = os.wait4(r.pid, os.WNOHANG)
            if pid == r.pid:
                r._record(status, usage)
                r.proc.returncode = r.status
                left.remove(r)
        if left and time.monotonic() > deadline:
            for r in left:
                r.proc.kill()
                _, status, usage = os.wait4(r.pid, 0)
                r._record(status, usage)
                r.proc.returncode = r.status
            raise TimeoutError(f"{', '.join(r.argv[0] for r in left)} ran longer than {timeout_s:.0f} s")
        time.sleep(0.005)


def peak_rss_kib(pid):
    """VmHWM of a running process, KiB: its peak RSS since its exec (wait4's
    ru_maxrss also counts the Python parent's RSS at the fork, some 20 MiB,
    and so cannot show a small child's peak)."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
