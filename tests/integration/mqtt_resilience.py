"""Private brokers, an independent persistent subscriber and a watched
tryggd, for the tests of MQTT under outages (test_mqtt_*.py).

Each test starts its own mosquitto on a free loopback port with its own
configuration and persistence folder, so that it can kill it (SIGKILL),
stop it (SIGTERM) and start it again on the same port; the shared broker
of the `servers` fixture is never touched.  The subscriber is mosquitto_sub
with a persistent session (-c -i ID -q 1), subscribed before tryggd starts,
so the broker queues tryggd's messages for it while it is away and, with
persistence, across a restart of the broker.

Everything started here is stopped by Run.close() (the tests call it in a
finally), SIGTERM first, then SIGKILL, each process by its own pid.

Python 3.11 standard library only.
"""

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid

from capture import Problems

WINDOW_S = 60


def find_program(name):
    path = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"
    found = shutil.which(name, path=path)
    if not found:
        sys.exit(f"FAIL: {name} not found (scripts/deps installs it)")
    return found


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tcp_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_process(proc, timeout_s=10.0):
    """SIGTERM, wait, SIGKILL: only the process we started, by its pid."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def close_all(things):
    """close() each of things that is not None, in order; one that fails is
    said and the rest are closed anyway."""
    for thing in things:
        if thing is None:
            continue
        try:
            thing.close()
        except Exception as e:  # noqa: BLE001 (tear down the rest anyway)
            print(f"  (teardown of {type(thing).__name__}: {e})")


# ---------------------------------------------------------------- broker

def spawn_mosquitto(conf, log_path, wrap=None):
    """mosquitto -c conf in a session of its own, its output appended to
    log_path; wrap: a function of the argv to run instead."""
    argv = [find_program("mosquitto"), "-c", conf]
    with open(log_path, "ab") as log:
        return subprocess.Popen(wrap(argv) if wrap else argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)


class Broker:
    """One mosquitto on a fixed free port, persistence in its folder
    (autosave every second), restartable on the same port."""

    def __init__(self, directory, port=None):
        self.directory = directory
        self.port = port or free_port()
        self.proc = None
        self.starts = 0
        os.makedirs(os.path.join(directory, "persistence"), exist_ok=True)
        self.conf = os.path.join(directory, "mosquitto.conf")
        self.log = os.path.join(directory, "mosquitto.log")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(
                "# A private broker for one test (tests/integration/mqtt_resilience.py).\n"
                f"listener {self.port} 127.0.0.1\n"
                "allow_anonymous true\n"
                "persistence true\n"
                f"persistence_location {os.path.join(directory, 'persistence')}/\n"
                "autosave_interval 1\n"
                # Run as root, mosquitto would become user mosquitto and could
                # not write its persistence file into our folder.
                + ("user root\n" if os.geteuid() == 0 else "")
                + "log_dest stderr\n"
                "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
                "connection_messages true\n"
                "log_timestamp true\n"
                "log_timestamp_format %H:%M:%S\n"
                # The subscriber must get every message queued for it.
                "max_queued_messages 0\n"
            )

    @property
    def uri(self):
        return f"tcp://127.0.0.1:{self.port}"

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout_s=10.0):
        """Start and wait until the port accepts; returns time.monotonic()
        at that moment (the broker is "back")."""
        assert not self.running()
        self.proc = spawn_mosquitto(self.conf, self.log)
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"FAIL: mosquitto exited with status {self.proc.returncode}; see {self.log}")
            if tcp_accepts(self.port):
                return time.monotonic()
            time.sleep(0.01)
        sys.exit(f"FAIL: mosquitto did not listen on {self.port} within {timeout_s} s; see {self.log}")

    def log_lines(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.readlines()
        except FileNotFoundError:
            return []

    def wait_client(self, client_id, since_line, timeout_s=10.0):
        """True once the log, from line since_line on, says client_id
        connected."""
        needle = f" as {client_id} "
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(needle in line for line in self.log_lines()[since_line:]):
                return True
            time.sleep(0.05)
        return False

    def kill(self):
        """SIGKILL: what it had not saved yet (autosave every second) is lost."""
        if self.running():
            self.proc.kill()
        if self.proc:
            self.proc.wait()

    def pause(self):
        """SIGSTOP: connections stay open, nothing is answered."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        if self.running():
            self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        """SIGTERM: mosquitto saves its persistence file on the way out."""
        if self.running():
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def close(self):
        self.stop()


