#!/usr/bin/env python3
"""No secret in anything tryggd writes, with debug messages on, through the
paths that handle secrets: a refusal, a rotated file read again, a reload.

    test_secrets_not_logged.py TRYGGD SOURCE_DIR WORK_PARENT

Every secret is distinctive (a marker and 16 random hex digits) and is
looked for as it is, by 10 digits of either end of its random part (a
secret cut short), and
base64-encoded at each of the three alignments (an HTTP Basic header
carries base64 of "user:password").  A mosquitto of its own with a
password file (no fixture) and the scripted store (fake_store.py), which
refuses with 401 until it gets the credential that is right.  tryggd runs
in real time with -v (TRYGGD_DEBUG unset), one sim sensor, window = 1:

  1. [influx] api = v2, token_file holding an old token, and [mqtt] with
     password_file holding a wrong password: the store says 401 (tryggd
     warns, then debug lines as it tries again) and the broker refuses
     (one error, then debug lines).  The token file is replaced: tryggd
     reads it again after the 401 and the store takes the points with the
     new token.  The password file is replaced and SIGHUP: MQTT connects.
     SIGTERM: exit 0.
  2. [influx] api = v1 with user and password_file, the old password: 401
     with HTTP Basic; the file replaced: taken with the new one; SIGHUP
     (the configuration reloaded), SIGTERM: exit 0.
  3. -v --check of both configurations.

Nothing of the five secrets (two tokens, two store passwords, two MQTT
passwords) in any of it.  That the right secrets really went out is
checked on the other side (the store's requests, the broker's connect).

Exit 0 when all hold, 1 with the list of what did not.  Python 3.11
standard library only.
"""

import base64
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import capture  # noqa: E402
import fake_store  # noqa: E402
from capture import Problems  # noqa: E402
from fake_store import influx_error  # noqa: E402
from mqtt_resilience import Tryggd, find_program, free_port, spawn_mosquitto, stop_process, tcp_accepts  # noqa: E402

USER = "tryggd"
WAIT_S = 20


def make_secret(kind):
    return f"{kind}-Sekr3t-{uuid.uuid4().hex[:16]}"


def forms(secret):
    """What a secret must not show up as: itself, either half of its
    random part and more (cut short at either end), and its base64 at each
    alignment within a longer text (less the characters that depend on its
    neighbours)."""
    random_part = secret.rsplit("-", 1)[1]
    found = [secret, random_part[:10], random_part[-10:]]
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret.encode()).decode()
        found.append(encoded[4:-4])
    found.append(base64.b64encode(f"{USER}:{secret}".encode()).decode())
    return found


def write_secret(path, secret):
    """Replaced whole (a new file renamed over), mode 0600."""
    temporary = path + ".new"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


class Broker:
    """mosquitto on a free loopback port; user tryggd with the password."""

    def __init__(self, directory, password):
        self.port = free_port()
        self.log = os.path.join(directory, "mosquitto.log")
        passwords = os.path.join(directory, "passwd")
        subprocess.run([find_program("mosquitto_passwd"), "-b", "-c", passwords, USER, password], check=True,
                       capture_output=True)
        os.chmod(passwords, 0o600)
        self.conf = os.path.join(directory, "mosquitto.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write("# A private broker for tests/integration/test_secrets_not_logged.py.\n"
                    + ("user root\n" if os.geteuid() == 0 else "")
                    + f"log_dest stderr\nconnection_messages true\nlistener {self.port} 127.0.0.1\n"
                    f"password_file {passwords}\nallow_anonymous false\n")
        self.proc = spawn_mosquitto(self.conf, self.log)
        deadline = time.monotonic() + 10
        while not tcp_accepts(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"FAIL: mosquitto did not start; see {self.log}")
            time.sleep(0.05)

    def close(self):
        stop_process(self.proc)


def only_with(authorization):
    """401, as influxd says it, to every write without that Authorization
    header; the rest is left to accept()."""
    def rule(request):
        if request.method != "POST" or request.header("Authorization") == authorization:
            return None
        return influx_error(401, "authorization failed")
    return rule


