#!/usr/bin/env python3
"""What tryggd does with bad input: a broken config, a missing one, and
servers it cannot reach.

    test_bad_input.py TRYGGD SOURCE_DIR SERVERS_DIR

  1. a config with several problems: exit 78, one `FILE:LINE: message` line
     per problem (all of them at once), nothing created in state_dir;
  2. a config file that does not exist: exit 78, the file named on stderr;
  3. `--check` on config/tryggd.conf: exit 0, a summary naming the gateway;
  4. a broker nobody listens on, a short simulation, drain_timeout = 2:
     exit 75 (EX_TEMPFAIL; not a crash), the broker URI on stderr;
  5. a store nobody listens on: the same, with the store URL on stderr;
  6. a sim sensor whose district has no profile: exit 78 for --check and
     a start, at the profile key's line, with the districts there are;
  7. a carriage return inside a line: exit 78, said as such at its line;
     CR LF line endings are read.

In 4 and 5 the other server is the real one from SERVERS_DIR, so only the
unreachable one can be the reason for exit 75.  Exit 0 when all hold, 1
with the list of what did not.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

EX_TEMPFAIL = 75
EX_CONFIG = 78
RUN_TIMEOUT_S = 60   # a 10-minute simulation and a 2-second drain


def run(argv, timeout_s=RUN_TIMEOUT_S):
    """(exit status or None on timeout, stdout, stderr, wall seconds)."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout_s)
        status, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        status, out, err = None, e.stdout or b"", e.stderr or b""
    return (status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
            time.monotonic() - t0)


def describe(status):
    if status is None:
        return f"no exit within {RUN_TIMEOUT_S} s"
    if status < 0:
        return f"killed by signal {-status}"
    return f"exit {status}"


def indent(text, limit=15):
    lines = text.rstrip("\n").splitlines()
    shown = lines[-limit:]
    if len(lines) > limit:
        shown.insert(0, f"... ({len(lines) - limit} lines before)")
    return "\n".join("        " + line for line in shown) or "        (empty)"


class Checks:
    def __init__(self):
        self.failures = []

    def expect(self, condition, what, detail=""):
        if condition:
            print(f"  ok    {what}")
        else:
            print(f"  FAIL  {what}" + (f"\n{detail}" if detail else ""))
            self.failures.append(what)
        return condition


