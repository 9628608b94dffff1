#!/usr/bin/env python3
"""tryggctl probe inside the guest, on a board made of a gpio-sim chip and
an IIO dummy:

    tests/guest/run -- python3 tests/guest/test_probe.py TRYGGD TRYGGCTL

The listing must name the chip by name and label with its named lines,
show which line another program holds and by whom, and list the IIO
device with its voltage channel and a live value.  Every section printed
must pass `tryggd --check` as it stands, pasted under a [gateway] section,
and must name a device that is really there: the gpio sections are then
run for a moment and must open their lines."""

import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import guest  # noqa: E402

GATEWAY = """[gateway]
id = gw-probe
district = Lagerberg
window = 2
state_dir = {work}/state
clock = trusted
"""


def sections(text):
    """{name: section text} of the [sensor.NAME] sections, commented ones
    (templates) left out."""
    out = {}
    for match in re.finditer(r"^\[sensor\.([a-z0-9_-]+)\]\n(?:[a-z_]+ = [^\n]*\n)*", text, re.M):
        out[match.group(1)] = match.group(0)
    return out


def templates(text):
    """The commented-out sections (probe's templates for what it cannot be
    sure of), uncommented: {name: section text}."""
    out = {}
    for match in re.finditer(r"^#\[sensor\.([a-z0-9_-]+)\]\n(?:#[a-z_]+ = [^\n]*\n)*", text, re.M):
        out[match.group(1)] = re.sub(r"^#", "", match.group(0), flags=re.M)
    return out


def main(argv):
    guest.require_guest()
    if len(argv) != 3:
        sys.exit("usage: test_probe.py TRYGGD TRYGGCTL")
    tryggd, tryggctl = (os.path.abspath(a) for a in argv[1:3])
    problems = guest.Problems()
    work = tempfile.mkdtemp(prefix="tryggd-probe-")
    chip = guest.GpioSim("board", 6, ["entry", "exit", "", "relay", "lamp-in"])
    adc = guest.IioDummy("adc")
    # Another program holds line 3 (an output), as a relay driver would.
    holder = subprocess.Popen(["gpioset", "--mode=signal", chip.chip, "3=1"])
    try:
        guest.wait_for("gpioset to hold line 3", lambda: chip.value(3) == 1, 10)
        result = subprocess.run([tryggctl, "probe"], capture_output=True, text=True, timeout=60)
        print(result.stdout)
        if result.stderr:
            print(f"stderr: {result.stderr}")
        problems.check("probe exit status", 0, result.returncode)
        listing = result.stdout
        for what, needle in [("chip name", chip.chip), ("chip label", "board"),
                             ("named line entry", "entry"), ("named line lamp-in", "lamp-in"),
                             ("holder of line 3", '"gpioset"'), ("IIO device name", "adc"),
                             ("IIO voltage channel", "in_voltage0")]:
            problems.check(f"listing shows the {what}", True, needle in listing)
        # The live value: (73 + 7) x 0.001333 for the dummy's voltage0.
        value = f"{adc.voltage0():g}"
        problems.check(f"listing shows voltage0's live value {value}", True, value in listing)

        found = sections(listing)
        print(f"sections: {sorted(found)}")
        drivers = sorted({re.search(r"^driver = (\S+)", s, re.M).group(1) for s in found.values()})
        problems.check("sections for the gpio lines", ["gpio"], drivers)
        # A voltage channel may be anything: probe offers it commented out,
        # to be uncommented once a light sensor is known to be wired to it.
        offered = templates(listing)
        print(f"templates: {sorted(offered)}")
        problems.check("a template for the IIO voltage channel", True,
                       any(re.search(r"^device = adc$", t, re.M) and re.search(r"^channel = in_voltage0$", t, re.M)
                           for t in offered.values()))
        problems.check("no section uses line 3, which is in use", True,
                       not any(re.search(r"^line(_b)? = (3|relay)$", s, re.M) for s in found.values()))

        # --sections-only prints the same sections and nothing else.
        only = subprocess.run([tryggctl, "probe", "--sections-only"], capture_output=True, text=True, timeout=60)
        problems.check("--sections-only exit status", 0, only.returncode)
        problems.check("--sections-only: the same sections", found, sections(only.stdout))

        # Pasted as they are under a [gateway], they pass --check.
        config = os.path.join(work, "probe.conf")
        with open(config, "w") as f:
            f.write(GATEWAY.format(work=work) + "\n" + only.stdout + "\n" + "\n".join(offered.values()))
        check = subprocess.run([tryggd, "-c", config, "--check"], capture_output=True, text=True, timeout=60)
        print(check.stdout + check.stderr)
        problems.check("tryggd --check on the pasted sections and uncommented templates", 0, check.returncode)
        problems.check("--check lists every one of them", True,
                       all(name in check.stdout for name in list(found) + list(offered)))

        # And they name real devices: tryggd opens every one of them.
        proc = guest.start_tryggd(tryggd, config, work)
        time.sleep(3)
        status = guest.stop_tryggd(proc, work)
        problems.check("tryggd ran the probed sections and stopped cleanly", 0, status)
        with open(os.path.join(work, "tryggd.log"), errors="replace") as f:
            log = f.read()
        problems.check("no sensor failed to open", False, "cannot" in log or "failed" in log)
    finally:
        holder.terminate()
        holder.wait()
        chip.remove()
        adc.remove()
    return problems.finish("test_probe")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
