"""A private RabbitMQ cluster with the MQTT plugin on loopback, for
test_mqtt_cluster.py: Debian's rabbitmq-server (3.10), nodes started from
/usr/lib/rabbitmq/bin (not the /usr/sbin wrappers, which switch to user
rabbitmq and to /var/lib/rabbitmq) as whoever runs the test, everything in
one work folder:

- HOME is the work folder, with the cluster's .erlang.cookie (mode 400),
  so the nodes and rabbitmqctl share one cookie;
- an epmd of our own on a free port (ERL_EPMD_PORT, started with
  -start_epmd false everywhere), so no epmd daemon escapes to init and
  nothing touches a system epmd on 4369;
- per node: RABBITMQ_NODENAME (rabbit-a@localhost, ...), free AMQP, dist
  and MQTT ports, RABBITMQ_MNESIA_BASE, LOG_BASE, CONFIG_FILE and
  ENABLED_PLUGINS_FILE in the node's folder; its log (console) is
  NODE/node.log.

Nodes are killed whole, with SIGKILL: the rabbitmq-server shell, beam.smp,
erl_child_setup (which sits in a session of its own) and its helpers,
found by their parent pids.  The test's process is made a child subreaper,
so what a dead beam.smp or rabbitmqctl leaves behind comes to it, not to
init, and is reaped here: not even a zombie stays.  close() kills what is
left and then looks through /proc for any process whose environment names
the work folder (every one of ours does, rabbitmqctl's included): none may
be left.

Python 3.11 standard library only.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

from mqtt_resilience import free_port, tcp_accepts

RABBIT_BIN = "/usr/lib/rabbitmq/bin"


def _proc_table():
    """{pid: (ppid, state)} of every process now."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), fields[0])
    return table


