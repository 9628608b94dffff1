"""The parts of a fleet run (tests/fleet/fleet.py): the gateways' layout and
configurations, a broker (a private mosquitto, or the two-node RabbitMQ
cluster of tests/integration/rabbit_cluster.py), a store (a private influxd
or VictoriaMetrics, scripts/lib/servers.py), an independent subscriber, a
prober that times the broker's own path, the tryggd processes, and a
sampler that reads every process's CPU and memory from /proc.

Everything listens on 127.0.0.1 on free ports and lives in one work
folder; each part stops what it started, by its own pid.

Python 3.11 standard library only.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
for _parts in (("tests", "bench"), ("tests", "integration"), ("scripts", "lib")):
    _path = os.path.join(ROOT, *_parts)
    if _path not in sys.path:
        sys.path.insert(0, _path)

import benchlib  # noqa: E402
import servers  # noqa: E402
import stored_windows  # noqa: E402
from capture import Problems, parse_rfc3339_ms  # noqa: E402,F401 (re-exported for fleet.py)
from mqtt_resilience import (  # noqa: E402,F401 (SessionSubscriber re-exported for fleet.py)
    SessionSubscriber, close_all, find_program, free_port, highest_recorded_seq, spawn_mosquitto, stop_process,
    tcp_accepts)
from rabbit_cluster import Cluster, children, process_tree, processes_naming  # noqa: E402,F401

# The five districts of seeds/districts.ini, as written and as topic level.
DISTRICTS = [("Fröslunda", "froslunda"), ("Lagerberg", "lagerberg"), ("Nyfors", "nyfors"),
             ("Skiftinge", "skiftinge"), ("Årby", "arby")]
# Sites within a district: the places where such boards stand.
PLACES = ["torg", "centrum", "park", "skola", "busshållplats", "gångtunnel", "lekplats", "idrottsplats",
          "bibliotek", "vårdcentral"]

# What a real deployment would pick (fleet.py's docstring says why).
WINDOW_S = 300
FOOTFALL_INTERVAL_S = 5
LIGHT_INTERVAL_S = 10
LAMP_INTERVAL_S = 10
HEALTH_INTERVAL = "60s"
STATUS_INTERVAL = "5min"
# name, type, interval, extra keys
SENSORS = [("passage", "footfall", FOOTFALL_INTERVAL_S, []),
           ("ljus", "light", LIGHT_INTERVAL_S, []),
           ("lampa", "lamp", LAMP_INTERVAL_S, ["light = ljus"])]
SERIES = [name for name, _, _, _ in SENSORS] + [stored_windows.GATEWAY]

# "2026-12-01 06:00:00.123 tryggd: ..." (gateway/log.c outside journald)
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3}) tryggd: ")


def log_time(line):
    """Unix time of a tryggd log line (local time to the ms), or None."""
    m = LOG_TIME.match(line)
    if not m:
        return None
    return time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000


def disk_bytes(top):
    """Bytes of disk (allocated blocks) of every file under top."""
    total = 0
    for base, _, files in os.walk(top):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_blocks * 512
            except OSError:
                pass
    return total


def iso(unix_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_s))


def layout(count):
    """count gateways spread over the five districts in turn: [{index, id,
    district, slug, site, seed}].  Ids are SLUG-NN, sites a place of the
    district (numbered once the places run out)."""
    width = max(2, len(str((count + len(DISTRICTS) - 1) // len(DISTRICTS))))
    out = []
    for index in range(count):
        district, slug = DISTRICTS[index % len(DISTRICTS)]
        nth = index // len(DISTRICTS)
        site = f"{district} {PLACES[nth % len(PLACES)]}"
        if nth >= len(PLACES):
            site += f" {nth // len(PLACES) + 1}"
        out.append({"index": index, "id": f"{slug}-{nth + 1:0{width}d}", "district": district, "slug": slug,
                    "site": site, "seed": 101 + index})
    return out


def write_gateway_config(path, spec, *, state_dir, profiles, uris, prefix, store, simulation, window_s=WINDOW_S):
    """One gateway's tryggd.conf.  simulation: None (real time) or
    (start unix s, end unix s, speed)."""
    gateway = [f"id = {spec['id']}", f"district = {spec['district']}", f"site = {spec['site']}",
               f"window = {window_s}", f"state_dir = {state_dir}"]
    sim = [f"profiles = {profiles}"]
    if simulation:
        start, end, speed = simulation
        sim += [f"start = {iso(start)}", f"end = {iso(end)}", f"speed = {speed:g}",
                # Everything must arrive, however far the servers fall behind.
                "drain_timeout = 600"]
    else:
        # Real time on a machine that may not run NTP.
        gateway.append("clock = trusted")
    sections = [
        ("gateway", gateway),
        ("simulation", sim),
        ("mqtt", [f"uri = {', '.join(uris)}", f"topic_prefix = {prefix}", "qos = 1",
                  f"health_interval = {HEALTH_INTERVAL}", f"status_interval = {STATUS_INTERVAL}"]),
        ("influx", [f"url = {store.url}", f"api = {store.api}", f"database = {servers.DATABASE}"]),
    ]
    for name, kind, interval, extra in SENSORS:
        sections.append((f"sensor.{name}", [f"type = {kind}", "driver = sim", f"interval = {interval}",
                                            f"seed = {spec['seed']}", *extra]))
    benchlib.write_config(path, sections, comment="Written by tests/fleet/fleet.py")


# ---------------------------------------------------------------- brokers

class Mosquitto:
    """A private mosquitto on a free port, tuned only through documented
    options (mosquitto.conf(5)); see fleet.py's docstring."""

    name = "mosquitto"
    label = "mosquitto"
    # Appended to mosquitto.conf unless --untuned (documented options).
    # None: max_inflight_messages 1000 (default 20) changed nothing that
    # the noise of a saturated machine did not (a day at speed 720: the
    # subscriber's delay median 1.1 s against 2.3 s, p99 8.1 s against
    # 7.2 s); mosquitto's limit here is its share of two cores.
    TUNING = ()

    def __init__(self, work, tuned=True):
        self.dir = os.path.join(work, "mosquitto")
        os.makedirs(self.dir)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self.log = os.path.join(self.dir, "mosquitto.log")
        self.proc = None
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(
                "# A private broker for one fleet run (tests/fleet/fleet_parts.py).\n"
                f"listener {self.port} 127.0.0.1\n"
                "allow_anonymous true\n"
                # Never restarted during a run: nothing to keep on disk.
                "persistence false\n"
                # The subscriber must get every message, however far behind
                # it falls (the default drops beyond 1000 queued).
                "max_queued_messages 0\n"
                "log_dest stderr\n"
                "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
                "connection_messages true\n"
                "log_timestamp true\n"
                "log_timestamp_format %Y-%m-%dT%H:%M:%S\n"
                + "".join(f"{line}\n" for line in (self.TUNING if tuned else ()))
            )

    @property
    def uris(self):
        return [f"tcp://127.0.0.1:{self.port}"]

    def start(self):
        self.proc = spawn_mosquitto(self.conf, self.log)
        deadline = time.monotonic() + 15
        while not tcp_accepts(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not listen on {self.port}; {self.log}")
            time.sleep(0.02)
        return "mosquitto on " + self.uris[0]

    def subscriber_port(self):
        return self.port

    def live_port(self):
        """Where the gateways are now: where to read their retained status."""
        return self.port

    def groups(self):
        """{label: pids function} for the sampler."""
        return {"mosquitto": lambda: [self.proc.pid] if self.proc and self.proc.poll() is None else []}

    def kill_node(self):
        raise RuntimeError("--kill-node needs --broker rabbitmq-cluster")

    def close(self, keep=()):
        stop_process(self.proc)
        return []


class RabbitCluster:
    """Two RabbitMQ nodes, A and B, clustered on loopback
    (rabbit_cluster.Cluster).  The gateways list A first, then B; the
    subscriber is on B, so every message crosses the cluster.  Tuning only
    through rabbitmq.conf keys (see fleet.py's docstring)."""

    name = "rabbitmq-cluster"
    label = "RabbitMQ"
    # Appended to each node's rabbitmq.conf unless --untuned (documented
    # keys, rabbitmq_mqtt.schema).  The MQTT plugin hands a QoS 1
    # subscriber at most mqtt.prefetch (default 10) unacknowledged
    # messages; at 3,400 messages a second (100 gateways, a day at speed
    # 144) the subscriber's queue on B then fell 23 s behind (p99 50 s, B at
    # 1.9 GB), with 1000 it stayed within 4 ms (p99 0.14 s, B at 0.2 GB).
    TUNING = ("mqtt.prefetch = 1000",)

    def __init__(self, work, tuned=True):
        self.dir = os.path.join(work, "rabbit")
        os.makedirs(self.dir)
        self.cluster = Cluster(self.dir)
        self.a, self.b = self.cluster.nodes["a"], self.cluster.nodes["b"]
        for node in (self.a, self.b):
            with open(node.config, "a", encoding="utf-8") as f:
                f.write("".join(f"{line}\n" for line in (self.TUNING if tuned else ())))
        self.killed = None

    @property
    def uris(self):
        return [self.a.uri, self.b.uri]

    def start(self):
        boot = self.cluster.start()
        joined = self.cluster.join(self.b, self.a)
        return (f"RabbitMQ 2 nodes: A {self.a.uri}, B {self.b.uri} (booted in {boot:.1f} s, "
                f"clustered in {joined:.1f} s)")

    def subscriber_port(self):
        return self.b.mqtt_port

    def live_port(self):
        return self.a.mqtt_port if self.killed is None else self.b.mqtt_port

    def groups(self):
        def tree(node):
            return lambda: process_tree(node.proc.pid) if node.running() else []
        return {"RabbitMQ A": tree(self.a), "RabbitMQ B": tree(self.b),
                "epmd": lambda: [self.cluster.epmd.pid] if self.cluster.epmd and self.cluster.epmd.poll() is None
                else []}

    def kill_node(self):
        """SIGKILL node A, beam.smp and all; (monotonic, wall) of the kill."""
        self.killed = self.a.kill()
        return self.killed

    def close(self, keep=()):
        return self.cluster.close(keep=keep)


BROKERS = {"mosquitto": Mosquitto, "rabbitmq-cluster": RabbitCluster}


# ---------------------------------------------------------------- stores

class Store:
    """A private influxd (api v1) or VictoriaMetrics (api victoriametrics,
    no dedup: a point stored twice shows twice) in the work folder."""

    def __init__(self, kind, work):
        self.kind = kind
        directory = os.path.join(work, kind)
        if kind == "influxd":
            self.server = servers.Influxd(directory)
            self.api = "v1"
            self.data_dirs = [os.path.join(directory, "influxdb")]
        else:
            self.server = servers.Victoria(directory, dedup=None)
            self.api = "victoriametrics"
            self.data_dirs = [self.server.data]
        self.label = kind

    @property
    def url(self):
        return self.server.url

    def start(self):
        self.server.start()
        return f"{self.kind} on {self.url}"

    def groups(self):
        return {self.kind: lambda: [self.server.proc.pid] if self.server.running() else []}

    def windows(self, gateway_id):
        """({series: sorted window starts, ms, repeats kept}, [problems])."""
        return stored_windows.windows(servers, self.server, self.api, gateway_id)

    def flush(self):
        if self.kind == "victoriametrics":
            servers.vm_flush(self.server)

    def counters(self):
        """What the store says it took: {'requests', 'bytes', 'points' or
        'samples', 'dropped'}; bytes are the write bodies (influxd) or every
        byte its HTTP listener read (VictoriaMetrics: headers, read-backs
        and this program's queries included)."""
        if self.kind == "influxd":
            status, body = servers._http(f"{self.url}/debug/vars")
            stats = json.loads(body)
            values = next(v["values"] for k, v in stats.items() if k.startswith("httpd"))
            return {"requests": values["writeReq"], "bytes": values["writeReqBytes"],
                    "points": values["pointsWrittenOK"],
                    "dropped": values["pointsWrittenDropped"] + values["pointsWrittenFail"]}
        found = servers.vm_counters(self.server, ("vm_http_requests_total", "vm_tcplistener_read_bytes_total",
                                                  'vm_rows_inserted_total{type="influx"}',
                                                  "vm_rows_invalid_total", "vm_rows_ignored_total"))
        return {"requests": sum(v for k, v in found.items()
                                if k.startswith("vm_http_requests_total") and "write" in k and "influx" in k),
                "bytes": sum(v for k, v in found.items() if k.startswith("vm_tcplistener_read_bytes_total")),
                "samples": sum(v for k, v in found.items() if k.startswith("vm_rows_inserted_total")),
                "dropped": sum(v for k, v in found.items() if k.startswith(("vm_rows_invalid_total",
                                                                            "vm_rows_ignored_total")))}

    def disk_bytes(self):
        return sum(disk_bytes(top) for top in self.data_dirs)

    def close(self):
        self.server.stop()


# ---------------------------------------------------------------- MQTT clients

class Prober(threading.Thread):
    """The broker's own path, timed: a mosquitto_pub -l (QoS 1, a
    connection of its own) publishes the time it sends on PREFIX/_probe
    every period_s; the subscriber's arrival time minus it is the delay
    of the broker (and the cluster) under the fleet's load, with no tryggd
    in it.  port_of() says where to publish; after a node is killed,
    move() starts the publisher again there."""

    def __init__(self, prefix, port_of, period_s=0.25):
        super().__init__(daemon=True)
        self.prefix = prefix
        self.port_of = port_of
        self.period_s = period_s
        self.proc = None
        self.sent = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def _spawn(self):
        self.proc = subprocess.Popen(
            [find_program("mosquitto_pub"), "-V", "mqttv311", "-h", "127.0.0.1", "-p", str(self.port_of()),
             "-q", "1", "-i", f"{self.prefix}-probe", "-t", f"{self.prefix}/_probe", "-l"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run(self):
        while not self.stopping.wait(self.period_s):
            with self.lock:
                if self.stopping.is_set():
                    break
                if self.proc is None or self.proc.poll() is not None:
                    # The first line would wait for the connection: time
                    # the broker, not the connect.
                    self._spawn()
                    continue
                try:
                    self.proc.stdin.write(f"{time.time():.6f}\n".encode())
                    self.proc.stdin.flush()
                    self.sent += 1
                except (BrokenPipeError, OSError):
                    pass

    def move(self):
        """Publish from now on where port_of() says: a mosquitto_pub -l
        whose node died keeps trying that node, so it is stopped and the
        next period starts one at the live port."""
        with self.lock:
            stop_process(self.proc, timeout_s=2)
            self.proc = None

    def pids(self):
        return [self.proc.pid] if self.proc is not None and self.proc.poll() is None else []

    def close(self):
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=10)
        with self.lock:
            if self.proc is not None:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()


def retained_statuses(port, topics, wait_s=3):
    """{topic: payload} of the retained messages on topics as a new
    subscriber at port sees them.  Every topic is subscribed to by name:
    RabbitMQ 3.10 hands no retained message to a wildcard subscription.
    mosquitto_sub leaves once it has one for each, or after wait_s of
    silence."""
    argv = [find_program("mosquitto_sub"), "-V", "mqttv311", "-h", "127.0.0.1", "-p", str(port),
            "--retained-only", "-W", str(wait_s), "-C", str(len(topics)), "-F", "%t %p"]
    for topic in topics:
        argv += ["-t", topic]
    done = subprocess.run(argv, capture_output=True, timeout=wait_s + 60)
    out = {}
    for line in done.stdout.decode(errors="replace").splitlines():
        topic, _, payload = line.partition(" ")
        out[topic] = payload
    return out


def publish(port, topic, payload, retain=False):
    """One message at QoS 1 with mosquitto_pub."""
    subprocess.run([find_program("mosquitto_pub"), "-V", "mqttv311", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                    *(["-r"] if retain else []), "-t", topic, "-m", payload], capture_output=True, timeout=15,
                   check=True)


# ---------------------------------------------------------------- gateways

class Gateway:
    """One tryggd: its folder (config, state_dir, log), the process (its
    output to the log file), its exit status and CPU from wait4."""

    def __init__(self, spec, work):
        self.spec = spec
        self.id = spec["id"]
        self.dir = os.path.join(work, "gateways", self.id)
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "tryggd.conf")
        self.log = os.path.join(self.dir, "tryggd.log")
        os.makedirs(self.state)
        self.proc = None
        self.pid = None
        self.status = None
        self.cpu_s = None
        self.cpu_at_up = 0.0       # CPU s when every gateway was connected (real time)
        self.spawned = self.spawned_wall = self.ended = None
        self.sent_term = None

    def start(self, binary):
        with open(self.log, "ab") as log:
            self.spawned_wall = time.time()
            self.spawned = time.monotonic()
            self.proc = subprocess.Popen([binary, "-c", self.config], stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=benchlib.tryggd_env())
        self.pid = self.proc.pid

    def running(self):
        return self.proc is not None and self.status is None

    def pids(self):
        return [self.pid] if self.running() else []

    def poll(self, block=False):
        """Reap it if it ended (wait4: its exit status and CPU); the status."""
        if self.proc is None or self.status is not None:
            return self.status
        pid, status, usage = os.wait4(self.pid, 0 if block else os.WNOHANG)
        if pid == self.pid:
            self.ended = time.monotonic()
            self.status = os.waitstatus_to_exitcode(status)
            self.cpu_s = usage.ru_utime + usage.ru_stime
            self.proc.returncode = self.status   # Popen must not wait again
        return self.status

    def signal(self, signo):
        if self.running():
            try:
                os.kill(self.pid, signo)
            except ProcessLookupError:
                pass

    def log_lines(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def last_seq(self):
        """The highest seq tryggd recorded (read on copies)."""
        return highest_recorded_seq(self.state)

    def state_bytes(self):
        return disk_bytes(self.state)


def signal_all(gateways, signo):
    for g in gateways:
        g.signal(signo)