def write_config(path, work, source, name, broker, mqtt_password_file, influx):
    capture.write_config(path, [
        ("gateway", [f"id = secrets-{name}", "district = Årby", "window = 1",
                     f"state_dir = {os.path.join(work, name)}",
                     "clock = trusted"]),   # real time on a machine that may not run NTP
        ("simulation", [f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}"]),
        ("mqtt", [f"uri = tcp://127.0.0.1:{broker.port}", f"topic_prefix = secrets-{name}", f"username = {USER}",
                  f"password_file = {mqtt_password_file}"]),
        ("influx", influx),
        *capture.sim_sensors({"door": ("footfall", {"interval": 1})}),
    ], comment="Written by tests/integration/test_secrets_not_logged.py")


def start(tryggd, config, log_path):
    """tryggd -v, with no TRYGGD_DEBUG and no journald: -v alone turns
    debug on."""
    return Tryggd(tryggd, config, log_path,
                  wrap=lambda argv: ["env", "-u", "TRYGGD_DEBUG", "-u", "JOURNAL_STREAM", "-u",
                                     "CREDENTIALS_DIRECTORY", argv[0], "-v", *argv[1:]])


def wait_until(predicate, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def accepted_with(store, authorization):
    return any(r.header("Authorization") == authorization and r.status // 100 == 2 for r in store.writes())


def refusals(store):
    return sum(1 for r in store.writes() if r.status == 401)


def text_of(t):
    with t.lock:
        return "\n".join(line for _, line in t.lines)


def run_store_v2_and_mqtt(p, tryggd, source, work, broker, secrets, outputs):
    print("1. v2 with token_file, and MQTT with a wrong password at first")
    token_file = os.path.join(work, "influx-token")
    mqtt_password_file = os.path.join(work, "mqtt-password")
    write_secret(token_file, secrets["old token"])
    write_secret(mqtt_password_file, secrets["wrong MQTT password"])
    config = os.path.join(work, "v2.conf")
    with fake_store.FakeStore(only_with(f"Token {secrets['token']}")) as store:
        write_config(config, work, source, "v2", broker, mqtt_password_file,
                     [f"url = {store.url}", "api = v2", "org = tryggd", "bucket = trygghet",
                      f"token_file = {token_file}"])
        t = start(tryggd, config, os.path.join(work, "v2.log"))
        try:
            p.expect(wait_until(lambda: refusals(store) >= 2, WAIT_S), "the store refused the old token twice")
            p.expect(t.wait_for(r"mqtt: still cannot connect", WAIT_S) is not None,
                     "the broker refused the wrong password; -v shows the tries again (debug)", text_of(t))
            write_secret(token_file, secrets["token"])
            p.expect(wait_until(lambda: accepted_with(store, f"Token {secrets['token']}"), WAIT_S),
                     "the token file read again after the 401: the store took the points with the new token")
            write_secret(mqtt_password_file, secrets["MQTT password"])
            t.proc.send_signal(signal.SIGHUP)
            p.expect(t.wait_for(r"SIGHUP: configuration reloaded", WAIT_S) is not None, "SIGHUP: reloaded",
                     text_of(t))
            p.expect(t.wait_for(r"mqtt: connected", WAIT_S) is not None,
                     "... and MQTT connected with the new password", text_of(t))
            time.sleep(1)
            code = t.term()
        finally:
            t.close()
    text = text_of(t)
    p.expect(code == 0, "exit 0", f"exit {code}\n{text[-1500:]}")
    p.expect(re.search("warning: store: .*refused", text) is not None, "the 401 was warned about", text[-1500:])
    p.expect(re.search("error: mqtt: cannot connect .*not authori[sz]ed", text) is not None,
             "the refused password was said as an error", text[-1500:])
    outputs.append(("run with v2 and MQTT", text))
    return config


def run_store_v1(p, tryggd, source, work, broker, secrets, outputs):
    print("2. v1 with user and password_file")
    password_file = os.path.join(work, "influx-password")
    mqtt_password_file = os.path.join(work, "mqtt-password")
    write_secret(password_file, secrets["old store password"])
    config = os.path.join(work, "v1.conf")
    basic = "Basic " + base64.b64encode(f"{USER}:{secrets['store password']}".encode()).decode()
    with fake_store.FakeStore(only_with(basic)) as store:
        write_config(config, work, source, "v1", broker, mqtt_password_file,
                     [f"url = {store.url}", "api = v1", f"user = {USER}", f"password_file = {password_file}"])
        t = start(tryggd, config, os.path.join(work, "v1.log"))
        try:
            p.expect(wait_until(lambda: refusals(store) >= 2, WAIT_S), "the store refused the old password twice")
            p.expect(t.wait_for(r"store: still ", WAIT_S) is not None, "-v shows the store's tries again (debug)",
                     text_of(t))
            write_secret(password_file, secrets["store password"])
            p.expect(wait_until(lambda: accepted_with(store, basic), WAIT_S),
                     "the password file read again after the 401: the store took the points with the new one")
            p.expect(t.wait_for(r"mqtt: connected", WAIT_S) is not None, "MQTT connected", text_of(t))
            t.proc.send_signal(signal.SIGHUP)
            p.expect(t.wait_for(r"SIGHUP: configuration reloaded", WAIT_S) is not None, "SIGHUP: reloaded",
                     text_of(t))
            time.sleep(1.5)
            code = t.term()
        finally:
            t.close()
    text = text_of(t)
    p.expect(code == 0, "exit 0", f"exit {code}\n{text[-1500:]}")
    outputs.append(("run with v1", text))
    return config


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR WORK_PARENT")
    tryggd, source, parent = (os.path.abspath(a) for a in argv[1:])
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="secrets-", dir=parent)
    secrets = {name: make_secret(kind) for name, kind in (
        ("old token", "token"), ("token", "token"), ("old store password", "storepw"),
        ("store password", "storepw"), ("wrong MQTT password", "mqttpw"), ("MQTT password", "mqttpw"))}
    p = Problems()
    outputs = []
    broker = Broker(work, secrets["MQTT password"])
    try:
        configs = [run_store_v2_and_mqtt(p, tryggd, source, work, broker, secrets, outputs),
                   run_store_v1(p, tryggd, source, work, broker, secrets, outputs)]
    finally:
        broker.close()

    print("3. -v --check")
    for config in configs:
        env = {k: v for k, v in os.environ.items() if k not in ("TRYGGD_DEBUG", "CREDENTIALS_DIRECTORY")}
        check = subprocess.run([tryggd, "-v", "-c", config, "--check"], capture_output=True, text=True, env=env,
                               stdin=subprocess.DEVNULL)
        p.expect(check.returncode == 0 and "from " in check.stdout,
                 f"{os.path.basename(config)}: --check says where the secrets are", check.stdout + check.stderr)
        outputs.append((f"--check of {os.path.basename(config)}", check.stdout + check.stderr))

    print("4. the secrets in every output")
    lines = sum(len(text.splitlines()) for _, text in outputs)
    debug = sum(1 for _, text in outputs for line in text.splitlines() if "still" in line)
    print(f"  {len(outputs)} outputs, {lines} lines, {debug} of them tries said again at debug level")
    basic = "Authorization: Basic " + base64.b64encode(f"{USER}:{secrets['store password']}".encode()).decode()
    p.expect(all(any(form in text for form in forms(secrets["store password"]))
                 for text in (basic, f"password {secrets['store password']}", f"pw {secrets['store password'][:-2]}",
                              base64.b64encode(f"x{secrets['store password']}y".encode()).decode())),
             "the search finds a secret in a Basic header, as it is, cut short and base64'd anywhere (the check checked)")
    for name, secret in secrets.items():
        leaks = [(where, form) for where, text in outputs for form in forms(secret) if form in text]
        p.expect(not leaks, f"the {name} nowhere, in no form", str(leaks[:3]))
    return p.verdict(work, "no secret in any output, with debug on, through 401s, files read again and reloads",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