# ---------------------------------------------------------------- subscriber

class SessionSubscriber:
    """mosquitto_sub -V mqttv311 -c -i ID -q 1 on PREFIX/# at one port: one
    line per message (arrival time, retain flag, topic, payload) appended
    to a file.  A persistent session at QoS 1, so the broker (or the node)
    keeps what comes while it is away; should it have exited, ensure()
    starts it again with the same id and the broker hands it the queue.
    payload_format: '%x' (hex, any payload) or '%p' (as sent: half the
    file, for payloads of one line such as tryggd's JSON)."""

    def __init__(self, port, prefix, path, payload_format="%x"):
        self.port = port
        self.prefix = prefix
        self.path = path
        self.payload_format = payload_format
        self.client_id = f"{prefix}-sub"
        self.proc = None
        self.starts = 0
        open(path, "wb").close()

    def ensure(self):
        """Running (started again if it exited); the broker must be up."""
        if self.proc is not None and self.proc.poll() is None:
            return
        with open(self.path, "ab") as out:
            self.proc = subprocess.Popen(
                [find_program("mosquitto_sub"), "-V", "mqttv311", "-h", "127.0.0.1", "-p", str(self.port),
                 "-c", "-i", self.client_id, "-q", "1", "-t", f"{self.prefix}/#",
                 "-F", f"%U %r %t {self.payload_format}"],
                stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.starts += 1

    def pids(self):
        return [self.proc.pid] if self.proc is not None and self.proc.poll() is None else []

    def publish_marker(self, name, port=None, timeout_s=20):
        """Publish PREFIX/_test/NAME (to port, default the subscriber's)
        until it is in the file: True once it is, False after timeout_s.
        The broker hands one subscriber its messages in the order they
        came, so what came before is in the file too."""
        return publish_until_seen(self.path, f"{self.prefix}/_test/{name}",
                                  ["-V", "mqttv311", "-h", "127.0.0.1", "-p", str(port or self.port)], timeout_s,
                                  self.ensure)

    def timed_messages(self):
        """[(arrival unix time, topic, payload str)], markers left out."""
        return [(float(lead[0]), topic, payload)
                for lead, topic, payload in subscriber_lines(self.path, self.prefix, 2, self.payload_format)]

    def close(self):
        stop_process(self.proc)


class Subscriber(SessionSubscriber):
    """A SessionSubscriber on one of this module's Brokers, whose every
    marker must come through (the test ends at once if one does not).  It
    reconnects by itself about a second after its broker is back, and
    subscribes again (so retained messages come again, flagged)."""

    def __init__(self, broker, prefix, path):
        super().__init__(broker.port, prefix, path)

    def start(self):
        """Subscribe and wait until a marker went through: from here on the
        broker keeps tryggd's messages for this session, even while the
        subscriber or the broker is away."""
        self.ensure()
        self.marker("probe", 15)

    def marker(self, name, timeout_s=30):
        if not self.publish_marker(name, timeout_s=timeout_s):
            sys.exit(f"FAIL: the {name} marker did not come through the broker within {timeout_s} s")

    def messages(self):
        """[(topic, payload str)] in arrival order, markers left out."""
        return [(topic, payload) for _, topic, payload in self.timed_messages()]

    def seqs(self):
        return [json.loads(p)["seq"] for t, p in self.messages() if t.endswith("/reading")]


def publish_until_seen(path, topic, pub_args, timeout_s, before_each):
    """Publish a marker on topic (mosquitto_pub PUB_ARGS, QoS 1), calling
    before_each() before each try, until a subscriber wrote it to path
    (within two seconds of a try): True, or False after timeout_s.  Reads
    only what the file gained since the call: it may be large."""
    needle = f" {topic} ".encode()
    offset = os.path.getsize(path)
    carry = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before_each()
        subprocess.run([find_program("mosquitto_pub"), *pub_args, "-q", "1", "-t", topic, "-m", "marker"],
                       capture_output=True, timeout=15)
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
            offset += len(chunk)
            if needle in carry + chunk:
                return True
            carry = (carry + chunk)[-(len(needle) + 64):]
            time.sleep(0.05)
    return False


def subscriber_lines(path, prefix, leading, payload_format="%x"):
    """What a mosquitto_sub -F '... %t %x' (or %p) wrote to path, in arrival
    order, markers (PREFIX/_test/...) left out: [(the `leading` fields
    before the topic (bytes), topic, payload str)]."""
    out = []
    with open(path, "rb") as f:
        for raw in f:
            parts = raw.rstrip(b"\n").split(b" ", leading + 1)
            if len(parts) < leading + 1:
                continue
            topic = parts[leading].decode("utf-8", errors="replace")
            if topic.startswith(f"{prefix}/_test/"):
                continue
            payload = parts[leading + 1] if len(parts) == leading + 2 else b""
            if payload_format == "%x":
                payload = bytes.fromhex(payload.decode("ascii"))
            out.append((parts[:leading], topic, payload.decode("utf-8", errors="replace")))
    return out


def retained(broker, topic, timeout_s=3):
    """The retained payload of topic, or '' when there is none."""
    done = subprocess.run([find_program("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(broker.port),
                           "-C", "1", "-W", str(timeout_s), "-t", topic],
                          capture_output=True, timeout=timeout_s + 5)
    return done.stdout.decode(errors="replace").strip()


# ---------------------------------------------------------------- tryggd

class Tryggd:
    """tryggd with its stderr read by a thread: every line kept with the
    time it came (time.monotonic()) and written to a log file."""

    def __init__(self, binary, config, log_path, wrap=None, poll_s=0.02):
        """wrap: a function of the argv to run instead (say under setpriv);
        poll_s: how often wait_for looks at the lines."""
        self.lines = []            # (monotonic, text)
        self.lock = threading.Lock()
        self.poll_s = poll_s
        self.log = open(log_path, "ab")
        argv = [binary, "-c", config]
        self.proc = subprocess.Popen(wrap(argv) if wrap else argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.started = time.monotonic()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            now = time.monotonic()
            self.log.write(raw)
            self.log.flush()
            with self.lock:
                self.lines.append((now, raw.decode("utf-8", errors="replace").rstrip("\n")))

    def matching(self, pattern):
        regex = re.compile(pattern)
        with self.lock:
            return [(t, line) for t, line in self.lines if regex.search(line)]

    def wait_for(self, pattern, timeout_s, count=1):
        """The count-th line matching, or None after timeout_s (or once
        tryggd has exited)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.matching(pattern)
            if len(found) >= count:
                return found[count - 1]
            if self.proc.poll() is not None:
                break
            time.sleep(self.poll_s)
        return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(timeout=5)

    def term(self, timeout_s=20):
        """SIGTERM; the exit status (None if it had to be killed)."""
        status = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                status = self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            status = self.proc.returncode
        self.reader.join(timeout=5)
        return status

    def stop_line(self):
        """(delivered, kept, dropped) from the "stopped: ..." line, or None."""
        found = self.matching(r"stopped: .* MQTT messages delivered")
        if not found:
            return None
        line = found[-1][1]
        m = re.search(r"(\d+) MQTT messages delivered, (\d+) kept for the next start, (\d+) dropped", line)
        return tuple(int(x) for x in m.groups()) if m else None

    def close(self):
        self.kill()
        self.log.close()


def write_config(path, *, gateway_id, prefix, source, state_dir, uri, window_s=WINDOW_S, simulation=None,
                 mqtt_extra=(), sensors=("sky", "door")):
    """Two sim sensors, one reading a second each (light `sky`, footfall
    `door`).  simulation: None for the real clock, or (start, speed)."""
    lines = [
        "[gateway]",
        f"id = {gateway_id}",
        "district = Skiftinge",
        f"window = {window_s}",
        f"state_dir = {state_dir}",
        "clock = trusted",   # real time on a machine that may not run NTP
        "",
        "[simulation]",
        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}",
    ]
    if simulation:
        lines += [f"start = {simulation[0]}", f"speed = {simulation[1]}"]
    lines += ["", "[mqtt]", f"uri = {uri}", f"topic_prefix = {prefix}", "qos = 1", *mqtt_extra]
    types = {"sky": "light", "door": "footfall", "lamp": "lamp"}
    for name in sensors:
        lines += ["", f"[sensor.{name}]", f"type = {types.get(name, 'footfall')}", "driver = sim", "interval = 1"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------- files

def _query_copy(state_dir, name, query):
    """Rows of query on a copy of state_dir/name and its -wal, so the
    original stays as the next start finds it."""
    src = os.path.join(state_dir, name)
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("", "-wal"):
            if os.path.exists(src + suffix):
                shutil.copyfile(src + suffix, os.path.join(tmp, "copy.db" + suffix))
        db = sqlite3.connect(os.path.join(tmp, "copy.db"))
        try:
            return db.execute(query).fetchall()
        finally:
            db.close()


def outbox_rows(state_dir, with_ids=False):
    """(topic, payload str) of every message in the outbox of a (killed)
    tryggd, oldest first: read on a copy of the database and its -wal, so
    the original stays as the next start finds it.  with_ids: (id, topic,
    payload bytes) instead."""
    rows = _query_copy(state_dir, "mqtt-buffer.db", "SELECT id, topic, payload FROM outbox ORDER BY id")
    return [(t, bytes(p).decode("utf-8", errors="replace")) for _, t, p in rows] if not with_ids else \
        [(i, t, bytes(p)) for i, t, p in rows]


def reading_seqs(rows):
    return [json.loads(p)["seq"] for t, p in rows if t.endswith("/reading")]


def recorded_seq(state_dir):
    """The last seq tryggd recorded in state_dir/tryggd.db (read on a copy)."""
    return _query_copy(state_dir, "tryggd.db", "SELECT value FROM meta WHERE key = 'sequence'")[0][0]


def highest_recorded_seq(state_dir):
    """The highest seq tryggd recorded in either file that keeps one, the
    outbox and tryggd.db, read on copies (a start goes on from the larger);
    a file missing, or without the table yet, counts as 0."""
    best = 0
    for name in ("mqtt-buffer.db", "tryggd.db"):
        if not os.path.exists(os.path.join(state_dir, name)):
            continue
        try:
            rows = _query_copy(state_dir, name, "SELECT value FROM meta WHERE key = 'sequence'")
        except sqlite3.Error:
            continue
        best = max(best, rows[0][0] if rows else 0)
    return best


# ---------------------------------------------------------------- seq

class SeqReport:
    """What a subscriber saw of the reading seqs, in arrival order."""

    def __init__(self, seqs):
        self.seqs = seqs
        self.received = len(seqs)
        self.distinct = sorted(set(seqs))
        self.duplicates = len(seqs) - len(self.distinct)
        self.first = self.distinct[0] if seqs else None
        self.last = self.distinct[-1] if seqs else None
        self.missing = [] if not seqs else sorted(set(range(self.first, self.last + 1)) - set(seqs))
        # Order: each number seen for the first time is above every number
        # seen before it (a repeat may come after higher ones).
        self.out_of_order = []
        highest = 0
        seen = set()
        for s in seqs:
            if s not in seen:
                if s < highest:
                    self.out_of_order.append((highest, s))
                seen.add(s)
                highest = max(highest, s)

    def summary(self):
        if not self.seqs:
            return "no readings"
        return (f"{self.received} reading messages, seq {self.first}..{self.last} ({len(self.distinct)} distinct), "
                f"{self.duplicates} duplicates, {len(self.missing)} missing, {len(self.out_of_order)} out of order")

    def missing_text(self, limit=12):
        return ", ".join(str(s) for s in self.missing[:limit]) + (" ..." if len(self.missing) > limit else "")


def expect_every_seq(p, report, last, first_what="the first seq is 1",
                     last_what="the last is the last seq tryggd used"):
    """The subscriber saw every reading seq from 1 to last, in order."""
    p.expect(report.first == 1, first_what, f"{report.first}")
    p.expect(report.last == last, f"{last_what} ({last})", f"{report.last}")
    p.expect(not report.missing, "no seq is missing", report.missing_text())
    p.expect(not report.out_of_order, "order kept", f"{report.out_of_order[:5]}")


# ---------------------------------------------------------------- a run

class Run:
    """A work folder and everything a test started in it, stopped by close()."""

    def __init__(self, name, tryggd_binary, source, servers_dir):
        self.name = name
        self.binary = tryggd_binary
        self.source = source
        parent = os.path.dirname(os.path.abspath(servers_dir))
        os.makedirs(parent, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix=f"{name}-", dir=parent)
        self.things = []
        self.t0 = time.monotonic()
        self.problems = Problems()

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def broker(self, label="broker"):
        b = Broker(self.path(label))
        self.things.append(b)
        return b

    def subscriber(self, broker, prefix):
        s = Subscriber(broker, prefix, self.path(f"{prefix}-mqtt.txt"))
        self.things.append(s)
        return s

    def tryggd(self, config, label):
        t = Tryggd(self.binary, config, self.path(f"{label}.log"))
        self.things.append(t)
        return t

    def elapsed(self):
        return time.monotonic() - self.t0

    def close(self):
        # tryggd first, then subscribers, then brokers.
        order = [t for t in self.things if isinstance(t, Tryggd)] + \
                [s for s in self.things if isinstance(s, Subscriber)] + \
                [b for b in self.things if isinstance(b, Broker)]
        close_all(order)

    def finish(self, ok_text):
        print(f"runtime {self.elapsed():.1f} s")
        # Kept for a post-mortem only.
        return self.problems.verdict(self.work, ok_text, remove_work=True)


def start_simulated(run, kind):
    """The usual start of a test: a token, the topic prefix and a gateway
    id KIND-TOKEN, a private broker started, a persistent subscriber on it
    started, and tryggd's configuration written (simulated clock at speed
    10, state in run.path("state")).  A namespace of prefix, gateway,
    status_topic, state, broker, sub, config."""
    token = uuid.uuid4().hex[:8]
    prefix, gateway = f"tryggtest-{token}", f"{kind}-{token}"
    state = run.path("state")
    broker = run.broker()
    broker.start()
    sub = run.subscriber(broker, prefix)
    sub.start()
    config = run.path("tryggd.conf")
    write_config(config, gateway_id=gateway, prefix=prefix, source=run.source, state_dir=state, uri=broker.uri,
                 simulation=("2026-06-15T10:00:00Z", 10))
    return types.SimpleNamespace(prefix=prefix, gateway=gateway, status_topic=f"{prefix}/skiftinge/{gateway}/status",
                                 state=state, broker=broker, sub=sub, config=config)


def term_cleanly(p, t):
    """SIGTERM tryggd: it exits 0 and its stop line (printed) says nothing
    was kept or dropped.  Returns the stop line's figures."""
    status = t.term()
    p.expect(status == 0, "tryggd exits 0 on SIGTERM", f"status {status}")
    stop = t.stop_line()
    print(f"tryggd stop line: {stop and 'delivered %d, kept %d, dropped %d' % stop}")
    p.expect(stop is not None and stop[1:] == (0, 0), "nothing kept or dropped at the stop", f"{stop}")
    return stop


def parse_args(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR SERVERS_DIR")
    return tuple(os.path.abspath(a) for a in argv[1:])
