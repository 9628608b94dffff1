#!/usr/bin/env python3
"""`tryggctl watch` against the fixture's broker.

    test_watch.py TRYGGD SOURCE_DIR SERVERS_DIR TRYGGCTL

  1. Crafted messages, published with mosquitto_pub: a retained status
     before the watch starts, then readings numbered 1, 2, 3, 6, 6, a window,
     a reading of 1 MiB (over the watch's 64 KiB: not read, one line with
     its size) and an alert.  Two watches at once, one for people and one
     with --json, each with --count; their output is held to the expected
     lines exactly (times in UTC: CTest sets TZ).
  2. --count not reached within --timeout: exit status 75, no output.
  3. A real tryggd (simulated sensors on the real clock, 2 s windows) for a
     few seconds, watched with -c and its config: the status online, at
     least one window per sensor, and neither a gap nor a repeat in seq;
     the --json watch of the same run gives one JSON object per line.
  4. TLS and a password, as [mqtt] gives them, against a mosquitto of this
     test's own (a CA made here with the openssl command line): the
     retained status comes through; a wrong password and a CA that did not
     sign the broker's certificate each end the watch with 69 and a reason;
     the password is never shown.

Exit 0 when all hold, 1 with the list of what did not.  The working
directory is kept on failure and printed.
"""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

DISTRICT, DISTRICT_SLUG = "Årby", "arby"
WATCH_START_S = 15        # for a watch to connect and show the retained status
WATCH_END_S = 20          # for a watch to see the rest and stop by itself
SIM_WINDOW_S = 2
SIM_WATCH_S = 7           # of a real tryggd, watched
SENSORS = {
    "sky": ["type = light", "driver = sim", "interval = 1", "seed = 21"],
    "lamp-1": ["type = lamp", "driver = sim", "interval = 1", "light = sky", "seed = 22"],
    "door": ["type = footfall", "driver = sim", "seed = 23"],
}


class Problems:
    def __init__(self):
        self.items = []

    def expect(self, condition, what, detail=""):
        print(f"  {'ok  ' if condition else 'FAIL'}  {what}" + ("" if condition or not detail else f":\n{detail}"))
        if not condition:
            self.items.append(what)
        return condition


