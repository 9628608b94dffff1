#!/usr/bin/env python3
"""tryggd over TLS, with a user name and password and a client certificate,
against a mosquitto of its own.

    test_mqtt_tls.py TRYGGD SOURCE_DIR

In a temporary folder the test makes, with the openssl command line, a CA,
a broker certificate for 127.0.0.1 and localhost, a broker certificate for
other.example only, a client certificate, and a second CA nobody uses.  One
mosquitto on free loopback ports has three listeners:

  tls    the broker's certificate; requires a client certificate from the
         CA and a user name and password (mosquitto_passwd)
  other  the same, but with the certificate for other.example
  plain  no TLS; user name and password

A subscriber (mosquitto_sub over TLS with --cafile/--cert/--key) counts
what arrives.  Each run of tryggd is a short simulation with TRYGGD_DEBUG=1:

  1. TLS, MQTT 3.1.1: the password and the client key from
     $CREDENTIALS_DIRECTORY; every reading arrives; --check shows where the
     password is, never what;
  2. TLS by host name (localhost), MQTT 5: every reading arrives;
  3. plain MQTT 3.1.1 and 5 with a password: every reading arrives, with
     warnings that the password goes in clear and is readable by everyone;
  4. a CA that did not sign the broker's certificate: one error line saying
     so, tries again with a growing wait, exit 75 (not a crash);
  5. a broker whose certificate is for another host: one error line naming
     both;
  6. a wrong password, MQTT 3.1.1 and 5: one error line, then only quiet
     tries;
  7. proxies: https_proxy in the environment is not used (a listener there
     sees nothing); proxy = HOST:PORT is (a small CONNECT proxy here sees
     tryggd's CONNECT and passes everything on);
  8. across every output of every run: no password, no line of the key.

Everything started here is stopped, each process by its own pid, and the
folder is removed, also when a check fails.  Exit 0 when all hold, 1 with
the list of what did not.  Python 3.11 standard library only.
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# Beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
from capture import LOG_START  # noqa: E402
from mqtt_resilience import find_program, free_port, spawn_mosquitto, stop_process, tcp_accepts  # noqa: E402

EX_TEMPFAIL = 75
PASSWORD = "Tr1ggd-s3cret-0f-the-mast"
WRONG_PASSWORD = "not-the-password-4711"
READER_PASSWORD = "reader-only-1234"
RUN_TIMEOUT_S = 60
# A failing run: how long tryggd tries before the simulation's drain ends it.
DRAIN_S = 10


class Checks:
    def __init__(self):
        self.failures = []

    def expect(self, condition, what, detail=""):
        print(f"  {'ok  ' if condition else 'FAIL'}  {what}" + ("" if condition or not detail else f"\n{detail}"),
              flush=True)
        if not condition:
            self.failures.append(what)
        return condition


def indent(text, limit=20):
    lines = text.rstrip("\n").splitlines()
    shown = lines[-limit:]
    if len(lines) > limit:
        shown.insert(0, f"... ({len(lines) - limit} lines before)")
    return "\n".join("        " + line for line in shown) or "        (empty)"


# ---------------------------------------------------------------- PKI

def openssl(*args, cwd):
    subprocess.run([find_program("openssl"), *args], cwd=cwd, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pki(directory):
    """ca.crt/ca.key, server.crt/key (127.0.0.1, localhost), other.crt/key
    (other.example only), client.crt/key, stranger-ca.crt (signs nothing
    here).  All keys mode 0600."""
    days = "2"

    def ca(name, subject):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt",
                "-days", days, "-subj", subject, cwd=directory)

    def signed(name, subject, alt_names):
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", subject, cwd=directory)
        extensions = os.path.join(directory, f"{name}.ext")
        with open(extensions, "w", encoding="utf-8") as f:
            f.write("basicConstraints = CA:FALSE\n")
            if alt_names:
                f.write(f"subjectAltName = {alt_names}\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.crt", "-days", days, "-extfile", extensions, cwd=directory)

    ca("ca", "/CN=tryggd test CA")
    ca("stranger-ca", "/CN=a CA nobody here trusts")
    signed("server", "/CN=127.0.0.1", "IP:127.0.0.1, DNS:localhost")
    signed("other", "/CN=other.example", "DNS:other.example")
    signed("client", "/CN=tryggd-tls-01", None)
    for name in os.listdir(directory):
        if name.endswith(".key"):
            os.chmod(os.path.join(directory, name), 0o600)


# ---------------------------------------------------------------- broker

class Broker:
    """One mosquitto with the three listeners described above."""

    def __init__(self, directory, pki):
        self.directory = directory
        self.pki = pki
        self.ports = {"tls": free_port(), "other": free_port(), "plain": free_port()}
        self.log = os.path.join(directory, "mosquitto.log")
        self.proc = None
        passwords = os.path.join(directory, "passwd")
        passwd = find_program("mosquitto_passwd")
        subprocess.run([passwd, "-b", "-c", passwords, "tryggd", PASSWORD], check=True, capture_output=True)
        subprocess.run([passwd, "-b", passwords, "reader", READER_PASSWORD], check=True, capture_output=True)
        os.chmod(passwords, 0o600)
        p = lambda name: os.path.join(pki, name)  # noqa: E731
        self.conf = os.path.join(directory, "mosquitto.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(
                "# A private broker for tests/integration/test_mqtt_tls.py.\n"
                "per_listener_settings true\n"
                # Run as root, mosquitto would become user mosquitto and could
                # not read the keys in our folder.
                + ("user root\n" if os.geteuid() == 0 else "")
                + "log_dest stderr\nlog_type all\nconnection_messages true\n"
                f"\nlistener {self.ports['tls']} 127.0.0.1\n"
                f"cafile {p('ca.crt')}\ncertfile {p('server.crt')}\nkeyfile {p('server.key')}\n"
                "require_certificate true\n"
                f"password_file {passwords}\nallow_anonymous false\n"
                f"\nlistener {self.ports['other']} 127.0.0.1\n"
                f"cafile {p('ca.crt')}\ncertfile {p('other.crt')}\nkeyfile {p('other.key')}\n"
                "require_certificate true\n"
                f"password_file {passwords}\nallow_anonymous false\n"
                f"\nlistener {self.ports['plain']} 127.0.0.1\n"
                f"password_file {passwords}\nallow_anonymous false\n"
            )

    def start(self, timeout_s=10.0):
        self.proc = spawn_mosquitto(self.conf, self.log)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if all(tcp_accepts(port) for port in self.ports.values()):
                return True
            time.sleep(0.05)
        return False

    def close(self):
        stop_process(self.proc)


class Subscriber:
    """mosquitto_sub over TLS on PREFIX/#: "topic payload" lines in a file."""

    def __init__(self, broker, prefix, path):
        self.broker = broker
        self.prefix = prefix
        self.path = path
        pki = broker.pki
        out = open(path, "wb")
        try:
            self.proc = subprocess.Popen(
                [find_program("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(broker.ports["tls"]),
                 "--cafile", os.path.join(pki, "ca.crt"), "--cert", os.path.join(pki, "client.crt"),
                 "--key", os.path.join(pki, "client.key"), "-u", "reader", "-P", READER_PASSWORD,
                 "-i", f"{prefix}-sub", "-q", "1", "-t", f"{prefix}/#", "-v"],
                stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        finally:
            out.close()

    def lines(self):
        with open(self.path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()

    def wait_ready(self, timeout_s=10.0):
        """Subscribed: a marker published on the plain listener came back."""
        deadline = time.monotonic() + timeout_s
        marker = f"{self.prefix}/marker"
        while time.monotonic() < deadline:
            subprocess.run([find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(self.broker.ports["plain"]),
                            "-u", "reader", "-P", READER_PASSWORD, "-t", marker, "-m", "here"],
                           capture_output=True)
            time.sleep(0.2)
            if any(line.startswith(marker) for line in self.lines()):
                return True
            if self.proc.poll() is not None:
                return False
        return False

    def readings(self):
        """The distinct seq of every reading that arrived."""
        seqs = set()
        for line in self.lines():
            topic, _, payload = line.partition(" ")
            if topic.endswith("/reading"):
                try:
                    seqs.add(json.loads(payload)["seq"])
                except (ValueError, KeyError):
                    pass
        return seqs

    def close(self):
        stop_process(self.proc)


# ---------------------------------------------------------------- proxies

class Listener:
    """Accepts connections on a free port and records the first line each
    sends; answers nothing.  Stands for a proxy tryggd must not use."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.seen = []
        self.closing = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.closing:
            ready, _, _ = select.select([self.sock], [], [], 0.2)
            if not ready:
                continue
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._accepted(conn)

    def _accepted(self, conn):
        conn.settimeout(1.0)
        try:
            self.seen.append(conn.recv(200).split(b"\r\n")[0].decode("latin-1"))
        except OSError:
            self.seen.append("(nothing)")
        conn.close()

    def close(self):
        self.closing = True
        self.thread.join(timeout=2)
        self.sock.close()


class ConnectProxy(Listener):
    """A minimal HTTP CONNECT proxy: records the request line, connects to
    the target and relays both ways."""

    def _accepted(self, conn):
        threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        upstream = None
        try:
            request = b""
            conn.settimeout(5.0)
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(1024)
                if not chunk:
                    return
                request += chunk
            head, _, rest = request.partition(b"\r\n\r\n")
            line = head.split(b"\r\n")[0].decode("latin-1")
            self.seen.append(line)
            m = re.match(r"CONNECT (\S+):(\d+) HTTP/1\.[01]$", line)
            if not m:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                return
            upstream = socket.create_connection((m.group(1), int(m.group(2))), timeout=5)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            conn.settimeout(None)
            upstream.settimeout(None)
            sockets = [conn, upstream]
            while not self.closing:
                ready, _, _ = select.select(sockets, [], [], 0.2)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is conn else conn).sendall(data)
        except OSError:
            return
        finally:
            if upstream:
                upstream.close()
            conn.close()


# ---------------------------------------------------------------- tryggd

class Run:
    """One tryggd to its end: exit status, output lines with the time each
    arrived (seconds since start), wall time."""

    def __init__(self, tryggd, conf, env):
        self.lines = []
        t0 = time.monotonic()
        proc = subprocess.Popen([tryggd, "-c", conf], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env)
        reader = threading.Thread(target=self._read, args=(proc, t0), daemon=True)
        reader.start()
        try:
            self.status = proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            stop_process(proc)
            self.status = None
        reader.join(timeout=5)
        self.wall = time.monotonic() - t0

    def _read(self, proc, t0):
        for raw in proc.stdout:
            self.lines.append((time.monotonic() - t0, raw.decode("utf-8", "replace").rstrip("\n")))

    @property
    def text(self):
        return "\n".join(line for _, line in self.lines)

    def matching(self, pattern):
        return [(t, line) for t, line in self.lines if re.search(pattern, line)]

    def readings(self):
        m = self.matching(r"stopped: (\d+) readings")
        return int(re.search(r"stopped: (\d+) readings", m[-1][1]).group(1)) if m else None

    def describe(self):
        if self.status is None:
            return f"no exit within {RUN_TIMEOUT_S} s"
        return f"exit {self.status}" if self.status >= 0 else f"killed by signal {-self.status}"


class Test:
    def __init__(self, tryggd, source, work, broker, checks):
        self.tryggd = tryggd
        self.source = source
        self.work = work
        self.broker = broker
        self.checks = checks
        self.outputs = []          # every text tryggd wrote, for the secrets check
        self.count = 0

    def config(self, name, mqtt_lines, minutes=10, drain_s=10):
        """A simulation of one light sensor every 5 s for `minutes`, and
        [mqtt] with mqtt_lines; returns (path, topic prefix)."""
        self.count += 1
        prefix = f"tlstest{self.count}"
        directory = os.path.join(self.work, name)
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "tryggd.conf")
        end_minute = minutes
        lines = [
            "[gateway]",
            f"id = tls-{self.count:02d}",
            "district = Årby",
            "window = 60",
            f"state_dir = {os.path.join(directory, 'state')}",
            "",
            "[simulation]",
            "start = 2026-11-02T18:00:00Z",
            f"end = 2026-11-02T18:{end_minute:02d}:00Z",
            "speed = 0",
            f"drain_timeout = {drain_s}",
            f"profiles = {os.path.join(self.source, 'seeds', 'districts.ini')}",
            "",
            "[mqtt]",
            f"topic_prefix = {prefix}",
            *mqtt_lines,
            "",
            "[sensor.sky]",
            "type = light",
            "driver = sim",
            "interval = 5",
        ]
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return path, prefix

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if k not in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "CREDENTIALS_DIRECTORY")}
        env["TRYGGD_DEBUG"] = "1"
        env.update(extra)
        return env

    def run(self, conf, **extra):
        run = Run(self.tryggd, conf, self.env(**extra))
        self.outputs.append(run.text)
        return run

    def delivering(self, title, mqtt_lines, **extra):
        """A run that must deliver every reading; returns it."""
        print(title, flush=True)
        conf, prefix = self.config(re.sub(r"\W+", "-", title)[:40], mqtt_lines)
        subscriber = Subscriber(self.broker, prefix, os.path.join(os.path.dirname(conf), "received.txt"))
        try:
            if not self.checks.expect(subscriber.wait_ready(), "the subscriber is subscribed"):
                return None
            run = self.run(conf, **extra)
            self.checks.expect(run.status == 0, f"exit 0 after {run.wall:.1f} s (got {run.describe()})",
                               indent(run.text))
            readings = run.readings()
            deadline = time.monotonic() + 10
            while readings and len(subscriber.readings()) < readings and time.monotonic() < deadline:
                time.sleep(0.1)
            got = subscriber.readings()
            self.checks.expect(readings and len(got) == readings and max(got) - min(got) + 1 == readings,
                               f"all {readings} readings arrived (got {len(got)} distinct seq)", indent(run.text))
            self.checks.expect(not run.matching(r"error: "), "no error line", indent(run.text))
            return run
        finally:
            subscriber.close()

    def failing(self, title, mqtt_lines, **extra):
        """A run that cannot connect: DRAIN_S seconds of tries; returns it."""
        print(title, flush=True)
        conf, _ = self.config(re.sub(r"\W+", "-", title)[:40], mqtt_lines, minutes=2, drain_s=DRAIN_S)
        run = self.run(conf, **extra)
        self.checks.expect(run.status == EX_TEMPFAIL,
                           f"exit {EX_TEMPFAIL}: gave up at the end, no crash (got {run.describe()})",
                           indent(run.text))
        return run

    def one_clear_line(self, run, pattern, what):
        """Exactly one 'cannot connect' line at warning or error level, an
        error matching pattern; then quiet tries with a growing wait."""
        said = run.matching(r"(error|warning): mqtt: cannot connect")
        self.checks.expect(len(said) == 1, f"one line about it (got {len(said)})", indent(run.text))
        self.checks.expect(len(said) == 1 and re.search(pattern, said[0][1]) and "error: " in said[0][1],
                           f"an error line that says {what}", indent(run.text))
        # Every try after the first is a debug line; each one takes Paho
        # about a second on top of the wait (0.5 s, then doubling to 5 s,
        # each spread by 20 %).
        first = [t for t, _ in run.matching(r"mqtt: cannot connect")][:1]
        tries = first + [t for t, _ in run.matching("^" + LOG_START + r"mqtt: still cannot connect: ")]
        gaps = [b - a for a, b in zip(tries, tries[1:])]
        shown = ", ".join(f"{gap:.1f}" for gap in gaps)
        self.checks.expect(3 <= len(tries) <= 10 and len(gaps) >= 2 and gaps[-1] >= gaps[0] + 0.8,
                           f"tried {len(tries)} times in {DRAIN_S} s, waiting longer each time (gaps {shown} s)",
                           indent(run.text))


def write(path, text, mode):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)


def key_lines(path):
    """The body lines of a PEM key: none may show up anywhere."""
    with open(path, encoding="ascii") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("-----")]


def main(argv):
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR")
    tryggd, source = (os.path.abspath(a) for a in argv[1:])
    checks = Checks()
    work = tempfile.mkdtemp(prefix="mqtt_tls-")
    broker = None
    listeners = []
    try:
        pki = os.path.join(work, "pki")
        os.makedirs(pki)
        make_pki(pki)
        os.makedirs(os.path.join(work, "broker"))
        broker = Broker(os.path.join(work, "broker"), pki)
        if not broker.start():
            broker.close()
            broker = Broker(os.path.join(work, "broker"), pki)   # a port was taken meanwhile: new ones
            if not broker.start():
                sys.exit(f"FAIL: mosquitto did not start; see {broker.log}")
        test = Test(tryggd, source, work, broker, checks)
        tls = broker.ports["tls"]

        # The password and the client key as systemd's LoadCredential= gives them.
        credentials = os.path.join(work, "credentials")
        os.makedirs(credentials)
        with open(os.path.join(credentials, "mqtt-password"), "w", encoding="utf-8") as f:
            f.write(PASSWORD + "\n")
        shutil.copy(os.path.join(pki, "client.key"), os.path.join(credentials, "client.key"))
        for name in os.listdir(credentials):
            os.chmod(os.path.join(credentials, name), 0o400)
        with_credentials = {"CREDENTIALS_DIRECTORY": credentials}
        tls_lines = [
            f"ca_file = {os.path.join(pki, 'ca.crt')}",
            f"cert_file = {os.path.join(pki, 'client.crt')}",
            "key_file = client.key",
            "username = tryggd",
            "password_file = mqtt-password",
        ]

        # 1. TLS, 3.1.1, credentials from $CREDENTIALS_DIRECTORY.
        run = test.delivering("TLS, MQTT 3.1.1, password and key from $CREDENTIALS_DIRECTORY",
                              [f"uri = ssl://127.0.0.1:{tls}", "version = 3.1.1", *tls_lines], **with_credentials)
        if run:
            checks.expect(run.matching(rf"connected to ssl://127\.0\.0\.1:{tls}"), "connected over TLS",
                          indent(run.text))
        conf, _ = test.config("check", [f"uri = ssl://127.0.0.1:{tls}", *tls_lines])
        check = subprocess.run([tryggd, "-c", conf, "--check"], capture_output=True, text=True,
                               env=test.env(**with_credentials))
        test.outputs.append(check.stdout + check.stderr)
        checks.expect(check.returncode == 0 and
                      f"password from {os.path.join(credentials, 'mqtt-password')}" in check.stdout and
                      f"key {os.path.join(credentials, 'client.key')}" in check.stdout,
                      "--check: password and key from $CREDENTIALS_DIRECTORY, shown by where they are",
                      indent(check.stdout + check.stderr))

        # 2. TLS by host name, MQTT 5.
        test.delivering("TLS by host name (localhost), MQTT 5",
                        [f"uri = mqtts://localhost:{tls}", "version = 5", *tls_lines], **with_credentials)

        # 3. Plain, both versions; a password file readable by everyone.
        write(os.path.join(work, "plain-password"), PASSWORD + "\n", 0o644)
        for version in ("3.1.1", "5"):
            run = test.delivering(f"plain MQTT {version}, password in clear",
                                  [f"uri = tcp://127.0.0.1:{broker.ports['plain']}", f"version = {version}",
                                   "username = tryggd", f"password_file = {os.path.join(work, 'plain-password')}"])
            if run:
                checks.expect(run.matching(r"warning: mqtt: the password goes to the broker unencrypted") and
                              run.matching(r"warning: mqtt: every user of this board can read the password"),
                              "warned: password in clear, and readable by every user", indent(run.text))

        # 4. The wrong CA.
        run = test.failing("a CA that did not sign the broker's certificate",
                           [f"uri = ssl://127.0.0.1:{tls}",
                            f"ca_file = {os.path.join(pki, 'stranger-ca.crt')}", *tls_lines[1:]],
                           **with_credentials)
        test.one_clear_line(run, r"the broker's certificate is not trusted: .*stranger-ca\.crt",
                            "the certificate is not trusted, checked against stranger-ca.crt")

        # 5. The wrong host: the certificate is for other.example.
        run = test.failing("a certificate for another host",
                           [f"uri = ssl://localhost:{broker.ports['other']}", *tls_lines], **with_credentials)
        test.one_clear_line(run, r"certificate is for other\.example, not for localhost",
                            "the certificate is for other.example, not for localhost")

        # 6. The wrong password, both versions.
        write(os.path.join(work, "wrong-password"), WRONG_PASSWORD + "\n", 0o600)
        for version in ("3.1.1", "5"):
            lines = [line for line in tls_lines if not line.startswith("password_file")]
            run = test.failing(f"a wrong password, MQTT {version}",
                               [f"uri = ssl://127.0.0.1:{tls}", f"version = {version}", *lines,
                                f"password_file = {os.path.join(work, 'wrong-password')}"], **with_credentials)
            test.one_clear_line(run, r"the broker refused tryggd: not authori[sz]ed \(see username and "
                                     r"password_file\)", "the broker refused tryggd: not authorised")

        # 7. Proxies: the environment's is not used, the configured one is.
        unused = Listener()
        listeners.append(unused)
        run = test.delivering("https_proxy in the environment is not used",
                              [f"uri = ssl://127.0.0.1:{tls}", *tls_lines],
                              https_proxy=f"http://127.0.0.1:{unused.port}",
                              http_proxy=f"http://127.0.0.1:{unused.port}", **with_credentials)
        checks.expect(not unused.seen, f"nothing came to the environment's proxy (got {unused.seen})")
        if run:
            checks.expect(run.matching(r"mqtt: https_proxy in the environment is not used") and
                          not run.matching(str(unused.port)),
                          "said so, naming the variable, not its value", indent(run.text))
        proxy = ConnectProxy()
        listeners.append(proxy)
        run = test.delivering("proxy = HOST:PORT, over TLS",
                              [f"uri = ssl://127.0.0.1:{tls}", *tls_lines, f"proxy = 127.0.0.1:{proxy.port}"],
                              **with_credentials)
        checks.expect(f"CONNECT 127.0.0.1:{tls} HTTP/1.1" in proxy.seen,
                      f"tryggd went through the configured proxy (it saw {proxy.seen})")

        # 8. No secret anywhere.
        print("secrets", flush=True)
        everything = "\n".join(test.outputs)
        secrets = [PASSWORD, WRONG_PASSWORD, *key_lines(os.path.join(pki, "client.key"))]
        leaked = [s for s in secrets if s in everything]
        checks.expect(not leaked, f"no password and no line of the client key in {len(test.outputs)} outputs "
                                  f"({len(everything.splitlines())} lines, TRYGGD_DEBUG=1)",
                      f"        leaked: {len(leaked)} of {len(secrets)}")
    finally:
        for listener in listeners:
            listener.close()
        if broker:
            broker.close()
        shutil.rmtree(work, ignore_errors=True)

    if checks.failures:
        print(f"\n{len(checks.failures)} check(s) failed:")
        for failure in checks.failures:
            print(f"  - {failure}")
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))   # the finally above still runs
    sys.exit(main(sys.argv))
