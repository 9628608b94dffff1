#!/usr/bin/env python3
"""The demo's "Alerts" part: what a technician and a planner see of the
faults that config/demo/*.conf inject (`inject = KIND@START/DURATION, ...`
on sim sensors).  Used by scripts/demo only.

    demo_alerts.py WORK SERVERS_PY

WORK is the demo's folder: conf/*.conf (the configs the gateways ran),
mqtt.txt (mosquitto_sub -v of trygghet/#) and servers/ (for InfluxDB).
Prints

  - an Alerts table from the retained topics PREFIX/D/G/S/alert: per district,
    each problem raised (sensor, kind, since, how long after that it was
    raised and cleared, its detail), and whether it was injected;
  - one line per injected fault with what InfluxDB holds for its span;
  - checks: every injected fault raised once and cleared once, within its
    span, and nothing raised in districts where nothing was injected.

Exit status 0 even when a check does not hold (they are printed with
"check: NO"): the demo shows what tryggd does; 2 on a usage error.
Python 3.11 standard library only.
"""

import calendar
import collections
import json
import os
import re
import sys
import time

FLAP_GAP_S = 300          # a raise within this of the last clear: the same problem, flapping
CLEAR_SLACK_S = 600       # cleared this long after the fault ended still counts as its clear
UNITS = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400, "": 1}


# ---------------------------------------------------------------- helpers

def ini(path):
    """[(section, {key: value})] of a tryggd config (full-line comments)."""
    sections, current = [], None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                current = {}
                sections.append((line[1:-1].strip(), current))
            elif "=" in line and current is not None:
                key, value = line.split("=", 1)
                current[key.strip()] = value.strip()
    return sections