def process_tree(root):
    """root and all its descendants, parents first."""
    children = {}
    for pid, (ppid, _) in _proc_table().items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def processes_naming(marker):
    """[(pid, command line)] of live processes whose environment or command
    line contains marker (zombies have neither and are left out)."""
    found = []
    needle = marker.encode()
    for pid, (_, state) in _proc_table().items():
        if state == "Z" or pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in environ or needle in cmdline:
            found.append((pid, cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def become_subreaper():
    """Orphaned descendants come to this process instead of init (Linux
    prctl PR_SET_CHILD_SUBREAPER), for reap() to collect."""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(36, 1, 0, 0, 0) == 0


def reap(pids=None, keep=()):
    """waitpid() the exited children of ours among pids (default: all of
    them but those in keep, which a subprocess.Popen still has to wait
    for); the pids still alive, or not (yet) ours."""
    table = _proc_table()
    if pids is None:
        pids = [pid for pid, (ppid, _) in table.items() if ppid == os.getpid() and pid not in keep]
    left = []
    for pid in pids:
        if pid not in table:
            continue
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                continue
        except ChildProcessError:
            pass
        left.append(pid)
    return left


def children():
    """[(pid, state)] of this process's children now."""
    return [(pid, state) for pid, (ppid, state) in _proc_table().items() if ppid == os.getpid()]


def _kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Node:
    def __init__(self, cluster, label):
        self.cluster = cluster
        self.label = label
        self.name = f"rabbit-{label}@localhost"
        self.dir = os.path.join(cluster.work, f"rabbit-{label}")
        self.log = os.path.join(self.dir, "node.log")
        self.amqp_port = free_port()
        self.dist_port = free_port()
        self.mqtt_port = free_port()
        self.proc = None
        os.makedirs(self.dir)
        self.config = os.path.join(self.dir, "rabbitmq.conf")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(
                "# One node of a private cluster (tests/integration/rabbit_cluster.py).\n"
                f"mqtt.listeners.tcp.default = 127.0.0.1:{self.mqtt_port}\n"
                # Anonymous MQTT clients are guest, which may connect only
                # over loopback (loopback_users.guest, the default).
                "mqtt.allow_anonymous = true\n"
                "mqtt.default_user = guest\n"
                "mqtt.default_pass = guest\n"
                "mqtt.vhost = /\n"
                "mqtt.exchange = amq.topic\n"
                "log.console = true\n"
                "log.console.level = info\n"
                "log.file = false\n"
            )

    @property
    def uri(self):
        return f"tcp://127.0.0.1:{self.mqtt_port}"

    def env(self):
        env = self.cluster.base_env()
        env.update({
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": os.path.join(self.dir, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.dir, "log"),
            "RABBITMQ_CONFIG_FILE": self.config,
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(self.dir, "advanced.config"),
            "RABBITMQ_PID_FILE": os.path.join(self.dir, "node.pid"),
            "RABBITMQ_LOGS": "-",
        })
        return env

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        log = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen([os.path.join(RABBIT_BIN, "rabbitmq-server")], env=self.env(),
                                         cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()

    def wait_mqtt(self, timeout_s):
        """Until the MQTT listener accepts (the plugin starts last); the
        time it took, or exit with the node log's end."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if self.proc.poll() is not None:
                self.cluster.fail(f"node {self.name} exited with status {self.proc.returncode}", self)
            if tcp_accepts(self.mqtt_port):
                return time.monotonic() - t0
            time.sleep(0.1)
        self.cluster.fail(f"node {self.name}: MQTT port {self.mqtt_port} not open within {timeout_s} s", self)

    def kill(self):
        """SIGKILL the whole node at once (a crash); returns
        (time.monotonic(), time.time()) right after the signals."""
        if self.proc is None:
            return time.monotonic(), time.time()
        tree = process_tree(self.proc.pid)
        _kill_all(tree)
        killed = time.monotonic(), time.time()
        self.proc.wait()
        # The rest come to us as their parents die; reaped as they do.
        rest = tree[1:]
        deadline = time.monotonic() + 5
        while rest and time.monotonic() < deadline:
            rest = reap(rest)
            time.sleep(0.01)
        return killed

    def log_text(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def log_tail(self, lines=15):
        try:
            with open(self.log, "rb") as f:
                return b"".join(f.readlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""


class Cluster:
    """Nodes labelled a, b, ... in work (an empty folder of our own)."""

    def __init__(self, work, labels=("a", "b")):
        self.work = work
        for program in ("rabbitmq-server", "rabbitmqctl", "rabbitmq-diagnostics"):
            if not os.access(os.path.join(RABBIT_BIN, program), os.X_OK):
                sys.exit(f"FAIL: {RABBIT_BIN}/{program} not found (scripts/deps installs rabbitmq-server)")
        become_subreaper()
        self.epmd_bin = self._find("epmd")
        self.epmd_port = free_port()
        self.epmd = None
        cookie = os.path.join(work, ".erlang.cookie")
        with open(cookie, "w", encoding="ascii") as f:
            f.write(os.urandom(16).hex().upper())
        os.chmod(cookie, 0o400)
        with open(os.path.join(work, "enabled_plugins"), "w", encoding="ascii") as f:
            f.write("[rabbitmq_mqtt].\n")
        # Named so that no system rabbitmq-env.conf is read; it is empty.
        open(os.path.join(work, "rabbitmq-env.conf"), "w").close()
        self.nodes = {label: Node(self, label) for label in labels}
        self.leftovers = []

    @staticmethod
    def _find(name):
        for d in ("/usr/bin", "/usr/lib/erlang/bin"):
            if os.access(os.path.join(d, name), os.X_OK):
                return os.path.join(d, name)
        sys.exit(f"FAIL: {name} not found (scripts/deps installs rabbitmq-server, which brings Erlang)")

    def base_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update({
            "HOME": self.work,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(self.work, "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.work, "enabled_plugins"),
            # Our epmd is there already; erl must not start one that would
            # daemonise out of our reach.  Distribution on loopback only.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_CTL_ERL_ARGS": "-start_epmd false",
        })
        return env

    def fail(self, what, node=None):
        text = f"FAIL: {what}"
        if node is not None:
            text += f"; the end of {node.log}:\n{node.log_tail()}"
        self.close()
        sys.exit(text)

    def start(self, timeout_s=60):
        """epmd, then every node at once; until each MQTT listener accepts.
        Returns the seconds it took."""
        t0 = time.monotonic()
        self.epmd = subprocess.Popen([self.epmd_bin, "-address", "127.0.0.1", "-port", str(self.epmd_port)],
                                     env=self.base_env(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        while not tcp_accepts(self.epmd_port):
            if self.epmd.poll() is not None or time.monotonic() - t0 > 10:
                self.fail(f"epmd did not listen on {self.epmd_port}")
            time.sleep(0.02)
        for node in self.nodes.values():
            node.start()
        for node in self.nodes.values():
            node.wait_mqtt(timeout_s - (time.monotonic() - t0))
        return time.monotonic() - t0

    def ctl(self, node, *args, tool="rabbitmqctl", timeout_s=60, check=True):
        """rabbitmqctl (or another CLI tool) -n NODE ARGS; its output."""
        proc = subprocess.Popen([os.path.join(RABBIT_BIN, tool), "-n", node.name, *args], env=node.env(),
                                cwd=self.work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_all(process_tree(proc.pid))
            proc.communicate()
            self.fail(f"{tool} -n {node.name} {' '.join(args)} took more than {timeout_s} s")
        text = out.decode(errors="replace")
        if check and proc.returncode != 0:
            self.fail(f"{tool} -n {node.name} {' '.join(args)} exited {proc.returncode}:\n{text}", node)
        return text

    def join(self, joiner, seed):
        """joiner joins seed's cluster (stop_app, join_cluster, start_app);
        until both are running members and joiner's MQTT listener is back,
        checked with check_port_listener.  Returns the seconds it took."""
        t0 = time.monotonic()
        self.ctl(joiner, "stop_app")
        self.ctl(joiner, "join_cluster", seed.name)
        self.ctl(joiner, "start_app")
        joiner.wait_mqtt(30)
        took = time.monotonic() - t0
        status = json.loads(self.ctl(seed, "cluster_status", "--formatter", "json"))
        running = set(status.get("running_nodes", []))
        if running != {joiner.name, seed.name}:
            self.fail(f"cluster_status on {seed.name}: running nodes {sorted(running)}")
        for node in (seed, joiner):
            self.ctl(node, "check_port_listener", str(node.mqtt_port), tool="rabbitmq-diagnostics")
        return took

    def close(self, keep=()):
        """Kill every node and epmd and reap what they and rabbitmqctl
        left (keep: pids of children a Popen still waits for); then nothing
        of ours may be left.  Returns [(pid, command line)] of what was."""
        for node in self.nodes.values():
            if node.running():
                node.kill()
        if self.epmd is not None and self.epmd.poll() is None:
            self.epmd.kill()
            self.epmd.wait()
        # Orphans (an erl_child_setup whose beam.smp just died) go within a
        # moment; whatever names our folder after 5 s is killed and reported.
        deadline = time.monotonic() + 5
        reap(keep=keep)
        left = processes_naming(self.work)
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            reap(keep=keep)
            left = processes_naming(self.work)
        if left:
            self.leftovers = left
            _kill_all(pid for pid, _ in left)
            time.sleep(0.1)
            reap(keep=keep)
        return left