def write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def simulation_config(path, work, source, gateway_id, mqtt_uri, influx_url, database):
    """Ten simulated minutes of one light sensor, 2 s to deliver at the end."""
    lines = [
        "[gateway]",
        f"id = {gateway_id}",
        "district = Årby",
        "window = 60",
        f"state_dir = {os.path.join(work, 'state-' + gateway_id)}",
        "",
        "[simulation]",
        "start = 2026-11-02T18:00:00Z",
        "end = 2026-11-02T18:10:00Z",
        "speed = 0",
        "drain_timeout = 2",
        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}",
    ]
    if mqtt_uri:
        lines += ["", "[mqtt]", f"uri = {mqtt_uri}", f"topic_prefix = tryggtest-{gateway_id}", "qos = 1"]
    if influx_url:
        lines += ["", "[influx]", f"url = {influx_url}", f"database = {database}"]
    lines += ["", "[sensor.sky]", "type = light", "driver = sim", "interval = 5"]
    write(path, lines)


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR SERVERS_DIR")
    tryggd, source, servers_dir = (os.path.abspath(a) for a in argv[1:])
    sys.path.insert(0, os.path.join(source, "scripts", "lib"))
    sys.dont_write_bytecode = True   # no __pycache__ in the source tree
    import servers  # noqa: E402 (the path comes from the arguments)

    info = servers.load(servers_dir)
    checks = Checks()
    work = tempfile.mkdtemp(prefix="bad_input-", dir=os.path.dirname(servers_dir))
    token = uuid.uuid4().hex[:8]

    # 1. Several problems in one file, each on a known line.  All must be
    # reported in one go, each as FILE:LINE: message.
    print("invalid config")
    bad = os.path.join(work, "bad.conf")
    state_dir = os.path.join(work, "must-not-exist")
    lines = [
        "[gateway]",                        # 1
        "id = not a valid id!",             # 2  spaces and '!' are not allowed
        "district = Årby",                  # 3
        "window = -60",                     # 4  not a positive number of seconds
        f"state_dir = {state_dir}",         # 5
        "",                                 # 6
        "[mqtt]",                           # 7
        "uri = tcp://127.0.0.1:1",          # 8
        "qos = 7",                          # 9  only 0, 1, 2
        "",                                 # 10
        "[sensor.door]",                    # 11
        "type = teleporter",                # 12 no such type
        "driver = sim",                     # 13
    ]
    bad_lines = {2, 4, 9, 12}
    write(bad, lines)
    status, out, err, _ = run([tryggd, "-c", bad])
    checks.expect(status == EX_CONFIG, f"exit {EX_CONFIG} (got {describe(status)})", indent(err))
    reported = set()
    pattern = re.compile(re.escape(bad) + r":(\d+): (.+)$")
    for line in err.splitlines():
        m = pattern.match(line)
        if m:
            reported.add(int(m.group(1)))
    checks.expect(bad_lines <= reported,
                  f"a FILE:LINE: message line for each broken line {sorted(bad_lines)} "
                  f"(got lines {sorted(reported)})", indent(err))
    checks.expect(len(reported & bad_lines) >= 2, "at least two problems reported together")
    checks.expect(not os.path.exists(state_dir), "nothing created in state_dir")

    # 2. A config file that is not there.
    print("missing config file")
    missing = os.path.join(work, f"no-such-{token}.conf")
    status, out, err, _ = run([tryggd, "-c", missing])
    checks.expect(status == EX_CONFIG, f"exit {EX_CONFIG} (got {describe(status)})", indent(err))
    checks.expect(missing in err, "stderr names the file", indent(err))

    # 3. --check on the reference config.
    print("--check on config/tryggd.conf")
    reference = os.path.join(source, "config", "tryggd.conf")
    gateway_id = None
    try:
        section = None
        with open(reference, encoding="utf-8") as f:
            for raw in f:
                line = raw.strip()
                if line.startswith("["):
                    section = line.strip("[]").strip()
                elif section == "gateway" and re.match(r"id\s*=", line):
                    # The value, without an inline comment.
                    gateway_id = re.split(r"\s[;#]", line.split("=", 1)[1])[0].strip()
    except OSError as e:
        checks.expect(False, f"read {reference}", f"        {e}")
    if checks.expect(gateway_id, f"{reference} has a [gateway] id"):
        status, out, err, _ = run([tryggd, "-c", reference, "--check"])
        checks.expect(status == 0, f"exit 0 (got {describe(status)})", indent(err))
        checks.expect(gateway_id in out, f"the summary on stdout names gateway '{gateway_id}'",
                      indent(out))

    # 4. A broker nobody listens on; the store works.
    print("unreachable broker")
    # Free a moment ago: connecting to it is refused.
    port = servers.free_port()
    uri = f"tcp://127.0.0.1:{port}"
    conf = os.path.join(work, "no-broker.conf")
    simulation_config(conf, work, source, f"bad-mqtt-{token}", uri, info["influx_url"], info["database"])
    status, out, err, wall = run([tryggd, "-c", conf])
    checks.expect(status == EX_TEMPFAIL,
                  f"exit {EX_TEMPFAIL} after {wall:.1f} s (got {describe(status)})", indent(err))
    checks.expect(uri in err, f"stderr mentions {uri}", indent(err))

    # 5. A store nobody listens on; the broker works.
    print("unreachable store")
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    conf = os.path.join(work, "no-store.conf")
    simulation_config(conf, work, source, f"bad-influx-{token}", info["mqtt_uri"], url, info["database"])
    status, out, err, wall = run([tryggd, "-c", conf])
    checks.expect(status == EX_TEMPFAIL,
                  f"exit {EX_TEMPFAIL} after {wall:.1f} s (got {describe(status)})", indent(err))
    checks.expect(url in err, f"stderr mentions {url}", indent(err))

    # 6. A sim sensor whose district has no profile: --check and a start
    # both refuse it at the profile key's line (exit 78, not 69 at open),
    # naming the districts the profiles file has.
    print("sim district without a profile")
    conf = os.path.join(work, "no-profile.conf")
    simulation_config(conf, work, source, f"no-profile-{token}", None, None, None)
    with open(conf, "a", encoding="utf-8") as f:
        f.write("profile = Ingenstans\n")
    profile_line = sum(1 for _ in open(conf, encoding="utf-8"))
    for argv in ([tryggd, "-c", conf, "--check"], [tryggd, "-c", conf]):
        status, out, err, _ = run(argv)
        what = " ".join(os.path.basename(a) for a in argv[1:])
        checks.expect(status == EX_CONFIG, f"{what}: exit {EX_CONFIG} (got {describe(status)})", indent(err))
        checks.expect(f"{conf}:{profile_line}: sim: no profile for district \"Ingenstans\"" in err and "Årby" in err,
                      f"{what}: FILE:{profile_line} names the district and those the profiles file has", indent(err))

    # 7. A carriage return inside a line (a file with CR alone at the end
    # of its lines): said as such, at its line; CR LF is read as LF.
    print("carriage returns")
    conf = os.path.join(work, "cr.conf")
    simulation_config(conf, work, source, f"cr-{token}", None, None, None)
    with open(conf, encoding="utf-8") as f:
        text = f.read()
    with open(conf, "w", encoding="utf-8", newline="") as f:
        f.write(text.replace("window = 60\n", "window = 6\r0\n"))
    status, out, err, _ = run([tryggd, "-c", conf, "--check"])
    checks.expect(status == EX_CONFIG and f"{conf}:4: a carriage return (\\r) inside the line" in err,
                  f"a CR inside line 4: exit {EX_CONFIG} and FILE:4 names the carriage return", indent(err))
    with open(conf, "w", encoding="utf-8", newline="") as f:
        f.write(text.replace("\n", "\r\n"))
    status, out, err, _ = run([tryggd, "-c", conf, "--check"])
    checks.expect(status == 0, f"CR LF line endings: --check exits 0 (got {describe(status)})", indent(err))

    if checks.failures:
        print(f"{len(checks.failures)} check(s) failed; files in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
