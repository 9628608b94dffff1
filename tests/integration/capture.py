"""An independent MQTT subscriber for the integration tests: mosquitto_sub
on a topic prefix, written to a file as it arrives, and read back.

The functions take the `servers` module (scripts/lib/servers.py) and its
servers.json as arguments, so this file needs nothing on sys.path."""

import calendar
import os
import re
import shutil
import subprocess
import sys
import time

RFC3339_MS = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$")
# The start of each of tryggd's log lines outside journald (gateway/log.h):
# the local time to the millisecond, then "tryggd: ".  A pattern for a
# message is LOG_START + "warning: store: ..." after a "^".
LOG_START = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} tryggd: "


def parse_iso(text):
    """Unix ms of "YYYY-MM-DDTHH:MM:SSZ" (the config's own format)."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")) * 1000


def parse_rfc3339_ms(text):
    """Unix ms of an RFC 3339 UTC time with milliseconds, or None when the
    text is not exactly in that form."""
    m = RFC3339_MS.match(text) if isinstance(text, str) else None
    if not m:
        return None
    y, mo, d, h, mi, s, ms = (int(g) for g in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000 + ms


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def load_servers(argv):
    """TRYGGD SOURCE_DIR SERVERS_DIR from argv, made absolute, and the
    `servers` module (SOURCE_DIR/scripts/lib/servers.py) with its
    servers.json loaded: (tryggd, source, servers_dir, servers, info)."""
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR SERVERS_DIR")
    tryggd, source, servers_dir = (os.path.abspath(a) for a in argv[1:])
    sys.path.insert(0, os.path.join(source, "scripts", "lib"))
    sys.dont_write_bytecode = True   # no __pycache__ in the source tree
    import servers  # noqa: E402 (the path comes from the arguments)
    return tryggd, source, servers_dir, servers, servers.load(servers_dir)


def write_config(path, sections, comment=None):
    """tryggd's configuration: sections [(name, ["key = value", ...])] in
    order, a blank line between them, after an optional comment line."""
    lines = [f"# {comment}"] if comment else []
    for number, (name, keys) in enumerate(sections):
        lines += ([""] if number else []) + [f"[{name}]", *keys]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def sim_sensors(sensors):
    """Sections of sim sensors from {name: (type, {key: value})}."""
    return [(f"sensor.{name}", [f"type = {kind}", "driver = sim",
                                    *(f"{key} = {value}" for key, value in keys.items())])
            for name, (kind, keys) in sensors.items()]


# Two sim sensors, one reading a second each.
SKY_AND_DOOR = {"sky": ("light", {"interval": 1}), "door": ("footfall", {"interval": 1})}


class Problems:
    """What did not hold, (what, detail) in the order found."""

    def __init__(self):
        self.items = []

    def add(self, what, detail=""):
        self.items.append((what, detail))

    def expect(self, condition, what, detail=""):
        print(f"  {'ok  ' if condition else 'FAIL'}  {what}" + ("" if condition or not detail else f": {detail}"),
              flush=True)
        if not condition:
            self.add(what, detail)
        return condition

    def verdict(self, work, ok_text, remove_work=False):
        """Print what did not hold (its files are kept in work) or "OK:
        ok_text" (remove_work: and remove work); the exit status."""
        if self.items:
            print(f"FAIL: {len(self.items)} problem(s); files in {work}")
            for what, detail in self.items:
                print(f"  {what}" + (f": {detail}" if detail else ""))
            return 1
        print(f"OK: {ok_text}")
        if remove_work:
            shutil.rmtree(work, ignore_errors=True)
        return 0


def mqtt_args(info):
    return ["-h", "127.0.0.1", "-p", str(info["mqtt_port"])]


def start_subscriber(servers, info, prefix, out_path):
    """mosquitto_sub on PREFIX/#, one line per message: the retain flag as
    published (MQTT 5), the topic, the payload in hex (so any byte of any
    payload survives).  QoS 1, and the broker queues without limit, so a
    subscriber slower than tryggd loses nothing.  Returns once a probe
    message went through: the subscription is in place."""
    out = open(out_path, "wb")
    proc = subprocess.Popen(
        [servers.find_program("mosquitto_sub"), *mqtt_args(info), "-V", "mqttv5", "-q", "1",
         "--retain-as-published", "-i", f"{prefix}-sub", "-t", f"{prefix}/#",
         "-F", "%r %t %x"],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    out.close()
    wait_for_marker(servers, info, proc, out_path, f"{prefix}/_test/probe", "subscription", 15)
    return proc


def wait_for_marker(servers, info, proc, out_path, topic, what, timeout_s):
    """Publish a marker on topic until the subscriber wrote it out.  At the
    end of a run this is how we know the subscriber has everything: the
    broker hands one subscriber its messages in the order they came, and
    tryggd's came before the marker."""
    pub = servers.find_program("mosquitto_pub")
    needle = f" {topic} ".encode()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"FAIL: mosquitto_sub exited with status {proc.returncode}: "
                     f"{open(out_path, 'rb').read()[-500:]!r}")
        subprocess.run([pub, *mqtt_args(info), "-q", "1", "-t", topic, "-m", "marker"],
                       check=True, capture_output=True, timeout=10)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            with open(out_path, "rb") as f:
                if needle in f.read():
                    return
            time.sleep(0.05)
    sys.exit(f"FAIL: the {what} marker did not come through the broker within {timeout_s} s")


def stop_process(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_messages(path, prefix, problems):
    """[(retained, topic, payload bytes)] in arrival order, markers left out."""
    messages = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            parts = raw.rstrip(b"\n").split(b" ")
            if len(parts) not in (2, 3) or parts[0] not in (b"0", b"1"):
                problems.add("subscriber output line not understood", f"line {number}: {raw[:120]!r}")
                continue
            topic = parts[1].decode("utf-8", errors="replace")
            if topic.startswith(f"{prefix}/_test/"):
                continue
            try:
                payload = bytes.fromhex(parts[2].decode("ascii")) if len(parts) == 3 else b""
            except ValueError:
                problems.add("subscriber output line not understood", f"line {number}: {raw[:120]!r}")
                continue
            messages.append((parts[0] == b"1", topic, payload))
    return messages
