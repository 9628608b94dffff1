"""Helpers for Python tests that run inside the guest (tests/guest/run):
simulated GPIO chips and IIO devices, a broker on loopback, a tryggd run
with its MQTT messages captured, and the checks' bookkeeping.

gpio-sim and the IIO dummy are made through configfs, as lib.sh does for
the bash scripts; a line is driven by writing its pull, and the kernel then
delivers a real edge event stamped in its interrupt path.  The MQTT capture
is tests/integration/capture.py's, so a window is read here exactly as the
integration tests read it."""

import calendar
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import capture  # noqa: E402
import servers  # noqa: E402

GPIOSIM = "/sys/kernel/config/gpio-sim"
IIO_DUMMY = "/sys/kernel/config/iio/devices/dummy"
IIO_DEVICES = "/sys/bus/iio/devices"


def require_guest():
    if not os.environ.get("TRYGGD_GUEST"):
        sys.exit("not inside the guest: run with tests/guest/run -- python3 SCRIPT ...")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read().strip()


class Problems:
    """Every check that failed, reported together at the end."""

    def __init__(self):
        self.items = []
        self.checks = 0

    def check(self, what, expected, actual):
        self.checks += 1
        if expected == actual:
            print(f"ok: {what}: {actual!r}", flush=True)
        else:
            print(f"FAIL: {what}: expected {expected!r}, got {actual!r}", flush=True)
            self.items.append(what)

    def add(self, what, detail=""):
        # capture.read_messages reports through this.
        print(f"FAIL: {what} {detail}", flush=True)
        self.items.append(what)

    def finish(self, name):
        failed = len(self.items)
        print(f"{name}: {self.checks - failed if self.checks >= failed else 0} passed, {failed} failed",
              flush=True)
        return 1 if failed else 0


class GpioSim:
    """One gpio-sim chip with one bank; line K named names[K] ("" or None:
    unnamed).  Lines start pulled down (0)."""

    def __init__(self, label, lines, names=()):
        self.label = label
        self.dir = os.path.join(GPIOSIM, label)
        os.mkdir(self.dir)
        os.mkdir(os.path.join(self.dir, "bank0"))
        write(os.path.join(self.dir, "bank0", "num_lines"), str(lines))
        write(os.path.join(self.dir, "bank0", "label"), label)
        for offset, name in enumerate(names):
            if name:
                line = os.path.join(self.dir, "bank0", f"line{offset}")
                os.mkdir(line)
                write(os.path.join(line, "name"), name)
        write(os.path.join(self.dir, "live"), "1")
        self.chip = read(os.path.join(self.dir, "bank0", "chip_name"))
        self.dev = f"/dev/{self.chip}"
        self.sysfs = f"/sys/devices/platform/{read(os.path.join(self.dir, 'dev_name'))}/{self.chip}"
        # Kept open: a toggle is then one write(2), as fast as the guest can.
        self._pulls = [open(os.path.join(self.sysfs, f"sim_gpio{k}", "pull"), "w", buffering=1)
                       for k in range(lines)]

    def set(self, offset, value):
        """Pull the line up (1) or down (0); returns the CLOCK_REALTIME
        time just before the write, which the kernel stamps the edge at
        (within the write's own duration)."""
        t = time.time()
        f = self._pulls[offset]
        f.seek(0)
        f.write("pull-up" if value else "pull-down")
        f.flush()
        return t

    def value(self, offset):
        return int(read(os.path.join(self.sysfs, f"sim_gpio{offset}", "value")))

    def remove(self):
        for f in self._pulls:
            f.close()
        write(os.path.join(self.dir, "live"), "0")
        bank = os.path.join(self.dir, "bank0")
        for entry in os.listdir(bank):
            if entry.startswith("line"):
                os.rmdir(os.path.join(bank, entry))
        os.rmdir(bank)
        os.rmdir(self.dir)


class IioDummy:
    """The IIO dummy device: in_voltage0_raw is 73, with an offset and a
    scale the driver fixes; the `name` attribute is NAME."""

    def __init__(self, name):
        self.name = name
        os.mkdir(os.path.join(IIO_DUMMY, name))
        self.sysfs = self.find()

    def find(self):
        for entry in sorted(os.listdir(IIO_DEVICES)):
            path = os.path.join(IIO_DEVICES, entry)
            if read(os.path.join(path, "name")) == self.name:
                return path
        raise RuntimeError(f"IIO dummy {self.name} made, but no iio:device has that name")

    def voltage0(self):
        """(raw + offset) x scale, as the IIO ABI says."""
        raw = float(read(os.path.join(self.sysfs, "in_voltage0_raw")))
        offset = float(read(os.path.join(self.sysfs, "in_voltage0_offset")))
        scale = float(read(os.path.join(self.sysfs, "in_voltage0_scale")))
        return (raw + offset) * scale

    def remove(self):
        os.rmdir(os.path.join(IIO_DUMMY, self.name))

    def add_again(self):
        os.mkdir(os.path.join(IIO_DUMMY, self.name))
        self.sysfs = self.find()


class Broker:
    """A mosquitto on loopback and a subscriber to PREFIX/# writing to a
    file, through capture.py."""

    def __init__(self, work, prefix, port=18830):
        self.work = work
        self.prefix = prefix
        self.info = {"mqtt_port": port}
        self.proc = subprocess.Popen([servers.find_program("mosquitto"), "-p", str(port)],
                                     stdout=open(os.path.join(work, "mosquitto.log"), "wb"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not wait_for("mosquitto to listen", lambda: _accepts(port), 15):
            raise RuntimeError("mosquitto did not listen")
        self.capture_path = os.path.join(work, "capture.txt")
        self.subscriber = capture.start_subscriber(servers, self.info, prefix, self.capture_path)

    def messages(self, problems):
        """[(retained, topic, decoded JSON)] in arrival order, everything
        tryggd published before this call."""
        capture.wait_for_marker(servers, self.info, self.subscriber, self.capture_path,
                                f"{self.prefix}/_test/end-{time.monotonic_ns()}", "end", 30)
        return [(retained, topic, json.loads(payload))
                for retained, topic, payload in capture.read_messages(self.capture_path, self.prefix, problems)]

    def stop(self):
        capture.stop_process(self.subscriber)
        capture.stop_process(self.proc)


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def start_tryggd(tryggd, config_path, work):
    log = open(os.path.join(work, "tryggd.log"), "wb")
    return subprocess.Popen([tryggd, "-c", config_path], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)


def stop_tryggd(proc, work):
    """SIGTERM, wait; returns the exit status and prints the log."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # Its lines carry their own time and "tryggd: " (gateway/log.h).
    print("tryggd's log:")
    with open(os.path.join(work, "tryggd.log"), errors="replace") as f:
        for line in f:
            print(f"  {line}", end="")
    return proc.returncode


def wait_for(what, predicate, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    print(f"timed out waiting for {what}", flush=True)
    return False


def sleep_until(t):
    delay = t - time.time()
    if delay > 0:
        time.sleep(delay)


def next_window_start(window_s, margin_s):
    """The start of the next window that is at least margin_s away."""
    now = time.time()
    start = (int(now // window_s) + 1) * window_s
    if start - now < margin_s:
        start += window_s
    return start


def windows(messages, prefix_topic, sensor):
    """{window start (s): message} of one sensor's window messages."""
    out = {}
    for _retained, topic, msg in messages:
        if topic == f"{prefix_topic}/{sensor}/window":
            start = msg["start"]
            out[calendar.timegm(time.strptime(start[:19], "%Y-%m-%dT%H:%M:%S"))] = msg
    return out