def iso(t):
    """RFC 3339 UTC with milliseconds, as tryggd writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t))) + f".{int(t * 1000) % 1000:03d}Z"


def hms(t):
    return time.strftime("%H:%M:%S", time.gmtime(int(t)))


class Watch:
    """tryggctl watch ARGS, its output read line by line as it comes."""

    def __init__(self, tryggctl, args, env):
        self.proc = subprocess.Popen([tryggctl, "watch", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=env)
        self.lines, self.queue, self.err, self.ended = [], queue.Queue(), [], False
        threading.Thread(target=self._read, args=(self.proc.stdout, self.queue), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, None), daemon=True).start()

    def _read(self, stream, into):
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            (into.put(line) if into is not None else self.err.append(line))
        if into is not None:
            into.put(None)

    def wait_line(self, timeout_s):
        """The next line, or None at the end or when none came in time."""
        if self.ended:
            return None
        try:
            line = self.queue.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if line is None:
            self.ended = True
        else:
            self.lines.append(line)
        return line

    def finish(self, timeout_s):
        """Every line until the end; the exit status (None: still running, killed)."""
        deadline = time.monotonic() + timeout_s
        while self.wait_line(max(0.1, deadline - time.monotonic())) is not None:
            if time.monotonic() > deadline:
                break
        try:
            return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.finish(10)


def publish(pub, info, topic, payload, retain=False, work=None):
    """payload None: an empty message; a long one (more than an argument
    may hold) goes through a file in work."""
    args = [pub, "-h", "127.0.0.1", "-p", str(info["mqtt_port"]), "-q", "1", "-t", topic]
    args += ["-r"] if retain else []
    if payload is None:
        args += ["-n"]
    elif len(payload) > 65536:
        path = os.path.join(work, "payload")
        with open(path, "w", encoding="utf-8") as f:
            f.write(payload)
        args += ["-f", path]
    else:
        args += ["-m", payload]
    subprocess.run(args, check=True, capture_output=True, timeout=10)


def compare(problems, what, got, expected):
    same = got == expected
    detail = ""
    if not same:
        detail = "\n".join(f"    {'  ' if g == e else '!='} got      {g!r}\n       expected {e!r}"
                           for g, e in zip(got + [None] * len(expected), expected + [None] * len(got)))
    problems.expect(same, what, detail)


# ---------------------------------------------------------------- 1. crafted messages

def reading(t, seq, sensor, kind, value, unit, gateway_id, direction=None):
    msg = {"ts": iso(t), "seq": seq, "gateway": gateway_id, "district": DISTRICT, "sensor": sensor,
           "type": kind, "value": value, "unit": unit}
    if direction:
        msg["dir"] = direction
    return json.dumps(msg, ensure_ascii=False, separators=(",", ":"))


# Over the watch's bound (WATCH_MESSAGE_MAX, 64 KiB), and a reading all the
# same: only its size keeps it from being read.
HUGE = 1 << 20


def padded(text, size):
    """text with blanks after it, size bytes in UTF-8."""
    return text + " " * (size - len(text.encode()))


def crafted(problems, tryggctl, pub, info, env, token, work):
    gateway_id = f"watch-{token}"
    prefix = f"tryggtest-{token}"
    base = f"{prefix}/{DISTRICT_SLUG}/{gateway_id}"
    print(f"1. crafted messages under {base}/")

    t0 = time.time() - 1
    status = json.dumps({"state": "online", "version": "0.1.0", "ts": iso(t0)}, separators=(",", ":"))
    publish(pub, info, f"{base}/status", status, retain=True)

    common = ["--uri", info["mqtt_uri"], "--district", DISTRICT, "--gateway", gateway_id, "--prefix", prefix,
              "--count", "9", "--timeout", str(WATCH_START_S + WATCH_END_S)]
    human, machine = Watch(tryggctl, common, env), Watch(tryggctl, [*common, "--json"], env)
    try:
        first = [w.wait_line(WATCH_START_S) for w in (human, machine)]
        if not problems.expect(None not in first, "both watches show the retained status first",
                               f"    {first!r}; stderr {human.err + machine.err!r}"):
            return

        t = time.time()
        messages = [
            (f"{base}/door/reading", reading(t, 1, "door", "footfall", 1, "count", gateway_id, "in"), False),
            (f"{base}/sky/reading", reading(t, 2, "sky", "light", 412.53, "lx", gateway_id), False),
            (f"{base}/lamp-1/reading", reading(t, 3, "lamp-1", "lamp", 1, "on", gateway_id), False),
            (f"{base}/door/reading", reading(t, 6, "door", "footfall", 1, "count", gateway_id, "out"), False),
            (f"{base}/door/reading", reading(t, 6, "door", "footfall", 1, "count", gateway_id, "out"), False),
            (f"{base}/door/window", json.dumps(
                {"start": iso(t - 60), "end": iso(t), "gateway": gateway_id, "district": DISTRICT,
                 "sensor": "door", "type": "footfall", "count": 2, "in": 1, "out": 1, "samples": 2,
                 "coverage": 1}, ensure_ascii=False, separators=(",", ":")), False),
            (f"{base}/door/reading", padded(reading(t, 7, "door", "footfall", 1, "count", gateway_id), HUGE), False),
            (f"{base}/sky/alert", json.dumps(
                {"state": "covered", "since": iso(t - 1800), "detail": "below 1 lx for 30 min while the sun is up",
                 "ts": iso(t), "gateway": gateway_id, "district": DISTRICT, "sensor": "sky", "type": "light",
                 "problems": ["covered"]}, ensure_ascii=False, separators=(",", ":")), True),
        ]
        huge_from = huge_until = None
        for topic, payload, retain in messages:
            huge = len(payload) > 65536
            huge_from = time.time() if huge else huge_from
            publish(pub, info, topic, payload, retain, work)
            huge_until = time.time() if huge else huge_until
        statuses = [w.finish(WATCH_END_S) for w in (human, machine)]
    finally:
        for w in (human, machine):
            w.stop()
        # Nothing retained left behind on the shared broker.
        publish(pub, info, f"{base}/status", None, retain=True)
        publish(pub, info, f"{base}/sky/alert", None, retain=True)

    problems.expect(statuses == [0, 0], "both watches stop by themselves after 9 messages, exit 0",
                    f"    exit {statuses}; stderr {human.err + machine.err!r}")
    now = hms(t)
    # The message not read has no time of its own: its line shows when it
    # arrived, a second the publishing took.
    huge_line = f"{now}  door        reading too large, not read: {HUGE} bytes (at most 65536)"
    for line in human.lines:
        if line[8:] == huge_line[8:] and line[:8] in {hms(x) for x in range(int(huge_from), int(huge_until) + 2)}:
            huge_line = line
    compare(problems, "the human view, line by line", human.lines, [
        f"{hms(t0)}  gateway     online since {hms(t0)}, tryggd 0.1.0 (retained)",
        f"{now}  door        +1 in  seq 1",
        f"{now}  sky         412.5 lx  seq 2",
        f"{now}  lamp-1      on  seq 3",
        f"{now}  gateway     seq jumped from 3 to 6: 2 readings missing",
        f"{now}  door        +1 out  seq 6",
        f"{now}  door        seq 6 again (delivered twice)",
        f"{now}  door        window {hms(t - 60)} (1 min): count 2 (in 1, out 1), coverage 100 %",
        huge_line,
        f"{now}  sky         ALERT covered since {hms(t - 1800)}: below 1 lx for 30 min while the sun is up",
    ])
    # The payloads exactly as published; a retained flag only on what the
    # broker held before the watch subscribed.
    expected = [f'{{"topic":"{base}/status","retained":true,"payload":{status}}}']
    expected += [f'{{"topic":"{topic}","retained":false,"payload":{payload}}}' if len(payload) <= 65536 else
                 f'{{"topic":"{topic}","retained":false,"payload":null,"too_large":{HUGE}}}'
                 for topic, payload, _ in messages]
    compare(problems, "the JSON lines, byte for byte", machine.lines, expected)
    parsed = [json.loads(line) for line in machine.lines]
    problems.expect(all(isinstance(p["payload"], dict) or p.get("too_large") == HUGE for p in parsed),
                    "every JSON line parses, payload an object, or null with too_large")


# ---------------------------------------------------------------- 2. count not reached

def count_not_reached(problems, tryggctl, info, env, token):
    print("2. --count not reached within --timeout")
    watch = Watch(tryggctl, ["--uri", info["mqtt_uri"], "--district", "nowhere", "--gateway", f"none-{token}",
                             "--count", "3", "--timeout", "1.5"], env)
    status = watch.finish(15)
    problems.expect(status == 75 and watch.lines == [], "exit 75 and nothing on stdout",
                    f"    exit {status}, stdout {watch.lines!r}")
    problems.expect(any("0 of 3 messages" in line for line in watch.err), "stderr says how many came",
                    f"    {watch.err!r}")


# ---------------------------------------------------------------- 3. a real tryggd

def write_config(path, work, source, info, gateway_id, prefix):
    lines = [
        "[gateway]", f"id = {gateway_id}", f"district = {DISTRICT}", f"window = {SIM_WINDOW_S}",
        f"state_dir = {os.path.join(work, 'state')}", "clock = trusted", "",
        "[simulation]", f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}", "",
        "[mqtt]", f"uri = {info['mqtt_uri']}", f"topic_prefix = {prefix}",
    ]
    for name, keys in SENSORS.items():
        lines += ["", f"[sensor.{name}]", *keys]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def real_tryggd(problems, tryggd, tryggctl, pub, source, info, env, work, token):
    gateway_id = f"watchsim-{token}"
    prefix = f"tryggtest-{token}"
    print(f"3. a real tryggd, {prefix}/{DISTRICT_SLUG}/{gateway_id}/, watched for {SIM_WATCH_S} s")
    config = os.path.join(work, "tryggd.conf")
    write_config(config, work, source, info, gateway_id, prefix)
    log = open(os.path.join(work, "tryggd.log"), "wb")
    daemon = subprocess.Popen([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        watches = [Watch(tryggctl, ["-c", config, "--timeout", str(SIM_WATCH_S), *extra], env)
                   for extra in ([], ["--json"])]
        statuses = [w.finish(SIM_WATCH_S + 15) for w in watches]
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        publish(pub, info, f"{prefix}/{DISTRICT_SLUG}/{gateway_id}/status", None, retain=True)
        for name in SENSORS:
            publish(pub, info, f"{prefix}/{DISTRICT_SLUG}/{gateway_id}/{name}/alert", None, retain=True)

    human, machine = watches
    with open(os.path.join(work, "watch.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(human.lines) + "\n")
    shown = "\n".join(f"    {line}" for line in human.lines[:40])
    problems.expect(statuses == [0, 0], "both watches stop after --timeout with exit 0",
                    f"    exit {statuses}; stderr {human.err + machine.err!r}")
    problems.expect(any(re.fullmatch(r"\d\d:\d\d:\d\d  gateway     online since \d\d:\d\d:\d\d, tryggd \S+"
                                     r"( \(retained\))?", line) for line in human.lines),
                    "the status is shown online", shown)
    for name in SENSORS:
        pattern = rf"\d\d:\d\d:\d\d  {re.escape(f'{name:<10}')}  window \d\d:\d\d:\d\d \({SIM_WINDOW_S} s\): .*coverage .*%"
        problems.expect(any(re.fullmatch(pattern, line) for line in human.lines),
                        f"at least one window of {name}", shown)
    problems.expect(any(re.fullmatch(r"\S+  sky         [\d.]+ lx  seq \d+", line) for line in human.lines),
                    "readings of sky with their seq", shown)
    odd = [line for line in human.lines if re.search(r"seq jumped|again \(delivered|seq went back|not understood",
                                                     line)]
    problems.expect(not odd, "no gap, repeat or message not understood in a healthy run", "\n".join(odd))

    base = f"{prefix}/{DISTRICT_SLUG}/{gateway_id}/"
    bad = []
    for line in machine.lines:
        try:
            item = json.loads(line)
            if not (item["topic"].startswith(base) and isinstance(item["retained"], bool)
                    and isinstance(item["payload"], dict)):
                bad.append(line)
        except (ValueError, KeyError, TypeError):
            bad.append(line)
    problems.expect(machine.lines and not bad, "the --json watch: one JSON object per line, under the prefix",
                    "\n".join(bad[:5]) or "    (no line)")
    windows = sum(1 for line in machine.lines if json.loads(line)["topic"].endswith("/window"))
    problems.expect(windows >= len(SENSORS), "the --json watch saw the windows too", f"    {windows} windows")


# ---------------------------------------------------------------- 4. TLS and a password

PASSWORD = "w4tch-s3cret-of-the-mast"


def make_pki(directory, openssl):
    """ca.crt, server.crt/key for 127.0.0.1, stranger-ca.crt (signs nothing here)."""
    def run(*args):
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True, stdin=subprocess.DEVNULL)

    for name, subject in (("ca", "/CN=watch test CA"), ("stranger-ca", "/CN=a CA nobody here trusts")):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt",
            "-days", "2", "-subj", subject)
    run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    with open(os.path.join(directory, "server.ext"), "w", encoding="utf-8") as f:
        f.write("basicConstraints = CA:FALSE\nsubjectAltName = IP:127.0.0.1, DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "server.ext")


def tls_and_password(problems, tryggctl, servers, work, env, token):
    print("4. TLS and a password, on a mosquitto of this test's own")
    pki = os.path.join(work, "pki")
    os.makedirs(pki)
    make_pki(pki, servers.find_program("openssl"))
    passwords = os.path.join(work, "passwd")
    subprocess.run([servers.find_program("mosquitto_passwd"), "-b", "-c", passwords, "watcher", PASSWORD],
                   check=True, capture_output=True)
    port = servers.free_port()
    conf = os.path.join(work, "mosquitto-tls.conf")
    with open(conf, "w", encoding="utf-8") as f:
        # As root, mosquitto would become user mosquitto and could not read
        # the keys in our folder.
        f.write(("user root\n" if os.geteuid() == 0 else "") +
                f"listener {port} 127.0.0.1\n"
                f"cafile {pki}/ca.crt\ncertfile {pki}/server.crt\nkeyfile {pki}/server.key\n"
                f"password_file {passwords}\nallow_anonymous false\npersistence false\n")
    log = open(os.path.join(work, "mosquitto-tls.log"), "wb")
    broker = subprocess.Popen([servers.find_program("mosquitto"), "-c", conf], stdout=log, stderr=log,
                              stdin=subprocess.DEVNULL)
    try:
        base = f"tryggtest-{token}/{DISTRICT_SLUG}/watchtls-{token}"
        status = json.dumps({"state": "online", "version": "0.1.0", "ts": iso(time.time())}, separators=(",", ":"))
        deadline = time.monotonic() + 10
        while True:   # until the broker listens
            published = subprocess.run(
                [servers.find_program("mosquitto_pub"), "-h", "127.0.0.1", "-p", str(port), "--cafile",
                 f"{pki}/ca.crt", "-u", "watcher", "-P", PASSWORD, "-q", "1", "-r", "-t", f"{base}/status",
                 "-m", status], capture_output=True, timeout=10)
            if published.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if not problems.expect(published.returncode == 0, "the TLS broker takes a retained status",
                               f"    {published.stderr!r}"):
            return

        def watch(name, password, ca):
            with open(os.path.join(work, f"{name}.password"), "w", encoding="utf-8") as f:
                f.write(password + "\n")
            os.chmod(os.path.join(work, f"{name}.password"), 0o600)
            config = os.path.join(work, f"{name}.conf")
            with open(config, "w", encoding="utf-8") as f:
                f.write("\n".join([
                    "[gateway]", f"id = watchtls-{token}", f"district = {DISTRICT}", "",
                    "[mqtt]", f"uri = ssl://127.0.0.1:{port}", f"topic_prefix = tryggtest-{token}",
                    "username = watcher", f"password_file = {name}.password", f"ca_file = {pki}/{ca}", "",
                    "[sensor.door]", "type = footfall", "driver = sim", ""]))
            w = Watch(tryggctl, ["-c", config, "--count", "1", "--timeout", "20"], env)
            return w.finish(40), w

        status_ok, good = watch("good", PASSWORD, "ca.crt")
        problems.expect(status_ok == 0 and len(good.lines) == 1 and
                        re.fullmatch(r"\d\d:\d\d:\d\d  gateway     online since \d\d:\d\d:\d\d, tryggd 0\.1\.0 "
                                     r"\(retained\)", good.lines[0]) is not None,
                        "over TLS with the password: the retained status, exit 0",
                        f"    exit {status_ok}, stdout {good.lines!r}, stderr {good.err!r}")

        status_bad, bad = watch("wrong", "not-the-password", "ca.crt")
        problems.expect(status_bad == 69 and bad.lines == [] and
                        any(re.search(r"the broker refused the watch: (bad user name or password|not authorised)",
                                      line) for line in bad.err),
                        "a wrong password: exit 69, the broker's refusal in words",
                        f"    exit {status_bad}, stderr {bad.err!r}")

        status_ca, stranger = watch("stranger", PASSWORD, "stranger-ca.crt")
        problems.expect(status_ca == 69 and stranger.lines == [] and
                        any("cannot connect to the broker" in line for line in stranger.err) and
                        any("TLS" in line for line in stranger.err),
                        "a CA that did not sign the broker's certificate: exit 69, a TLS reason",
                        f"    exit {status_ca}, stderr {stranger.err!r}")
        shown = good.lines + good.err + bad.lines + bad.err + stranger.lines + stranger.err
        problems.expect(not any(PASSWORD in line for line in shown), "the password is never shown")
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait()
        log.close()


# ---------------------------------------------------------------- main

def main(argv):
    if len(argv) != 5:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR SERVERS_DIR TRYGGCTL")
    tryggd, source, servers_dir, tryggctl = (os.path.abspath(a) for a in argv[1:])
    sys.path.insert(0, os.path.join(source, "scripts", "lib"))
    sys.dont_write_bytecode = True
    import servers  # noqa: E402 (the path comes from the arguments)

    info = servers.load(servers_dir)
    pub = servers.find_program("mosquitto_pub")
    token = uuid.uuid4().hex[:10]
    work = os.path.join(os.path.dirname(servers_dir), f"watch-{token}")
    os.makedirs(work)
    env = dict(os.environ, TZ="UTC")
    env.pop("NO_COLOR", None)

    problems = Problems()
    crafted(problems, tryggctl, pub, info, env, token, work)
    count_not_reached(problems, tryggctl, info, env, token)
    real_tryggd(problems, tryggd, tryggctl, pub, source, info, env, work, token)
    tls_and_password(problems, tryggctl, servers, work, env, token)

    if problems.items:
        print(f"FAIL: {len(problems.items)} problem(s); work dir kept: {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
