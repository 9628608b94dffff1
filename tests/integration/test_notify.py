#!/usr/bin/env python3
"""What tryggd tells systemd (sd_notify), read off a socket of our own.

    test_notify.py TRYGGD SOURCE_DIR WORK_PARENT

A unix datagram socket in a temporary folder stands for systemd's:
tryggd runs with NOTIFY_SOCKET naming it and WATCHDOG_USEC=400000, and
WATCHDOG_PID its own pid, as systemd sets them for a unit with
WatchdogSec=0.4.  A sim sensor on the real clock, window = 2, [influx] at
the scripted store (fake_store.py) and [mqtt] at a port where nothing
listens, so that no server is needed and STATUS= has something to say of
both.  Every datagram is recorded with the time it came.

  1. READY=1 once tryggd runs, then STATUS= naming the sensors, MQTT and
     the store, and again at window ends;
  2. SIGHUP: RELOADING=1, then READY=1 (and STATUS=);
  3. SIGTERM: STOPPING=1, and exit 0;
  4. WATCHDOG=1 all along (sd-event pings at between a quarter and three
     quarters of the interval): no gap of 400 ms or more from the first
     ping to the last, and at least one every 300 ms on average;
  5. WATCHDOG_PID of another process: no WATCHDOG=1 at all (the watchdog
     is that process's), but READY=1 still.

Exit 0 when all hold, 1 with the list of what did not.  Python 3.11
standard library only.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import capture  # noqa: E402
import fake_store  # noqa: E402
from capture import Problems  # noqa: E402
from mqtt_resilience import free_port  # noqa: E402

WATCHDOG_USEC = 400_000
WATCHDOG_S = WATCHDOG_USEC / 1e6
STATUS = re.compile(r"^STATUS=1 sensors; MQTT (connected|not connected), \d+ buffered; "
                    r"store (up|not answering), \d+ points spooled$")
RUN_S = 5.0          # from READY=1 to SIGHUP: two window ends at least
AFTER_RELOAD_S = 2.0
TIMEOUT_S = 30


class NotifySocket:
    """systemd's side: every line of every datagram, (monotonic time, text)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages = []
        self.lock = threading.Lock()
        self.closing = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.closing:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.monotonic()
            with self.lock:
                self.messages += [(now, line) for line in data.decode("utf-8", "replace").split("\n") if line]

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait_for(self, text, after, timeout_s):
        """The time text came after `after` (monotonic), or None."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [t for t, line in self.snapshot() if line == text and t >= after]
            if found:
                return found[0]
            time.sleep(0.02)
        return None

    def close(self):
        self.closing = True
        self.thread.join(timeout=2)
        self.sock.close()


def start(tryggd, config, notify_path, log_path, watchdog_pid=None):
    """tryggd with systemd's variables.  WATCHDOG_PID must name tryggd
    itself, which only the shell that becomes tryggd (exec) knows: $$."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("JOURNAL_STREAM", "TRYGGD_DEBUG", "WATCHDOG_PID", "CREDENTIALS_DIRECTORY")}
    env.update(NOTIFY_SOCKET=notify_path, WATCHDOG_USEC=str(WATCHDOG_USEC))
    pid = "$$" if watchdog_pid is None else str(watchdog_pid)
    log = open(log_path, "wb")
    try:
        return subprocess.Popen(["sh", "-c", f'WATCHDOG_PID={pid}; export WATCHDOG_PID; exec "$0" "$@"',
                                 tryggd, "-c", config],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    finally:
        log.close()


def wait_exit(proc):
    try:
        return proc.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        capture.stop_process(proc)
        return None


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def write_config(path, work, source, name, outputs):
    capture.write_config(path, [
        ("gateway", [f"id = notify-{name}", "district = Årby", "window = 2",
                     f"state_dir = {os.path.join(work, name)}",
                     "clock = trusted"]),   # real time on a machine that may not run NTP
        ("simulation", [f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}"]),
        *outputs,
        *capture.sim_sensors({"door": ("footfall", {"interval": 1})}),
    ], comment="Written by tests/integration/test_notify.py")


def check_watchdog(p, messages, started):
    pings = [t for t, line in messages if line == "WATCHDOG=1"]
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    span = pings[-1] - pings[0] if len(pings) > 1 else 0.0
    if gaps:
        print(f"  {len(pings)} pings over {span:.2f} s, the first {pings[0] - started:.3f} s after the start; "
              f"gaps {min(gaps) * 1000:.0f} to {max(gaps) * 1000:.0f} ms, "
              f"mean {sum(gaps) / len(gaps) * 1000:.0f} ms")
    p.expect(bool(gaps) and max(gaps) < WATCHDOG_S,
             f"WATCHDOG=1 never {WATCHDOG_S * 1000:.0f} ms or more apart",
             f"{sorted(gaps)[-5:]}" if gaps else "no pings")
    p.expect(len(pings) >= span / 0.3 and span > RUN_S,
             f"WATCHDOG=1 at least every 300 ms on average, over the whole run ({len(pings)} in {span:.1f} s)")


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR WORK_PARENT")
    tryggd, source, parent = (os.path.abspath(a) for a in argv[1:])
    os.makedirs(parent, exist_ok=True)
    # A socket's path must fit in 108 bytes.
    work = tempfile.mkdtemp(prefix="notify-", dir=parent if len(parent) < 70 else None)
    p = Problems()

    print("1-4. a run with the watchdog its own")
    notify = NotifySocket(os.path.join(work, "notify.sock"))
    config = os.path.join(work, "tryggd.conf")
    log_path = os.path.join(work, "tryggd.log")
    with fake_store.FakeStore() as store:
        write_config(config, work, source, "main", [("mqtt", [f"uri = tcp://127.0.0.1:{free_port()}"]),
                                                    ("influx", [f"url = {store.url}"])])
        started = time.monotonic()
        proc = start(tryggd, config, notify.path, log_path)
        try:
            ready = notify.wait_for("READY=1", started, 10)
            p.expect(ready is not None, "READY=1 after the start", read(log_path))
            time.sleep(RUN_S)
            hup = time.monotonic()
            proc.send_signal(signal.SIGHUP)
            reloaded = notify.wait_for("READY=1", hup, 10)
            time.sleep(AFTER_RELOAD_S)
            term = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            stopping = notify.wait_for("STOPPING=1", term, 10)
            code = wait_exit(proc)
        finally:
            capture.stop_process(proc)
    time.sleep(0.2)   # the last datagrams
    notify.close()
    messages = notify.snapshot()
    log = read(log_path)
    shown = "\n".join(f"    {t - started:7.3f}  {line}" for t, line in messages if line != "WATCHDOG=1")
    print(f"  what came, WATCHDOG=1 left out:\n{shown}")

    texts = [line for _, line in messages if line != "WATCHDOG=1"]
    before_hup = [line for t, line in messages if t < hup and line != "WATCHDOG=1"]
    after_hup = [line for t, line in messages if hup <= t < term and line != "WATCHDOG=1"]
    after_term = [line for t, line in messages if t >= term and line != "WATCHDOG=1"]
    statuses = [line for line in before_hup if line.startswith("STATUS=")]
    p.expect(before_hup[:1] == ["READY=1"] and before_hup.count("READY=1") == 1,
             "READY=1 first, once, before the reload", str(before_hup[:3]))
    p.expect(len(statuses) >= 3, f"STATUS= at the start and at window ends ({len(statuses)} in {RUN_S:.0f} s)",
             str(statuses))
    p.expect(bool(statuses) and all(STATUS.match(line) for line in statuses),
             "STATUS= names the sensors, MQTT (not connected) and the store", str(statuses[:2]))
    p.expect(any("MQTT not connected" in line for line in statuses) and any("store up" in line for line in statuses),
             "... as they are: MQTT not connected, the store up", str(statuses[-1:]))
    reload_order = [line for line in after_hup if line in ("RELOADING=1", "READY=1")]
    p.expect(reloaded is not None and reload_order == ["RELOADING=1", "READY=1"],
             "SIGHUP: RELOADING=1, then READY=1", str(after_hup))
    p.expect(any(line.startswith("STATUS=") for line in after_hup[after_hup.index("READY=1"):])
             if "READY=1" in after_hup else False, "... and STATUS= after it", str(after_hup))
    p.expect("SIGHUP: configuration reloaded" in log, "the reload is logged as applied", log[-1500:])
    p.expect(stopping is not None and after_term[:1] == ["STOPPING=1"], "SIGTERM: STOPPING=1", str(after_term))
    p.expect("READY=1" not in after_term, "no READY=1 once stopping", str(after_term))
    p.expect(code == 0, "exit 0", f"exit {code}\n{log[-1500:]}")
    p.expect(not any(line.startswith(("<", "ERRNO=", "BUSERROR=")) for line in texts),
             "nothing else: no error reported to systemd", str(texts))
    check_watchdog(p, messages, started)

    print("5. WATCHDOG_PID of another process")
    notify = NotifySocket(os.path.join(work, "other.sock"))
    config = os.path.join(work, "other.conf")
    log_path = os.path.join(work, "other.log")
    write_config(config, work, source, "other", [])
    started = time.monotonic()
    proc = start(tryggd, config, notify.path, log_path, watchdog_pid=os.getpid())
    try:
        ready = notify.wait_for("READY=1", started, 10)
        time.sleep(1.5)
        proc.send_signal(signal.SIGTERM)
        code = wait_exit(proc)
    finally:
        capture.stop_process(proc)
    time.sleep(0.2)
    notify.close()
    lines = [line for _, line in notify.snapshot()]
    p.expect(ready is not None and code == 0, "READY=1, exit 0", f"exit {code}\n{read(log_path)[-1000:]}")
    p.expect("WATCHDOG=1" not in lines and "STOPPING=1" in lines, "no WATCHDOG=1: it is not tryggd's watchdog",
             str(lines))
    return p.verdict(work, "READY, STATUS, RELOADING, STOPPING and the watchdog, as systemd expects them",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
