"""An independent MQTT subscriber for the integration tests: mosquitto_sub
on a topic prefix, written to a file as it arrives, and read back.

The functions take the `servers` module (scripts/lib/servers.py) and its
servers.json as arguments, so this file needs nothing on sys.path."""

import subprocess
import sys
import time


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
