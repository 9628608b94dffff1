#!/usr/bin/env python3
"""The systemd units and the sysusers file, checked offline.

    test_systemd_units.py TRYGGD SOURCE_DIR WORK_PARENT

Runs with systemd's own tools and needs no running systemd (a container or
a build machine is fine); it says SKIP where systemd-analyze is missing.

  1. systemd/tryggd.service and systemd/tryggd@.service start tryggd as
     packaged (/usr/bin/tryggd, /etc/tryggd/tryggd.conf and
     /etc/tryggd/%i.conf), as Type=notify, NotifyAccess=main, with
     DevicePolicy=closed and exactly the device groups char-gpiochip and
     char-i2c open, and without PrivateDevices= (which would hide them).
  2. The two differ only where an instance must (Description=,
     ExecStart=, StateDirectory=, LoadCredential=), so that hardening
     added to one is not forgotten in the other.
  3. `systemd-analyze verify` says nothing about either.  It refuses an
     ExecStart= binary that does not exist, so it reads a copy of each
     whose ExecStart= is the built TRYGGD.  --recursive-errors=no makes it
     fail on a warning about the unit itself, not on one about a unit of
     this machine that the unit pulls in (those are printed, not counted).
  4. `systemd-analyze security --offline=true` rates each at 2.0 or lower.
  5. systemd/tryggd.sysusers parses (systemd-sysusers --dry-run into an
     empty root), and applied to a root that already has gpio and i2c (as
     Raspberry Pi OS does) it creates the user tryggd, without a login,
     adds it to both groups and leaves their GIDs and members alone.

Exit 0 when all hold, 1 with the list of what did not.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

from capture import Problems

UNITS = {
    # unit -> what ExecStart= must be, as packaged
    "tryggd.service": "/usr/bin/tryggd -c /etc/tryggd/tryggd.conf",
    "tryggd@.service": "/usr/bin/tryggd -c /etc/tryggd/%i.conf",
}
# The keys in which the template may differ from tryggd.service.
INSTANCE_KEYS = {"Description", "ExecStart", "StateDirectory", "LoadCredential"}
MAX_EXPOSURE = 2.0
# Plain output: no colours, no pager, and the same words in any locale.
ENV = dict(os.environ, SYSTEMD_COLORS="0", SYSTEMD_PAGER="", NO_COLOR="1", LC_ALL="C.UTF-8")


def directives(path):
    """[(section, key, value)] in order, comments and blank lines left out
    (a unit file has no continuation lines here; one would be refused)."""
    result = []
    section = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            if line.endswith("\\") or "=" not in line:
                raise ValueError(f"{path}:{number}: not a simple KEY=VALUE line: {line}")
            key, value = line.split("=", 1)
            result.append((section, key.strip(), value.strip()))
    return result


def values(parsed, key, section="Service"):
    return [v for s, k, v in parsed if s == section and k == key]


def check_contents(p, name, parsed):
    exec_start = values(parsed, "ExecStart")
    p.expect(exec_start == [UNITS[name]], f"{name}: ExecStart={UNITS[name]}", str(exec_start))
    for key, wanted in (("Type", "notify"), ("NotifyAccess", "main"), ("DevicePolicy", "closed"),
                        ("User", "tryggd"), ("Group", "tryggd")):
        got = values(parsed, key)
        p.expect(got == [wanted], f"{name}: {key}={wanted}", str(got))
    allowed = sorted(values(parsed, "DeviceAllow"))
    p.expect(allowed == ["char-gpiochip rw", "char-i2c rw"],
             f"{name}: DeviceAllow= exactly char-gpiochip rw and char-i2c rw", str(allowed))
    private_devices = values(parsed, "PrivateDevices")
    p.expect(all(v in ("no", "false", "0") for v in private_devices),
             f"{name}: no PrivateDevices= (it hides /dev/gpiochipN and /dev/i2c-N)", str(private_devices))


def check_alike(p, service, template):
    """The template differs from the service only in INSTANCE_KEYS."""
    def shared(parsed):
        return [(s, k, v) for s, k, v in parsed if k not in INSTANCE_KEYS]
    a, b = shared(service), shared(template)
    only_service = [f"[{s}] {k}={v}" for s, k, v in a if (s, k, v) not in b]
    only_template = [f"[{s}] {k}={v}" for s, k, v in b if (s, k, v) not in a]
    p.expect(not only_service and not only_template,
             "tryggd@.service is tryggd.service but for Description, ExecStart, StateDirectory, LoadCredential",
             f"only in tryggd.service: {only_service}; only in tryggd@.service: {only_template}")
    state = values(template, "StateDirectory")
    p.expect(state == ["tryggd/%i"], "tryggd@.service: StateDirectory=tryggd/%i", str(state))
    credentials = values(template, "LoadCredential")
    p.expect(credentials and all("%i" in c for c in credentials),
             "tryggd@.service: each instance has credentials of its own", str(credentials))


def verify(p, analyze, name, copy):
    """systemd-analyze verify on the copy: exit 0 and not a word about it."""
    run = subprocess.run([analyze, "verify", "--recursive-errors=no", "--man=no", "--generators=no", copy],
                         capture_output=True, text=True, env=ENV, stdin=subprocess.DEVNULL, timeout=120)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    unit_stem = name.split("@")[0]   # tryggd@.service is verified as tryggd@i.service
    about_it = [line for line in lines if copy in line or unit_stem in line]
    others = [line for line in lines if line not in about_it]
    print(f"verify {name}: exit {run.returncode}, {len(lines)} line(s) of output")
    for line in others:
        print(f"  (about another unit, not counted) {line}")
    p.expect(run.returncode == 0 and not about_it, f"{name}: systemd-analyze verify is silent",
             f"exit {run.returncode}: " + " | ".join(about_it or lines))


def security(p, analyze, name, path):
    """The overall exposure systemd-analyze security gives; None if none."""
    run = subprocess.run([analyze, "security", "--offline=true", "--no-pager", path],
                         capture_output=True, text=True, env=ENV, stdin=subprocess.DEVNULL, timeout=120)
    found = re.search(r"Overall exposure level for (\S+): (\d+(?:\.\d+)?)\s+(\S+)", run.stdout)
    if not found:
        p.add(f"{name}: systemd-analyze security gives an overall exposure level",
              f"exit {run.returncode}: {run.stdout[-400:]} {run.stderr[-400:]}")
        return None
    exposure = float(found.group(2))
    print(f"security {name}: overall exposure level {found.group(2)} {found.group(3)} "
          f"(as {found.group(1)}; at most {MAX_EXPOSURE} wanted)")
    if exposure > MAX_EXPOSURE:
        # What adds up to it, so the failure says what to look at.
        print("\n".join(line for line in run.stdout.splitlines() if line.startswith("✗")))
    p.expect(exposure <= MAX_EXPOSURE, f"{name}: exposure {exposure} <= {MAX_EXPOSURE}", found.group(0))
    return exposure


def sysusers(p, tool, source, work):
    """Dry run into an empty root, then for real into a Pi-like one."""
    path = os.path.join(source, "systemd", "tryggd.sysusers")
    empty = os.path.join(work, "root-empty")
    os.makedirs(empty)
    # An absolute path: with --root, a relative one would be taken inside the root.
    dry = subprocess.run([tool, "--dry-run", f"--root={empty}", path], capture_output=True, text=True, env=ENV,
                         stdin=subprocess.DEVNULL, timeout=60)
    output = (dry.stdout + dry.stderr).strip()
    print(f"sysusers --dry-run: exit {dry.returncode}")
    print("\n".join(f"  {line}" for line in output.splitlines()))
    p.expect(dry.returncode == 0 and "Creating user 'tryggd'" in output
             and not re.search(r"ignoring|[Ff]ailed|[Uu]nknown|[Ii]nvalid", output),
             "tryggd.sysusers parses and creates the user tryggd", output)

    pi = os.path.join(work, "root-pi")
    os.makedirs(os.path.join(pi, "etc"))
    with open(os.path.join(pi, "etc", "group"), "w") as f:
        f.write("root:x:0:\ngpio:x:997:pi\ni2c:x:998:pi\n")
    with open(os.path.join(pi, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000::/home/pi:/bin/bash\n")
    real = subprocess.run([tool, f"--root={pi}", path], capture_output=True, text=True, env=ENV,
                          stdin=subprocess.DEVNULL, timeout=60)
    if not p.expect(real.returncode == 0, "sysusers applied to a root with gpio and i2c",
                    (real.stdout + real.stderr).strip()):
        return
    with open(os.path.join(pi, "etc", "group")) as f:
        groups = {line.split(":")[0]: line.strip().split(":") for line in f if line.strip()}
    with open(os.path.join(pi, "etc", "passwd")) as f:
        users = {line.split(":")[0]: line.strip().split(":") for line in f if line.strip()}
    for group, gid in (("gpio", "997"), ("i2c", "998")):
        entry = groups.get(group, [])
        members = entry[3].split(",") if len(entry) > 3 else []
        p.expect(len(entry) == 4 and entry[2] == gid and "pi" in members and "tryggd" in members,
                 f"... tryggd added to {group}, its GID and members kept", ":".join(entry))
    user = users.get("tryggd", [])
    p.expect(len(user) == 7 and user[5] == "/var/lib/tryggd" and user[6].endswith("nologin"),
             "... user tryggd, home /var/lib/tryggd, no login shell", ":".join(user))
    own = groups.get("tryggd", [])
    p.expect(len(own) == 4 and len(user) == 7 and own[2] == user[3],
             "... with a group of its own as its primary group", f"{own} {user}")
    in_groups = sorted(name for name, entry in groups.items()
                       if len(entry) > 3 and "tryggd" in entry[3].split(","))
    p.expect(in_groups == ["gpio", "i2c"], "... and in no other group", str(in_groups))


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR WORK_PARENT")
    tryggd, source, parent = (os.path.abspath(a) for a in argv[1:])
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("SKIP: no systemd-analyze (package systemd)")
        return 0
    version = subprocess.run([analyze, "--version"], capture_output=True, text=True).stdout.splitlines()
    print(f"{version[0] if version else 'systemd-analyze'}")
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="systemd-units-", dir=parent)
    p = Problems()

    parsed = {}
    for name in UNITS:
        path = os.path.join(source, "systemd", name)
        try:
            parsed[name] = directives(path)
        except (OSError, ValueError) as e:
            p.add(f"{name}: readable as a unit file", str(e))
            continue
        check_contents(p, name, parsed[name])
    if len(parsed) == len(UNITS):
        check_alike(p, parsed["tryggd.service"], parsed["tryggd@.service"])

    for name in parsed:
        path = os.path.join(source, "systemd", name)
        # The copy keeps the unit's name, which verify goes by.
        copy = os.path.join(work, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(copy, "w", encoding="utf-8") as f:
            f.write(re.sub(r"^ExecStart=/usr/bin/tryggd ", f"ExecStart={tryggd} ", text, flags=re.M))
        verify(p, analyze, name, copy)
        security(p, analyze, name, path)

    tool = shutil.which("systemd-sysusers")
    if tool:
        sysusers(p, tool, source, work)
    else:
        print("no systemd-sysusers: tryggd.sysusers not checked")
    return p.verdict(work, "the units verify, are rated 2.0 or lower and alike, and tryggd.sysusers applies",
                     remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