def parse_time(text):
    """Epoch seconds of an ISO-8601 UTC time (2026-11-03T09:00:00Z, ...T09:00Z, fractions)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d)(?::(\d\d)(\.\d+)?)?Z?$", text.strip())
    if not m:
        raise ValueError(f"not an ISO-8601 UTC time: {text!r}")
    seconds = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M"))
    return seconds + int(m.group(2) or 0) + float(m.group(3) or 0)


def parse_span(text):
    m = re.match(r"([0-9.]+)(ms|s|min|h|d|)$", text.strip())
    if not m:
        raise ValueError(f"not a time span: {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def when(t):
    """Tue 03 Nov 08:13:25Z"""
    return time.strftime("%a %d %b %H:%M:%SZ", time.gmtime(t))


def clock(t):
    return time.strftime("%H:%M", time.gmtime(t))


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def span(seconds):
    """As tryggd writes a span: 45 s, 30 min, 2 h 47 min."""
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h" if minutes == 0 else f"{hours} h {minutes} min"


def span_or_0(seconds):
    return span(seconds) if seconds else "0"


# ---------------------------------------------------------------- reading

class Gateway:
    def __init__(self, name, sections):
        keys = dict(sections)
        self.name = name                                   # the config's file name
        self.id = keys.get("gateway", {}).get("id", "?")
        self.district = keys.get("gateway", {}).get("district", "?")
        self.sim_end = parse_time(keys["simulation"]["end"]) if "end" in keys.get("simulation", {}) else None
        self.sensors = {title[len("sensor."):]: s for title, s in sections if title.startswith("sensor.")}
        self.injections = []
        for sensor, options in self.sensors.items():
            for entry in filter(None, (e.strip() for e in options.get("inject", "").split(","))):
                kind, rest = entry.split("@", 1)
                start, length = rest.rsplit("/", 1)
                begin = parse_time(start)
                self.injections.append(Injection(self, sensor, kind, begin, begin + parse_span(length)))
        self.injections.sort(key=lambda i: i.start)


class Injection:
    def __init__(self, gateway, sensor, kind, start, end):
        self.gateway, self.sensor, self.kind, self.start, self.end = gateway, sensor, kind, start, end
        self.alerts = []

    def label(self):
        return f"{self.kind} {clock(self.start)}Z/{span(self.end - self.start)}"


class Alert:
    """One problem on one sensor, from the raise that shows it to the clear;
    raises that follow a clear within FLAP_GAP_S are folded in (flapping)."""

    def __init__(self, gateway, sensor, kind, since, raised, detail):
        self.gateway, self.sensor, self.kind = gateway, sensor, kind
        self.since, self.raised, self.detail = since, raised, detail
        self.cleared = None
        self.raises, self.clears = 1, 0
        self.longest_ok = 0.0         # the longest it showed ok between folded raises
        self.cause = None             # the Injection, or a sentence


def read_alerts(mqtt_path, gateways):
    by_id = {g.id: g for g in gateways.values()}
    alerts = []
    showing = collections.defaultdict(set)     # (gateway id, sensor) -> kinds active
    current = {}                               # (gateway id, sensor, kind) -> Alert
    last = {}                                  # (gateway id, sensor, kind) -> last Alert, cleared
    with open(mqtt_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            topic, _, payload = line.rstrip("\n").partition(" ")
            levels = topic.split("/")
            if len(levels) != 5 or levels[4] != "alert" or levels[2] not in by_id:
                continue
            try:
                message = json.loads(payload)
                ts = parse_time(message["ts"])
            except (ValueError, KeyError):
                continue
            gateway, sensor = by_id[levels[2]], levels[3]
            state = message.get("state", "ok")
            kinds = set() if state == "ok" else set(message.get("problems") or []) | {state}
            key = (gateway.id, sensor)
            for kind in sorted(kinds - showing[key]):
                shown = kind == state
                since = parse_time(message["since"]) if shown and "since" in message else ts
                detail = message.get("detail", "") if shown else ""
                previous = last.get(key + (kind,))
                if previous and ts - previous.cleared <= FLAP_GAP_S:
                    previous.longest_ok = max(previous.longest_ok, ts - previous.cleared)
                    previous.raises += 1
                    previous.cleared = None
                    current[key + (kind,)] = previous
                else:
                    current[key + (kind,)] = Alert(gateway, sensor, kind, since, ts, detail)
                    alerts.append(current[key + (kind,)])
            if state != "ok" and not current[key + (state,)].detail:
                current[key + (state,)].detail = message.get("detail", "")
            for kind in showing[key] - kinds:
                alert = current.pop(key + (kind,))
                alert.cleared = ts
                alert.clears += 1
                last[key + (kind,)] = alert
            showing[key] = kinds
    return alerts


def explain(alerts, gateways):
    """Tie each alert to its injection, or say why it came without one."""
    for alert in alerts:
        gateway = alert.gateway
        for injection in gateway.injections:
            if (injection.sensor, injection.kind) == (alert.sensor, alert.kind) and \
               injection.start <= alert.raised <= injection.end + 60:
                alert.cause = injection
                injection.alerts.append(alert)
                break
        if alert.cause:
            continue
        options = gateway.sensors.get(alert.sensor, {})
        if alert.kind == "lamp_fault":
            light = options.get("light")
            end = alert.cleared if alert.cleared is not None else float("inf")
            for injection in gateway.injections:
                if injection.sensor == light and injection.kind == "covered" and \
                   injection.start <= end and alert.since <= injection.end:
                    alert.cause = f"not injected: {light} is covered and reads dark by day"
                    break
            else:
                if options.get("driver") == "sim":
                    alert.cause = "not injected: a sim lamp also fails by itself (lamp_fault_per_night)"
        if not alert.cause:
            alert.cause = "not injected"


# ---------------------------------------------------------------- printing

def print_table(alerts, gateways):
    print()
    print("Alerts (retained MQTT topics trygghet/D/G/S/alert; virtual times, UTC)")
    head = f"{'district':<11} {'sensor':<16} {'alert':<10} {'since':<20} {'raised':>8} {'cleared':>13}  cause"
    print(head)
    print("-" * len(head))
    for gateway in sorted(gateways.values(), key=lambda g: g.district):
        mine = sorted((a for a in alerts if a.gateway is gateway), key=lambda a: a.since)
        if not mine:
            print(f"{gateway.district:<11} {'-':<16} {'none':<10} (nothing injected)" if not gateway.injections
                  else f"{gateway.district:<11} {'-':<16} {'none':<10}")
            continue
        for n, alert in enumerate(mine):
            district = gateway.district if n == 0 else ""
            raised = "+" + span(alert.raised - alert.since)
            if alert.cleared is None:
                cleared = "not by end"
            else:
                cleared = "+" + span(alert.cleared - alert.since)
            cause = alert.cause.label() if isinstance(alert.cause, Injection) else alert.cause
            if isinstance(alert.cause, Injection):
                cause = "injected " + cause
            print(f"{district:<11} {alert.sensor:<16} {alert.kind:<10} {when(alert.since):<20} {raised:>8} "
                  f"{cleared:>13}  {cause}")
            if alert.raises > 1:
                print(f"{'':<11} {'':<16} {'':<10} flapping: raised {alert.raises} times and cleared "
                      f"{alert.clears} times, ok for up to {span(alert.longest_ok)} in between")
            print(f"{'':<11} {'':<16} {'':<10} \"{alert.detail}\"")
    print("(since: when the problem began, as tryggd tells it; raised and cleared: how long after that "
          "the topic said so)")


def query(info, q):
    import servers
    rows = []
    for series in servers.influx_series(info, q):
        rows.extend(series["rows"])
    return rows[0] if rows else {}


def store_lines(info, gateways):
    import servers
    print()
    print("What InfluxDB holds for each injected fault (the windows that start within its span)")
    for gateway in sorted(gateways.values(), key=lambda g: g.district):
        for injection in gateway.injections:
            options = gateway.sensors.get(injection.sensor, {})
            kind = options.get("type", "?")

            def where(shift=0.0, sensor=injection.sensor):
                return (f"gateway = {servers.quote_string(gateway.id)} AND sensor = {servers.quote_string(sensor)}"
                        f" AND time >= '{rfc3339(injection.start - shift)}' AND time < '{rfc3339(injection.end - shift)}'")

            length = injection.end - injection.start
            what = f"{injection.kind} {span(length)}"
            head = f"  {gateway.district:<10} {injection.sensor:<16} {when(injection.start)[:-4]}Z+{span(length)}:"
            if injection.kind == "failed":
                r = query(info, f"SELECT mean(coverage) AS c, count(coverage) AS n FROM {kind} WHERE {where()}")
                low = query(info, f"SELECT count(coverage) AS n FROM {kind} WHERE {where()} AND coverage < 1")
                text = (f"coverage {r.get('c') or 0:.2f} over the {what}; {low.get('n') or 0} of "
                        f"{r.get('n') or 0} windows below 1")
            elif kind == "light":
                r = query(info, f"SELECT sum(dark_s) AS d, max(lux_max) AS x, mean(coverage) AS c FROM light WHERE {where()}")
                b = query(info, f"SELECT sum(dark_s) AS d, max(lux_max) AS x FROM light WHERE {where(86400)}")
                text = (f"dark {span_or_0(r.get('d') or 0)} of the {what}, lux at most {r.get('x') or 0:.2f}, "
                        f"coverage {r.get('c') or 0:.2f} (the same hours a day earlier: dark {span_or_0(b.get('d') or 0)}, "
                        f"lux up to {b.get('x') or 0:.0f})")
                lamps = [name for name, s in gateway.sensors.items() if s.get("light") == injection.sensor]
                for lamp in lamps:
                    l = query(info, f"SELECT sum(fault_s) AS f FROM lamp WHERE {where(sensor=lamp)}")
                    text += f"; lamp {lamp} got fault_s {span_or_0(l.get('f') or 0)} meanwhile"
            elif kind == "footfall":
                r = query(info, f'SELECT sum("count") AS p, mean(coverage) AS c FROM footfall WHERE {where()}')
                b = query(info, f'SELECT sum("count") AS p FROM footfall WHERE {where(86400)}')
                text = (f"{r.get('p') or 0} passes over the {what} with coverage {r.get('c') or 0:.2f}, "
                        f"as an empty place (the same span a day earlier: {b.get('p') or 0} passes)")
            elif kind == "lamp":
                r = query(info, f"SELECT sum(on_s) AS o, sum(fault_s) AS f FROM lamp WHERE {where()}")
                b = query(info, f"SELECT sum(on_s) AS o FROM lamp WHERE {where(86400)}")
                text = (f"lit {span_or_0(r.get('o') or 0)}, fault_s {span_or_0(r.get('f') or 0)} of the {what} "
                        f"(the same span a day earlier: lit {span_or_0(b.get('o') or 0)})")
            else:
                text = "?"
            print(f"{head} {text}")


def checks(alerts, gateways):
    """Lines 'check: ok ...' or 'check: NO ...'; returns how many did not hold."""
    print()
    failed = 0

    def say(good, text):
        nonlocal failed
        failed += not good
        print(f"check: {'ok' if good else 'NO'}  {text}")

    for gateway in sorted(gateways.values(), key=lambda g: g.district):
        for injection in gateway.injections:
            name = f"{gateway.district} {injection.sensor} {injection.label()}"
            found = injection.alerts
            if not found:
                say(False, f"{name}: never raised")
                continue
            raises = sum(a.raises for a in found)
            clears = sum(a.clears for a in found)
            if raises != 1 or clears != 1:
                say(False, f"{name}: raised {raises} times and cleared {clears} times, expected once each")
                continue
            cleared = found[0].cleared
            if cleared is None:
                say(False, f"{name}: raised, never cleared")
            elif not injection.end <= cleared <= injection.end + CLEAR_SLACK_S:
                say(False, f"{name}: cleared at {when(cleared)}, the fault ended {when(injection.end)}")
            else:
                say(True, f"{name}: raised once, cleared once, {span(cleared - injection.end)} after it ended")
        if not gateway.injections:
            mine = [a for a in alerts if a.gateway is gateway]
            say(not mine, f"{gateway.district} (nothing injected): "
                          f"{'no alerts' if not mine else ', '.join(f'{a.sensor} {a.kind}' for a in mine)}")
    for alert in alerts:
        if alert.gateway.injections and not isinstance(alert.cause, Injection):
            print(f"check: note {alert.gateway.district} {alert.sensor} {alert.kind} at {when(alert.since)}: "
                  f"{alert.cause}")
    return failed


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    work, servers_py = argv[1:]
    sys.path.insert(0, os.path.dirname(servers_py))
    import servers

    conf_dir = os.path.join(work, "conf")
    gateways = {}
    for name in sorted(os.listdir(conf_dir)):
        if name.endswith(".conf"):
            gateways[name[:-5]] = Gateway(name[:-5], ini(os.path.join(conf_dir, name)))
    alerts = read_alerts(os.path.join(work, "mqtt.txt"), gateways)
    explain(alerts, gateways)
    print_table(alerts, gateways)
    store_lines(servers.load(os.path.join(work, "servers")), gateways)
    failed = checks(alerts, gateways)
    if failed:
        print(f"check: {failed} did not hold (tryggd's behaviour, shown as it is; see the table above)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
