"""The demo year's gateways (config/demo-year/*.conf) for the report tests:
the same sites, sensors and seeds, run over a span of a test's own into the
fixture's influxd, under district names and gateway ids with a tag of the
test's own, so that the other tests' points in the shared database never
count.  Each sensor is given `profile = DISTRICT` (the real district name),
so the simulation, the scenarios of seeds/scenarios.ini included, is the
demo's: a pure function of the seed, the sensor's name, the profile, the
scenarios and the time, whatever the gateway is called.

    gateways = demo_year.read(source)               # [Gateway], by file name
    config = demo_year.write(gateway, path, ...)    # a config to run
    demo_year.run_all(tryggd, [(config, log)...])   # at the same time

No MQTT: windows go to the store only (as test_report.py does).
Python 3.11 standard library only."""

import dataclasses
import glob
import os
import subprocess
import sys
import time

import capture

# The demo's own reader of a tryggd config (scripts/lib/demo_alerts.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "scripts", "lib"))
from demo_alerts import ini as _sections  # noqa: E402

RUN_TIMEOUT_S = 240


@dataclasses.dataclass
class Gateway:
    name: str            # the config's file name, arby
    id: str              # arby-01
    district: str        # Årby
    site: str
    sensors: list        # [(name, {key: value})] in the file's order


def read(source):
    """The gateways of config/demo-year/*.conf."""
    gateways = []
    for path in sorted(glob.glob(os.path.join(source, "config", "demo-year", "*.conf"))):
        sections = _sections(path)
        gateway = dict(next(keys for title, keys in sections if title == "gateway"))
        sensors = [(title.split(".", 1)[1], dict(keys)) for title, keys in sections if title.startswith("sensor.")]
        gateways.append(Gateway(os.path.basename(path)[:-5], gateway["id"], gateway["district"], gateway["site"],
                                sensors))
    return gateways


def write(gateway, path, work, source, info, gateway_id, district, start, end, window=3600, interval=None,
          comment="Written by tests/integration/demo_year.py"):
    """A config for one run of the gateway: its sensors as in the demo year
    (interval overrides theirs when given), as gateway_id in district, from
    start to end (UTC, the config's format)."""
    sensors = {}
    for name, keys in gateway.sensors:
        keys = dict(keys, profile=gateway.district)
        if interval is not None:
            keys["interval"] = str(interval)
        sensors[name] = (keys.pop("type"), {k: v for k, v in keys.items() if k != "driver"})
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", f"district = {district}", f"site = {gateway.site}", f"window = {window}",
                     f"state_dir = {os.path.join(work, 'state-' + gateway_id)}"]),
        ("simulation", [f"start = {start}", f"end = {end}", "speed = 0",
                        f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}",
                        f"scenarios = {os.path.join(source, 'seeds', 'scenarios.ini')}"]),
        ("influx", [f"url = {info['influx_url']}", "api = v1", f"database = {info['database']}"]),
        *capture.sim_sensors(sensors),
    ], comment=comment)
    return path


def run_all(tryggd, runs):
    """Run tryggd -c CONFIG >> LOG for every (config, log) at the same time;
    [(config, exit status or None when killed after RUN_TIMEOUT_S)] and the
    wall seconds."""
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "TRYGGD_DEBUG")}
    started = time.monotonic()
    procs = []
    for config, log in runs:
        out = open(log, "a", encoding="utf-8")
        procs.append((config, out, subprocess.Popen([tryggd, "-c", config], stdout=out, stderr=subprocess.STDOUT,
                                                    stdin=subprocess.DEVNULL, env=env)))
    results = []
    for config, out, proc in procs:
        try:
            code = proc.wait(timeout=max(1, RUN_TIMEOUT_S - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        out.close()
        results.append((config, code))
    return results, time.monotonic() - started


def report(tryggctl, *args, timeout=120):
    """tryggctl report ARGS: (exit status, stderr), with what it said printed."""
    proc = subprocess.run([tryggctl, "report", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=timeout)
    shown = " ".join(a if " " not in a else repr(a) for a in args)
    print(f"  $ tryggctl report {shown}  -> {proc.returncode}")
    for line in proc.stderr.splitlines()[:10]:
        print(f"    {line}")
    return proc.returncode, proc.stderr
