"""The fleet run's table (tests/fleet/fleet.py): per gateway CPU, memory
and messages; the servers' and clients' CPU and memory; delays; bytes on
MQTT and in the store.

Python 3.11 standard library only.
"""

import os

import fleet_parts as parts
from fleet_capture import Seen
from fleet_parts import benchlib


def percentile(values, share):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def fmt(value, spec=".2f", unit=""):
    return "-" if value is None else f"{value:{spec}}{unit}"


def percentile_ms(values, share):
    """The share-th percentile of values (seconds) in ms, as printed."""
    value = percentile(values, share)
    return fmt(None if value is None else value * 1000, ".1f")


def report(fleet, seen, probes, counters, disk, state_disk):
    """Print the measurements."""
    args = fleet.args
    s = fleet.sampler
    gws = fleet.gateways
    marks = s.marks
    if fleet.simulation:
        first, last = "start", "end"
    else:
        first, last = "up", "end"
    wall = marks[last]["t"] - marks[first]["t"]
    busy0, total0 = marks[first]["machine"]
    busy1, total1 = marks[last]["machine"]
    ncpu = os.cpu_count() or 1
    machine = (busy1 - busy0) / max(1, total1 - total0) * 100

    cpu_pct, us_msg, rate, rss, dirty, rss_peak, cpu_total = [], [], [], [], [], [], 0.0
    total_msgs = 0
    for g in gws:
        got = seen.get(g.id, Seen())
        total_msgs += got.messages
        if fleet.simulation:
            life = (g.ended or marks["end"]["t"]) - g.spawned
            cpu = g.cpu_s or 0.0
            msgs = got.messages
        else:
            life = (g.ended or marks["end"]["t"]) - marks["up"]["t"]
            cpu = (g.cpu_s or 0.0) - g.cpu_at_up
            msgs = got.in_interval
        cpu_total += cpu
        cpu_pct.append(cpu / life * 100 if life > 0 else 0)
        us_msg.append(cpu / msgs * 1e6 if msgs else None)
        rate.append(msgs / life if life > 0 else 0)
        mem = s.memory_between(("gateway", g.id), first if not fleet.simulation else None,
                               "stop" if not fleet.simulation else None)
        if mem:
            rss.append(mem[0] / 1024)
            dirty.append(mem[1] / 1024)
            rss_peak.append(mem[2] / 1024)

    def row(label, values, spec=".2f", unit=""):
        values = [v for v in values if v is not None]
        print(f"  {label:<34} {fmt(benchlib.median(values), spec, unit):>12} {fmt(max(values) if values else None, spec, unit):>12}")

    mode = (f"a simulated {parts.iso(fleet.simulation[0])} .. {parts.iso(fleet.simulation[1])} at speed "
            f"{fleet.simulation[2]:g}" if fleet.simulation else f"real time, {args.seconds} s")
    print()
    print(f"FLEET  {len(gws)} gateways, broker {args.broker}, store {args.store}, {mode}"
          + (", node A killed mid-run" if fleet.kill else ""))
    tuning = () if args.untuned else type(fleet.broker).TUNING
    print(f"  broker tuning: {'; '.join(tuning) if tuning else 'none (as packaged, but what the test needs)'}")
    print(f"  per gateway: footfall every {parts.FOOTFALL_INTERVAL_S} s, light every {parts.LIGHT_INTERVAL_S} s, "
          f"lamp every {parts.LAMP_INTERVAL_S} s, window {parts.WINDOW_S // 60} min, health "
          f"{parts.HEALTH_INTERVAL}, QoS 1; measured over {wall:.0f} s "
          f"({'each gateway its whole life' if fleet.simulation else 'from all connected to the end'})")
    print(f"  {'per gateway':<34} {'median':>12} {'max':>12}")
    row("CPU, % of a core", cpu_pct, ".3f", " %")
    row("CPU per message, µs", us_msg, ".0f")
    row("messages/s (real)", rate, ".3f")
    row("RSS steady, MiB", rss, ".1f")
    row("RSS peak, MiB", rss_peak, ".1f")
    row("Private_Dirty steady, MiB", dirty, ".2f")
    row("state_dir after the run, KiB", [b / 1024 for b in state_disk], ".0f")
    total_cpu = cpu_total / wall * 100 if wall else 0
    print(f"  all gateways together: {cpu_total:.1f} s of CPU, {total_cpu:.1f} % of a core over the {wall:.0f} s, "
          f"{total_msgs:,} messages, "
          f"{sum(rss):.0f} MiB RSS, {sum(dirty):.0f} MiB private dirty")

    servers = []
    points = sum(counters.get("found_points", {}).values())
    before = s.memory_at("start")
    print(f"  {'servers and clients':<34} {'CPU % core':>12} {'µs/unit':>12} {'RSS MiB':>9} {'dirty MiB':>9} "
          f"{'peak RSS':>9} {'RSS before':>10}")
    for key in sorted(k for k in s.watched if k[0] in ("server", "client")):
        cpu = s.between(key, first, last)
        mem = s.memory_between(key, first, last)
        unit = None
        if key[0] == "server" and key[1] in ("influxd", "victoriametrics"):
            unit = cpu / points * 1e6 if points else None
            what = "/point"
        elif key[0] == "server" and key[1] != "epmd":
            unit = cpu / total_msgs * 1e6 if total_msgs else None
            what = "/msg"
        else:
            what = ""
        servers.append((key[1], cpu / wall * 100 if wall else 0))
        print(f"  {key[1]:<34} {cpu / wall * 100 if wall else 0:>11.2f}% {fmt(unit, '.1f') + what:>12} "
              f"{fmt(mem and mem[0] / 1024, '.1f'):>9} {fmt(mem and mem[1] / 1024, '.1f'):>9} "
              f"{fmt(mem and mem[2] / 1024, '.1f'):>9} {fmt(before.get(key) and before[key] / 1024, '.1f'):>10}")
    ours = (cpu_total / wall * 100 if wall else 0) + sum(pct for _, pct in servers)
    print(f"  machine: {machine:.1f} % of {ncpu} cores busy over the run; this run's processes "
          f"{ours / ncpu:.1f} % of them, the rest others'")

    # ---- delays
    if not fleet.simulation:
        hi = marks["stop"]["wall"]
        lo = marks["up"]["wall"]
        # Readings taken from 1 s before a kill to 2 s after the last
        # reconnect are the failover's, apart from the rest (calm).
        failover_from = fleet.kill[1] - 1 if fleet.kill else float("inf")
        failover_to = fleet.kill[1] + max(fleet.failover.values(), default=0) + 2 if fleet.kill else float("-inf")
        calm, during = [], []
        for g in gws:
            for ts, d in seen.get(g.id, Seen()).delays:
                if failover_from <= ts <= failover_to:
                    during.append(d)
                elif lo <= ts <= hi:
                    calm.append(d)
        print(f"  delay reading ts -> subscriber: median {percentile_ms(calm, 0.5)} ms, p99 {percentile_ms(calm, 0.99)}"
              f" ms, max {fmt(calm and max(calm) * 1000, '.1f')} ms ({len(calm):,} readings"
              + (", the failover's left out" if fleet.kill else "") + ")")
        if fleet.kill:
            print(f"  readings taken from 1 s before the kill to 2 s after the last reconnect: {len(during):,}, delay "
                  f"median {fmt(benchlib.median(during), '.2f')} s, max {fmt(during and max(during), '.2f')} s")
    else:
        print("  delay reading ts -> subscriber: not measured (ts is virtual); instead:")
        backlog = [seen.get(g.id, Seen()).buffered_max for g in gws]
        drains = []
        for g in gws:
            lines = g.log_lines()
            t_end = next((parts.log_time(x) for x in lines if "simulated end reached" in x), None)
            t_stop = next((parts.log_time(x) for x in lines if "stopped: " in x), None)
            if t_end is not None and t_stop is not None:
                drains.append(t_stop - t_end)
        lives = [g.ended - g.spawned for g in gws if g.ended is not None]
        planned = (fleet.simulation[1] - fleet.simulation[0]) / fleet.simulation[2] if fleet.simulation[2] else 0
        print(f"  the simulation took each gateway median {fmt(benchlib.median(lives), '.0f')} s, max "
              f"{fmt(lives and max(lives), '.0f')} s of real time "
              + (f"(speed alone: {planned:.0f} s; the rest is tryggd's backpressure, at most 2000 messages "
                 f"waiting for the broker)" if planned else "(speed 0: as fast as the broker and the store took it)"))
        print(f"  gateway backlog (`buffered` in health): median {fmt(benchlib.median(backlog), '.0f')}, max "
              f"{fmt(max(backlog) if backlog else None, '.0f')} messages; from the simulated end to the stop line: "
              f"median {fmt(benchlib.median(drains), '.2f')} s, max {fmt(max(drains) if drains else None, '.2f')} s")
    probe = [d for t, d in probes]
    if fleet.kill:
        probe = [d for t, d in probes if not fleet.kill[1] - 1 <= t <= fleet.kill[1] + 30]
    print(f"  delay through the broker alone (prober, QoS 1): median "
          f"{percentile_ms(probe, 0.5)} ms, p99 {percentile_ms(probe, 0.99)} ms ({len(probe)} probes)")
    if fleet.failover:
        times = list(fleet.failover.values())
        print(f"  failover (kill -> 'connected again' to B): median {benchlib.median(times):.2f} s, "
              f"max {max(times):.2f} s")

    # ---- bytes
    msgs = sum(x.messages for x in seen.values())
    payload = sum(x.payload_bytes for x in seen.values())
    topic = sum(x.topic_bytes for x in seen.values())
    packets = sum(x.packet_bytes for x in seen.values())
    kinds = {}
    for x in seen.values():
        for k, n in x.kinds.items():
            kinds[k] = kinds.get(k, 0) + n
    if msgs:
        print(f"  MQTT: {msgs:,} messages ({', '.join(f'{k} {n:,}' for k, n in sorted(kinds.items()))}); per message "
              f"payload {payload / msgs:.0f} B, topic {topic / msgs:.0f} B, PUBLISH + PUBACK {packets / msgs:.0f} B")
    c = counters.get("store", {})
    span_s = (fleet.simulation[1] - fleet.simulation[0]) if fleet.simulation else None
    if points:
        per = f"{points / len(gws):,.0f} points per gateway"
        if span_s:
            per += f" ({points / len(gws) / span_s * 86400:,.0f} a day)"
        unit_bytes = "write bodies" if args.store == "influxd" else "all HTTP bytes read, headers and read-backs incl."
        print(f"  store: {points:,} points ({per}), {c.get('requests', 0):,.0f} write requests, "
              f"{c.get('bytes', 0) / points:.0f} B per point ({unit_bytes}); its folder {disk / 1e6:.1f} MB after the run, "
              f"{disk / points:.0f} B per point" + (f", {disk / c['samples']:.1f} B per sample ({c['samples']:,.0f} samples)"
                                                   if c.get("samples") else ""))
