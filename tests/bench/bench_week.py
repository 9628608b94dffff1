"""Section "week" (issue 17, row 7): the five-district demo week, as
scripts/demo runs it: one tryggd per config/demo/*.conf, all five at the
same time, each on a copy whose uri, url, state_dir and profiles point at
a private mosquitto and influxd, this section's folder and the checkout's
seeds; TZ=Europe/Stockholm, where the boards stand.

The figure is the wall time from the first spawn until the last of the
five has exited; each exits by itself at its [simulation] end once MQTT
and the store have taken everything.  Nothing dropped is checked twice:
the last health message of each gateway (subscribed to PREFIX/+/+/health
before the first spawn) and its log's closing "stopped:" line must both
say 0 dropped, 0 lost and 0 dropped from a full spool, and each must exit 0.

Quick mode runs the same configs with [simulation] end moved to six
virtual hours after start.
"""

import calendar
import glob
import json
import os
import re
import time

import benchlib
import servers
from bench import Row

TITLE = "the five-district demo week, all five at once"

GOAL_S = 20.0
QUICK_HOURS = 6
PREFIX = "trygghet"
STOPPED = re.compile(r"stopped: .*?(\d+) dropped, (\d+) lost to the disk; (\d+) points stored, "
                     r"(\d+) set aside, (\d+) dropped from a full spool")


def _iso_to_s(text):
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))


def _copies(ctx, mqtt_uri, influx_url):
    """[(name, gateway id, copy path)] of config/demo/*.conf."""
    out = []
    for src in sorted(glob.glob(os.path.join(ctx.root, "config", "demo", "*.conf"))):
        name = os.path.splitext(os.path.basename(src))[0]
        config = benchlib.read_config(src)
        values = {("mqtt", "uri"): mqtt_uri, ("influx", "url"): influx_url,
                  ("gateway", "state_dir"): os.path.join(ctx.work, "state", name)}
        profiles = config.get("simulation", {}).get("profiles")
        if profiles:
            # Relative to the original's folder, not the copy's.
            values[("simulation", "profiles")] = os.path.normpath(
                os.path.join(os.path.dirname(src), profiles))
        if ctx.quick:
            start = _iso_to_s(config["simulation"]["start"])
            values[("simulation", "end")] = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                          time.gmtime(start + QUICK_HOURS * 3600))
        dst = os.path.join(ctx.work, "conf", f"{name}.conf")
        benchlib.copy_config(src, dst, values)
        out.append((name, config["gateway"]["id"], dst))
    return out


def run(ctx):
    tryggd = ctx.program("tryggd")
    for folder in ("conf", "logs", "state"):
        os.makedirs(os.path.join(ctx.work, folder))
    broker = benchlib.Mosquitto(os.path.join(ctx.work, "mosquitto"), None)
    broker.start()
    influxd = capture = None
    gateways, stored = [], None
    try:
        influxd = servers.start_influxd(os.path.join(ctx.work, "influxd"))
        copies = _copies(ctx, broker.uri, influxd.url)
        if not copies:
            raise RuntimeError("no config/demo/*.conf")
        capture = benchlib.Subscriber(broker, f"{PREFIX}/+/+/health", os.path.join(ctx.work, "health.txt"))
        env = dict(benchlib.tryggd_env(), TZ="Europe/Stockholm")
        t0 = time.monotonic()
        for name, gateway, conf in copies:
            gateways.append((name, gateway, benchlib.Measured(
                [tryggd, "-c", conf], os.path.join(ctx.work, "logs", f"{name}.log"), env=env)))
        benchlib.wait_all([r for _, _, r in gateways], 300 if ctx.quick else 900)
        wall_s = max(r.started + r.wall_s for _, _, r in gateways) - t0
        capture.drain()
        stored = _stored_points(influxd)
    finally:
        for _, _, r in gateways:
            if r.status is None:
                r.terminate()
        if capture:
            capture.close()
        if influxd:
            influxd.stop()
        broker.stop()

    last_health = {}
    for topic, payload in _messages(capture):
        levels = topic.split("/")
        if len(levels) == 4:
            try:
                last_health[levels[2]] = json.loads(payload)
            except ValueError:
                pass
    problems, stored_by_logs, cpu_s = [], 0, 0.0
    for name, gateway, run_ in gateways:
        cpu_s += run_.user_s + run_.system_s
        if run_.status != 0:
            problems.append(f"{name} exited {run_.status}")
        health = last_health.get(gateway)
        if health is None:
            problems.append(f"{name}: no health message")
        else:
            # Dropped or lost nothing, and left nothing behind undelivered.
            losses = {k: health.get(k) for k in ("dropped", "lost", "spool_dropped", "buffered", "spooled")}
            if any(v != 0 for v in losses.values()):
                problems.append(f"{name} health: " + ", ".join(f"{k} {v}" for k, v in losses.items()))
        with open(run_.log_path, encoding="utf-8", errors="replace") as f:
            found = STOPPED.findall(f.read())
        if not found:
            problems.append(f"{name}: no 'stopped:' line in its log")
        else:
            dropped, lost, points, aside, spool_dropped = map(int, found[-1])
            stored_by_logs += points
            if dropped or lost or aside or spool_dropped:
                problems.append(f"{name} log: {dropped} dropped, {lost} lost, {aside} set aside, "
                                f"{spool_dropped} dropped from the spool")
    if stored is not None and stored != stored_by_logs:
        problems.append(f"influxd holds {stored:,} points, the logs say {stored_by_logs:,} were stored")
    ratio = GOAL_S / wall_s
    span = f"{QUICK_HOURS} virtual hours" if ctx.quick else "a virtual week"
    row = Row(
        name="week 5 districts", ratio=ratio, goal=f"< {GOAL_S:.0f} s (ratio {GOAL_S:.0f} s / wall)",
        met=ratio > 1 and not problems,
        tryggd=f"{wall_s:.1f} s wall, cpu {cpu_s:.1f} s, " + ("0 dropped" if not problems else "PROBLEMS (notes)"),
        reference=f"goal {GOAL_S:.0f} s")
    per = ", ".join(f"{name} {run_.wall_s:.1f} s" for name, _, run_ in gateways)
    row.notes.append(f"{len(gateways)} gateways, {span} each, at once on one broker and one influxd: {per}; "
                     f"{stored_by_logs:,} points stored by their logs"
                     + (f", {stored:,} in influxd" if stored is not None else ""))
    row.notes.extend(problems)
    return [row]


def _messages(subscriber):
    """[(topic, payload)] a benchlib.Subscriber wrote, its markers left out."""
    path = subscriber.path + ".messages"
    subscriber.messages_to(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        return [tuple(line.rstrip("\n").split("\t", 1)) for line in f if "\t" in line]


def _stored_points(influxd):
    try:
        total = 0
        for measurement, field in (("footfall", "coverage"), ("light", "coverage"), ("lamp", "coverage"),
                                   ("gateway", "readings")):
            for s in servers.influx_series(influxd, f'SELECT count("{field}") FROM "{measurement}"'):
                total += sum(row.get("count") or 0 for row in s["rows"])
        return total
    except servers.ServerError:
        return None
