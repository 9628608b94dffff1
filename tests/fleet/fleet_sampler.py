"""Every process of a fleet run watched from /proc (tests/fleet/fleet.py):
CPU seconds and memory (Rss, Private_Dirty) of each gateway, each server
(a whole RabbitMQ node's tree) and each client, sampled every second, and
marks taken at the run's moments.

Python 3.11 standard library only.
"""

import threading
import time

import fleet_parts  # noqa: F401 (puts the shared test helpers on sys.path)
import benchlib  # noqa: E402


def read_cpu_s(pid):
    """User + system CPU seconds of a process so far, or None once gone."""
    try:
        user, system = benchlib.cpu_seconds(pid)
        return user + system
    except (OSError, IndexError, ValueError):
        return None


def read_memory_kib(pid):
    """(Rss, Private_Dirty) in KiB, or None once gone (or a zombie)."""
    try:
        fields = benchlib.smaps_rollup(pid)
    except (OSError, ValueError):
        return None
    if "Rss" not in fields:
        return None
    return fields["Rss"], fields.get("Private_Dirty", 0)


def machine_cpu():
    """(busy, total) jiffies of all cores from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


class Sampler(threading.Thread):
    """Every interval_s, each watched thing's processes (a function giving
    their pids: one for a gateway, a whole tree for a RabbitMQ node): CPU
    seconds (the last reading of each pid, so a process that dies keeps
    what it used) and memory (Rss and Private_Dirty summed over its pids),
    kept as time series.  mark(name) takes a fresh reading of everything
    and keeps it under name, with the time and the machine's CPU."""

    def __init__(self, interval_s=1.0):
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.watched = {}       # key -> pids function
        self.cpu = {}           # key -> {pid: cpu s}
        self.memory = {}        # key -> [(monotonic, rss KiB, dirty KiB)]
        self.marks = {}         # name -> {"t": monotonic, "machine": (busy, total), "cpu": {key: s}}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def watch(self, key, pids):
        with self.lock:
            self.watched[key] = pids
            self.cpu.setdefault(key, {})
            self.memory.setdefault(key, [])

    def _sample(self, memory=True):
        now = time.monotonic()
        with self.lock:
            watched = list(self.watched.items())
        for key, pids_of in watched:
            try:
                pids = list(pids_of())
            except Exception:  # noqa: BLE001 (a thing being torn down)
                pids = []
            rss = dirty = 0
            seen = False
            for pid in pids:
                cpu = read_cpu_s(pid)
                if cpu is not None:
                    with self.lock:
                        self.cpu[key][pid] = cpu
                if memory:
                    mem = read_memory_kib(pid)
                    if mem is not None:
                        rss += mem[0]
                        dirty += mem[1]
                        seen = True
            if memory and seen:
                with self.lock:
                    self.memory[key].append((now, rss, dirty))
        return now

    def run(self):
        while not self.stopping.wait(self.interval_s):
            self._sample()

    def stop(self):
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=30)

    def cpu_of(self, key):
        with self.lock:
            return sum(self.cpu.get(key, {}).values())

    def mark(self, name, memory=False):
        now = self._sample(memory=memory)
        with self.lock:
            keys = list(self.cpu)
        self.marks[name] = {"t": now, "wall": time.time(), "machine": machine_cpu(),
                            "cpu": {key: self.cpu_of(key) for key in keys}}
        return self.marks[name]

    def between(self, key, first, last):
        """CPU seconds of key between two marks."""
        return self.marks[last]["cpu"].get(key, 0.0) - self.marks[first]["cpu"].get(key, 0.0)

    def memory_at(self, mark):
        """{key: Rss KiB} of the last sample at or before a mark."""
        t = self.marks[mark]["t"]
        with self.lock:
            return {key: next((s[1] for s in reversed(samples) if s[0] <= t), None)
                    for key, samples in self.memory.items()}

    def memory_between(self, key, first=None, last=None):
        """(steady Rss, steady dirty, peak Rss, peak dirty) in KiB over the
        samples between two marks (all samples without marks): steady is
        the median of the later half of them.  None without samples."""
        t0 = self.marks[first]["t"] if first else float("-inf")
        t1 = self.marks[last]["t"] if last else float("inf")
        with self.lock:
            samples = [s for s in self.memory.get(key, []) if t0 <= s[0] <= t1]
        if not samples:
            return None
        tail = samples[len(samples) // 2:]
        return (benchlib.median([s[1] for s in tail]), benchlib.median([s[2] for s in tail]),
                max(s[1] for s in samples), max(s[2] for s in samples))
