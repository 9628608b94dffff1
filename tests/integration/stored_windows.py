"""The stores of the outage tests (test_store_outage.py, test_store_killed.py)
and what one of them holds of one gateway's windows.

STORES names the two private stores these tests run, each started in a
folder of its own with scripts/lib/servers.py: an influxd 1.6 (api = v1) and
a VictoriaMetrics 1.79 without deduplication (api = victoriametrics), on
which a window sent twice shows twice.

windows() reads one gateway's points back, per series: the key is the
sensor's name, or GATEWAY for the gateway's own point of each window; the
value is the sorted list of the window starts (unix ms) found, one entry per
point stored, so that a point kept twice shows twice.

  influxd            SELECT one field per measurement, GROUP BY sensor
                     (a point sent again replaces itself: no duplicates
                     there by construction, but counted all the same), and
                     count() of that field as a cross-check;
  VictoriaMetrics    /api/v1/export of every series with the gateway's
                     label (each field is a metric MEASUREMENT_FIELD), after
                     /internal/force_flush; the key's series are one field
                     (coverage, or uptime_s for the gateway), and every other
                     field's series must have the same timestamps.

Python 3.11 standard library only.
"""

import os
import sys
import time

GATEWAY = "gateway"
# The field every point of a measurement carries.
FIELD = {"footfall": "coverage", "light": "coverage", "lamp": "coverage", GATEWAY: "uptime_s"}


def three_sensors(seed):
    """A footfall, a light and a lamp paired with it: sim sensors for
    capture.sim_sensors(), and the series the store gets (with the gateway)."""
    return {
        "passage": ("footfall", {"seed": seed}),
        "ljus": ("light", {"seed": seed}),
        "lampa": ("lamp", {"light": "ljus", "seed": seed}),
    }


def iso(unix_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_s))


def parse_args(argv):
    """TRYGGD SOURCE_DIR SERVERS_DIR from argv, made absolute, and the
    `servers` module (SOURCE_DIR/scripts/lib/servers.py).  The shared
    servers of SERVERS_DIR are not used (these tests stop their stores):
    its parent folder holds the working folder."""
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR SERVERS_DIR")
    tryggd, source, servers_dir = (os.path.abspath(a) for a in argv[1:])
    sys.path.insert(0, os.path.join(source, "scripts", "lib"))
    sys.dont_write_bytecode = True   # no __pycache__ in the source tree
    import servers  # noqa: E402 (the path comes from the arguments)
    return tryggd, source, servers_dir, servers


def _start_influxd(servers, directory):
    return servers.start_influxd(directory)


def _start_victoria(servers, directory):
    # No dedup: a resent point is kept twice, which is what these tests count.
    return servers.start_victoria(directory, dedup=None)


# (label, [influx] api, start(servers, directory) -> a started server)
STORES = [
    ("influxd", "v1", _start_influxd),
    ("victoria-metrics", "victoriametrics", _start_victoria),
]


def influx_windows(servers, store, gateway_id):
    """({key: sorted window starts in ms}, [problems as text])."""
    where = f'"gateway" = {servers.quote_string(gateway_id)}'
    found, problems = {}, []
    for measurement in FIELD:
        field = servers.quote_ident(FIELD[measurement])
        group = "" if measurement == GATEWAY else ' GROUP BY "sensor"'
        rows = servers.influx_series(
            store, f'SELECT {field} FROM {servers.quote_ident(measurement)} WHERE {where}{group}', epoch="ms")
        counts = servers.influx_series(
            store, f'SELECT count({field}) FROM {servers.quote_ident(measurement)} WHERE {where}{group}')
        counted = {}
        for series in counts:
            key = GATEWAY if measurement == GATEWAY else series["tags"].get("sensor")
            counted[key] = sum(row.get("count") or 0 for row in series["rows"])
        for series in rows:
            key = GATEWAY if measurement == GATEWAY else series["tags"].get("sensor")
            times = [row["time"] for row in series["rows"]]
            found.setdefault(key, []).extend(times)
            if counted.get(key) != len(times):
                problems.append(f"{measurement} {key}: count() says {counted.get(key)}, "
                                f"SELECT returns {len(times)} points")
    return {key: sorted(times) for key, times in found.items()}, problems


def vm_windows(servers, store, gateway_id):
    """({key: sorted window starts in ms, repeats kept}, [problems as text])."""
    servers.vm_flush(store)
    by_key = {}   # key -> {field: sorted timestamps}
    problems = []
    for series in servers.vm_export(store, f'{{gateway="{gateway_id}"}}'):
        labels = series["metric"]
        measurement, _, field = labels.get("__name__", "").partition("_")
        if measurement == "alert":
            continue   # a sensor's problems raised and cleared, not windows (test_store_alerts.py)
        if measurement not in FIELD or not field:
            problems.append(f"unexpected series {labels}")
            continue
        key = GATEWAY if measurement == GATEWAY else labels.get("sensor")
        fields = by_key.setdefault(key, {})
        fields.setdefault(field, []).extend(series["timestamps"])
    found = {}
    for key, fields in by_key.items():
        # coverage is a field of all three sensor measurements.
        canonical = FIELD[GATEWAY] if key == GATEWAY else "coverage"
        if canonical not in fields:
            problems.append(f"{key}: no {canonical} series (fields {sorted(fields)})")
            continue
        times = sorted(fields[canonical])
        found[key] = times
        for field, other in sorted(fields.items()):
            if sorted(other) != times:
                problems.append(f"{key}: field {field} has {len(other)} samples, {canonical} {len(times)}")
    return found, problems


def windows(servers, store, api, gateway_id):
    """What the store holds of gateway_id's windows: ({key: sorted window
    starts in ms, a point stored twice listed twice}, [problems as text])."""
    if api == "victoriametrics":
        return vm_windows(servers, store, gateway_id)
    return influx_windows(servers, store, gateway_id)


def duplicates(times):
    """How many entries of a sorted list repeat the one before."""
    return sum(1 for a, b in zip(times, times[1:]) if a == b)


def tryggd_env():
    """tryggd's environment for a test: its log lines as on a terminal
    ("warning: ..."), not journald's "<4>" prefixes, and no debug lines."""
    return {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "TRYGGD_DEBUG")}


def log_tail(path, lines=30):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"
