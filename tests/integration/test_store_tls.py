#!/usr/bin/env python3
"""The store over HTTPS and through a proxy, as [influx] configures them.

    test_store_tls.py TRYGGD SOURCE_DIR WORK_PARENT

In a temporary folder, with the openssl command line: a CA and a server
certificate for 127.0.0.1 (and a second CA that signed nothing of it).  The
scripted store (fake_store.py) answers over TLS with that certificate.

  1. ca_file = the right CA: every window stored.
  2. ca_file = the other CA: nothing stored, one warning that names the
     certificate problem, the points stay in the spool (exit 75).
  3. The other CA with tls_verify = no: stored (the technician's way out,
     said in the --check summary as NOT verified).
  4. proxy = the scripted store, url = a host that does not exist: the
     request goes to the proxy with the store's absolute URL, and is stored.
  5. No proxy key, but http_proxy and HTTPS_PROXY in the environment point
     at a closed port: tryggd ignores them and writes to the store directly.

Exit 0 when all hold, 1 with the list of what did not.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile

import capture
import fake_store
from capture import Problems

START = "2026-11-02T06:00:00Z"
END = "2026-11-02T06:10:00Z"
WINDOWS = 10
RUN_TIMEOUT_S = 60


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(directory):
    """ca.crt signed server.crt (127.0.0.1); other.crt is a CA of its own."""
    for name in ("ca", "other"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt",
                "-days", "2", "-subj", f"/CN=tryggd test {name}", cwd=directory)
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1", cwd=directory)
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "server.ext", cwd=directory)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(tryggd, source, work, name, influx, env=None):
    """A simulated 10 minutes at full speed; (exit status, log)."""
    config = os.path.join(work, f"{name}.conf")
    capture.write_config(config, [
        ("gateway", [f"id = tls-{name}", "district = Årby", "window = 60",
                     f"state_dir = {os.path.join(work, name)}"]),
        ("simulation", [f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}", f"start = {START}",
                        f"end = {END}", "speed = 0", "drain_timeout = 3"]),
        ("influx", influx),
        *capture.sim_sensors({"door": ("footfall", {"interval": 5})}),
    ], comment="Written by tests/integration/test_store_tls.py")
    log_path = os.path.join(work, f"{name}.log")
    with open(log_path, "w") as log:
        code = subprocess.run([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              timeout=RUN_TIMEOUT_S, env=env).returncode
    with open(log_path, encoding="utf-8") as f:
        return code, f.read()


def points_of(store, gateway):
    return [line for line in store.stored.values() if f"gateway={gateway}" in line]


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR WORK_PARENT")
    tryggd, source, parent = (os.path.abspath(a) for a in argv[1:])
    if not shutil.which("openssl"):
        print("SKIP: no openssl (scripts/deps installs it)")
        return 0
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="store-tls-", dir=parent)
    make_pki(work)
    p = Problems()
    expected = 2 * WINDOWS   # a footfall point and a gateway point per window
    tls = (os.path.join(work, "server.crt"), os.path.join(work, "server.key"))
    with fake_store.FakeStore(tls=tls) as store:
        code, log = run(tryggd, source, work, "right-ca", [f"url = {store.url}",
                                                           f"ca_file = {os.path.join(work, 'ca.crt')}"])
        got = len(points_of(store, "tls-right-ca"))
        print(f"right CA: exit {code}, {got} of {expected} points")
        p.expect(code == 0 and got == expected, "https with ca_file: every point stored", f"exit {code}, {got}")

        code, log = run(tryggd, source, work, "other-ca", [f"url = {store.url}",
                                                           f"ca_file = {os.path.join(work, 'other.crt')}"])
        got = len(points_of(store, "tls-other-ca"))
        warnings = [line for line in log.splitlines() if "store:" in line and "warning" in line]
        print(f"other CA: exit {code}, {got} points; {warnings[:1]}")
        p.expect(got == 0, "https with a CA that did not sign the certificate: nothing sent", str(got))
        p.expect(code == 75, "... the points stay in the spool (exit 75)", f"exit {code}")
        p.expect(len(warnings) == 1 and "certificate" in warnings[0],
                 "... one warning, naming the certificate problem", "\n".join(warnings[:3]))

        code, log = run(tryggd, source, work, "no-verify", [f"url = {store.url}", "tls_verify = no",
                                                            f"ca_file = {os.path.join(work, 'other.crt')}"])
        got = len(points_of(store, "tls-no-verify"))
        p.expect(code == 0 and got == expected, "tls_verify = no: stored", f"exit {code}, {got}")
        summary = subprocess.run([tryggd, "-c", os.path.join(work, "no-verify.conf"), "--check"],
                                 capture_output=True, text=True).stdout
        p.expect("NOT verified" in summary, "--check says the store's certificate is NOT verified", summary)

    with fake_store.FakeStore() as store:
        # A host that cannot be resolved: only the proxy can deliver.
        code, log = run(tryggd, source, work, "proxy", ["url = http://store.invalid:8086",
                                                        f"proxy = 127.0.0.1:{store.port}"])
        got = len(points_of(store, "tls-proxy"))
        targets = {r.target.split("?")[0] for r in store.requests if r.method == "POST"}
        p.expect(code == 0 and got == expected, "proxy: stored through it", f"exit {code}, {got}")
        p.expect(targets == {"http://store.invalid:8086/write"}, "proxy: asked for the store's absolute URL",
                 str(targets))

        dead = f"http://127.0.0.1:{closed_port()}"
        env = dict(os.environ, http_proxy=dead, HTTP_PROXY=dead, https_proxy=dead, HTTPS_PROXY=dead,
                   all_proxy=dead, ALL_PROXY=dead)
        code, log = run(tryggd, source, work, "env-proxy", [f"url = {store.url}"], env=env)
        got = len(points_of(store, "tls-env-proxy"))
        p.expect(code == 0 and got == expected, "a proxy in the environment only: ignored, stored directly",
                 f"exit {code}, {got}")
    return p.verdict(work, "https with ca_file and verification, and proxies only when configured",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
