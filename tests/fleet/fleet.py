#!/usr/bin/env python3
"""A city's fleet: N tryggd gateways on one broker and one store, measured
and then checked window by window and seq by seq.

    fleet.py N [--broker mosquitto|rabbitmq-cluster] [--store influxd|victoriametrics]
               [--virtual-day | --virtual SPAN | --seconds S] [--speed X] [--kill-node]
               [--tryggd PATH] [--work DIR] [--keep]

One broker (a private mosquitto, or two RabbitMQ nodes clustered on
loopback with the MQTT plugin) and one store (a private influxd, api v1, or
VictoriaMetrics without deduplication) start on free loopback ports in a
new folder under --work (default $TMPDIR); N tryggd processes start, each
with its config and state_dir there.  Everything started is stopped at the
end, also on failure or Ctrl-C, and no process naming the folder may be
left.  The folder is removed when every check holds (kept with --keep, or
on failure, for a post-mortem).

The gateways (what a real deployment would run): ids SLUG-NN, spread in
turn over the five districts of seeds/districts.ini (Fröslunda, Lagerberg,
Nyfors, Skiftinge, Årby), each at a site of its own; three sim sensors each
(footfall `passage` sampled every 5 s, so that passes are published as they
come, within 5 s, as a gpio counter does; light `ljus` every 10 s; lamp
`lampa` every 10 s, paired with the light); 5-minute windows; health every
60 s, status every 5 min; every reading on MQTT at QoS 1; points to the
store.  About 0.25 messages a second and 4 points every 5 minutes per
gateway.  With the cluster every gateway lists node A, then node B
(`uri = A, B`), and the subscriber is on B, so every message crosses the
cluster.

The run is either real time for S seconds (default 300), or a simulated
span (--virtual-day, or --virtual 1h, 90min, 2d ...) in the recent past
(VictoriaMetrics keeps nothing more than two days ahead of now), at --speed
virtual seconds per real second (default: the span in 240 s, a day at 360:
what 100 gateways on mosquitto and influxd take on two cores with a
quarter of them to spare; RabbitMQ wants about 144).  A real-time
run starts and stops its gateways away from a window boundary, so that the
windows each must have are known: from the one it started in to the one a
SIGTERM cut short.

Measured: each gateway's CPU (wait4: user + system, all threads; in real
time from the moment all are connected, from /proc, to its exit; in a
simulation its whole life) as % of a core and µs per message it sent, its
memory (Rss and Private_Dirty from /proc/PID/smaps_rollup every second;
steady: the median of the later half of its samples), its messages a
second (as the subscriber got them); the broker's and the store's CPU and
memory (every process of every RabbitMQ node), the subscriber's and this
program's, and the machine's; the delay from a reading's `ts` to its
arrival at the subscriber (real time only: in a simulation `ts` is
virtual); in both, a prober's delay through the broker alone (a
mosquitto_pub of its own, 4 messages a second), and in a simulation the
gateways' own backlog (`buffered` in their health messages) and how long
each took, once its simulated end was reached, to deliver what was left.
Bytes: MQTT packets computed from the topics and payloads received
(PUBLISH at QoS 1 and its PUBACK), the store's own count of write bytes,
and the store's folder after the run.

Checked, every check able to fail (fleet_checks.py, whose self-check runs
first):
  - every gateway exits 0 (real time: after SIGTERM), its stop line says
    nothing kept, dropped or lost, no point set aside or dropped;
  - every window of every gateway in the store exactly once, per series
    (each sensor and the gateway's own point): influxd's count() equals the
    points returned; VictoriaMetrics, without dedup, shows a point stored
    twice twice, and any is counted and fails;
  - every window message of every sensor on MQTT (at least once: repeats
    counted, not failed, after a failover);
  - every `seq` of every gateway seen by the subscriber, 1 to the last it
    recorded, none missing, none on two readings (repeats counted);
  - the store dropped nothing it answered 2xx to (influxd's
    pointsWrittenDropped/Fail, VictoriaMetrics' invalid and ignored rows);
  - every gateway's retained status reads online from the node the
    gateways are on (after a --kill-node, the surviving one), before the
    stop; after a simulation's end, offline;
  - --kill-node (cluster only): node A is SIGKILLed (beam.smp and all)
    mid-run; every gateway says "connected again" to B, and loses nothing.

The brokers are tuned only through documented options, listed in
fleet_parts.py with the measurement behind each (mosquitto: none;
RabbitMQ: mqtt.prefetch = 1000); --untuned runs them without.
--sabotage seq|window|store|status puts one flaw of that kind into what is
checked (a reading or window message taken out of the subscriber's file, a
point deleted from the store, a retained status said wrong), to see the
check fail.

Exit 0 when all hold, 1 with the list of what did not.  Python 3.11
standard library only.
"""

import argparse
import os
import re
import resource
import signal
import sys
import tempfile
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import fleet_checks  # noqa: E402
import fleet_parts as parts  # noqa: E402
from fleet_capture import Seen, read_capture  # noqa: E402
from fleet_report import report  # noqa: E402
from fleet_sampler import Sampler  # noqa: E402

DEFAULT_SECONDS = 300
DEFAULT_VIRTUAL_REAL_S = 240
SPAWN_GAP_S = 0.02          # between two gateways' starts
BOUNDARY_MARGIN_S = 10      # real time: no start or stop this close to a window boundary
CONNECT_TIMEOUT_S = 120
FAILOVER_TIMEOUT_S = 90
STOP_TIMEOUT_S = 60
KILL_AT = 0.4               # --kill-node: at this share of the run


def parse_span(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|min|h|d)?", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a span: {text!r} (e.g. 90min, 1h, 1d)")
    return int(float(m.group(1)) * {"s": 1, None: 1, "min": 60, "h": 3600, "d": 86400}[m.group(2)])


class Fleet:
    def __init__(self, args):
        self.args = args
        self.p = parts.Problems()
        self.token = uuid.uuid4().hex[:8]
        self.prefix = f"fleet-{self.token}"
        os.makedirs(args.work, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="fleet-", dir=args.work)
        self.broker = None
        self.store = None
        self.sub = None
        self.prober = None
        self.gateways = []
        self.sampler = Sampler(1.0)
        self.kill = None            # (monotonic, wall)
        self.failover = {}          # gateway -> seconds from the kill to "connected again"
        self.status_checks = []     # (what, {gw: payload}, state)
        self.simulation = None      # (start, end, speed)
        self.timeline = {}

    # ---- set-up

    def say(self, text):
        print(f"[{time.monotonic() - self.t0:6.1f} s] {text}", flush=True)

    def start_servers(self):
        self.broker = parts.BROKERS[self.args.broker](self.work, tuned=not self.args.untuned)
        self.store = parts.Store(self.args.store, self.work)
        self.say(self.broker.start())
        self.say(self.store.start())
        # Payloads as sent (%p), not in hex: a day of 100 gateways fills half
        # a GB less.
        self.sub = parts.SessionSubscriber(self.broker.subscriber_port(), self.prefix,
                                           os.path.join(self.work, "subscriber.txt"), payload_format="%p")
        if not self.sub.publish_marker("probe", timeout_s=30):
            raise RuntimeError("the subscriber got nothing through the broker")
        if self.args.broker == "rabbitmq-cluster" and \
                not self.sub.publish_marker("via-a", port=self.broker.a.mqtt_port):
            raise RuntimeError("a message published to node A did not reach the subscriber on B")
        for label, pids in {**self.broker.groups(), **self.store.groups()}.items():
            self.sampler.watch(("server", label), pids)
        self.sampler.watch(("client", "subscriber"), self.sub.pids)
        self.prober = parts.Prober(self.prefix, self.broker.live_port)
        self.sampler.watch(("client", "prober"), self.prober.pids)
        self.sampler.watch(("client", "fleet.py"), lambda: [os.getpid()])

    def write_configs(self):
        profiles = os.path.join(parts.ROOT, "seeds", "districts.ini")
        for spec in parts.layout(self.args.count):
            g = parts.Gateway(spec, self.work)
            parts.write_gateway_config(g.config, spec, state_dir=g.state, profiles=profiles, uris=self.broker.uris,
                                       prefix=self.prefix, store=self.store, simulation=self.simulation)
            self.gateways.append(g)
            self.sampler.watch(("gateway", g.id), g.pids)

    def spawn(self):
        for g in self.gateways:
            g.start(self.args.tryggd)
            time.sleep(SPAWN_GAP_S)

    def reap(self):
        for g in self.gateways:
            g.poll()
        return [g for g in self.gateways if g.status is None]

    def wait_logs(self, pattern, timeout_s, after=None):
        """Until every gateway's log has a line matching pattern (after the
        wall time `after`, if given); {gateway: (line time, line)}; those
        missing at the timeout are left out."""
        regex = re.compile(pattern)
        found = {}
        deadline = time.monotonic() + timeout_s
        while True:
            for g in self.gateways:
                if g.id in found:
                    continue
                for line in g.log_lines():
                    if regex.search(line):
                        t = parts.log_time(line)
                        if after is None or (t is not None and t >= after - 0.002):
                            found[g.id] = (t, line)
                            break
            if len(found) == len(self.gateways) or time.monotonic() > deadline:
                return found
            self.reap()
            if all(g.status is not None for g in self.gateways if g.id not in found):
                return found
            time.sleep(0.25)

    # ---- the run

    def run(self):
        self.t0 = time.monotonic()
        args = self.args
        problems = fleet_checks.self_check()
        self.p.expect(not problems, "self-check: each check finds the flaw it is there for", "; ".join(problems))
        if args.virtual:
            span = args.virtual
            now = int(time.time())
            start = (now - span - 86400) // 86400 * 86400 if span >= 86400 else (now - span - 3600) // 3600 * 3600
            speed = args.speed if args.speed is not None else span / DEFAULT_VIRTUAL_REAL_S
            self.simulation = (start, start + span, speed)
        self.start_servers()
        self.write_configs()
        self.sampler.start()
        self.prober.start()
        if self.simulation:
            self.run_simulated()
        else:
            self.run_real_time()
        self.sampler.mark("end")
        self.say("all gateways stopped; the end marker through the broker")
        self.p.expect(self.sub.publish_marker("end", port=self.broker.live_port(), timeout_s=300),
                      "the end marker came through the broker after every gateway's messages")

    def run_real_time(self):
        args = self.args
        window = parts.WINDOW_S
        spawn_s = len(self.gateways) * SPAWN_GAP_S + 5
        now = time.time()
        boundary = (now // window + 1) * window
        if boundary - now < spawn_s + BOUNDARY_MARGIN_S:
            # A gateway started across a boundary would have one window
            # fewer than its start time says.
            wait = boundary + BOUNDARY_MARGIN_S - now
            self.say(f"waiting {wait:.0f} s, past the window boundary at {parts.iso(boundary)}")
            time.sleep(wait)
        self.sampler.mark("start", memory=True)
        self.say(f"starting {len(self.gateways)} gateways")
        self.spawn()
        started_wall = self.gateways[0].spawned_wall
        connected = self.wait_logs(r"mqtt: connected to ", CONNECT_TIMEOUT_S)
        self.p.expect(len(connected) == len(self.gateways), "every gateway connects to the broker",
                      f"{len(connected)} of {len(self.gateways)}")
        self.sampler.mark("up")
        self.say(f"all {len(connected)} connected")
        for g in self.gateways:
            g.cpu_at_up = self.sampler.marks["up"]["cpu"].get(("gateway", g.id), 0.0)
        planned = started_wall + args.seconds
        b = planned // window * window
        if planned - b < BOUNDARY_MARGIN_S:
            planned = b + BOUNDARY_MARGIN_S
        elif b + window - planned < BOUNDARY_MARGIN_S:
            planned = b + window + BOUNDARY_MARGIN_S
        if args.kill_node:
            # Just after a slot every sensor samples (a multiple of 10 s):
            # the readings of all the gateways are then on their way.
            kill_at = started_wall + KILL_AT * (planned - started_wall)
            kill_at = (kill_at // 10 + 1) * 10 + 0.005
            time.sleep(max(0.0, kill_at - time.time()))
            self.kill_node()
        time.sleep(max(0.0, planned - time.time()))
        self.check_status("before the stop", "online")
        self.sampler.mark("stop")
        self.say("SIGTERM to every gateway")
        for g in self.gateways:
            g.sent_term = time.time()
            g.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while self.reap() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = self.reap()
        self.p.expect(not left, f"every gateway stops within {STOP_TIMEOUT_S} s of SIGTERM",
                      ", ".join(g.id for g in left[:10]))
        for g in self.gateways:
            first = g.spawned_wall // window * window
            last = g.sent_term // window * window
            g.expected = list(range(int(first) * 1000, int(last) * 1000 + 1, window * 1000))

    def run_simulated(self):
        start, end, speed = self.simulation
        # At speed 0 nobody knows beforehand how long: the kill and the
        # mid-run status check then come as soon as every gateway is up.
        real_s = (end - start) / speed if speed > 0 else 0.0
        self.say(f"simulating {parts.iso(start)} .. {parts.iso(end)} at speed {speed:g} "
                 + (f"(about {real_s:.0f} s)" if speed > 0 else "(as fast as the servers take it)"))
        self.sampler.mark("start", memory=True)
        self.spawn()
        connected = self.wait_logs(r"mqtt: connected to ", CONNECT_TIMEOUT_S)
        self.p.expect(len(connected) == len(self.gateways), "every gateway connects to the broker",
                      f"{len(connected)} of {len(self.gateways)}")
        self.say(f"all {len(connected)} connected")
        checked = False
        if self.args.kill_node:
            kill_at = self.sampler.marks["start"]["t"] + KILL_AT * real_s
            time.sleep(max(0.0, kill_at - time.monotonic()))
            if len(self.reap()) < len(self.gateways):
                self.p.add("the kill came while every gateway was still running",
                           "some had ended already: --speed too high for the span")
            self.kill_node()
            self.check_status("after the failover", "online")
            checked = True
        else:
            mid = self.sampler.marks["start"]["t"] + 0.5 * real_s
            time.sleep(max(0.0, mid - time.monotonic()))
            if len(self.reap()) == len(self.gateways):
                self.check_status("mid-run", "online")
                checked = True
        if not checked:
            self.p.add("the status was read while every gateway ran", "some had ended already")
        timeout = 3 * real_s + 900
        deadline = time.monotonic() + timeout
        last_said = time.monotonic()
        while (running := self.reap()) and time.monotonic() < deadline:
            if time.monotonic() - last_said > 30:
                self.say(f"{len(running)} gateways still running")
                last_said = time.monotonic()
            time.sleep(0.1)
        left = self.reap()
        self.p.expect(not left, f"every gateway ends its simulation by itself (within {timeout:.0f} s)",
                      ", ".join(g.id for g in left[:10]))
        parts.signal_all(left, signal.SIGKILL)
        for g in left:
            g.poll(block=True)
        self.check_status("after the simulation's end", "offline")
        for g in self.gateways:
            g.expected = list(range(start * 1000, end * 1000, parts.WINDOW_S * 1000))

    def kill_node(self):
        self.kill = self.broker.kill_node()
        self.say("node A SIGKILLed (beam.smp and all)")
        self.prober.move()
        again = self.wait_logs(r"mqtt: connected again", FAILOVER_TIMEOUT_S, after=self.kill[1])
        self.p.expect(len(again) == len(self.gateways), "every gateway connects again after the kill",
                      f"{len(again)} of {len(self.gateways)}; not: "
                      f"{', '.join(g.id for g in self.gateways if g.id not in again)[:200]}")
        wrong = [f"{gw}: {line}" for gw, (_, line) in again.items() if not line.endswith(self.broker.b.uri)]
        self.p.expect(not wrong, "each says it is connected to B", "; ".join(wrong[:3]))
        self.failover = {gw: t - self.kill[1] for gw, (t, _) in again.items() if t is not None}
        if self.failover:
            self.say(f"failover: all {len(again)} again within {max(self.failover.values()):.2f} s of the kill")

    def check_status(self, when, state):
        port = self.broker.live_port()
        if "status" in self.args.sabotage and not self.status_checks:
            g = self.gateways[0]
            other = "offline" if state == "online" else "online"
            parts.publish(port, f"{self.prefix}/{g.spec['slug']}/{g.id}/status", f'{{"state":"{other}"}}',
                          retain=True)
            self.say(f"sabotage: {g.id}'s retained status made {other}")
        topics = {f"{self.prefix}/{g.spec['slug']}/{g.id}/status": g.id for g in self.gateways}
        statuses = {topics[t]: text for t, text in parts.retained_statuses(port, list(topics)).items() if t in topics}
        flaws = fleet_checks.status_flaws(statuses, [g.id for g in self.gateways], state)
        where = "the surviving node B" if self.kill else "the broker" if self.args.broker == "mosquitto" \
            else "node A, where the gateways are"
        self.p.expect(not flaws, f"{when}: every gateway's retained status is {state}, read fresh from {where}",
                      f"{len(flaws)} not: " + "; ".join(f"{gw} {text[:60]}" for gw, text in flaws[:4]))
        self.status_checks.append((when, state, len(statuses) - len(flaws)))

    # ---- after the run

    def close(self):
        """Stop everything, in order; then nothing of ours may be left."""
        leftovers = []
        for g in self.gateways:
            if g.running():
                g.signal(signal.SIGKILL)
                g.poll(block=True)
        parts.close_all((self.prober, self.sub))
        self.sampler.stop()
        if self.store is not None and self.store.server.running():   # main() may have, for its disk
            try:
                self.store.close()
            except Exception as e:  # noqa: BLE001
                print(f"  (teardown of the store: {e})")
        if self.broker is not None:
            leftovers = self.broker.close()
        time.sleep(0.2)
        left = parts.processes_naming(self.work)
        return leftovers, left


def check(fleet, seen, bad, counters):
    p = fleet.p
    gws = fleet.gateways
    p.expect(not bad, "every line the subscriber wrote is understood", "; ".join(bad[:3]))

    # exits and stop lines
    wrong = [f"{g.id}: {g.status}" for g in gws if g.status != 0]
    p.expect(not wrong, "every gateway exits 0", "; ".join(wrong[:5]))
    stop_re = re.compile(r"stopped: (\d+) readings, (\d+) windows, (\d+) MQTT messages delivered, (\d+) kept for the "
                         r"next start, (\d+) dropped, (\d+) lost to the disk; (\d+) points stored, (\d+) set aside, "
                         r"(\d+) dropped from a full spool")
    unhappy = []
    for g in gws:
        m = next(filter(None, map(stop_re.search, reversed(g.log_lines()))), None)
        if not m:
            unhappy.append(f"{g.id}: no stop line")
            continue
        kept, dropped, lost, aside, spool_dropped = (int(m.group(i)) for i in (4, 5, 6, 8, 9))
        if kept or dropped or lost or aside or spool_dropped:
            unhappy.append(f"{g.id}: {m.group(0)}")
    p.expect(not unhappy, "every stop line: nothing kept, dropped or lost, no point set aside or dropped",
             "; ".join(unhappy[:3]))

    # the store
    fleet.store.flush()
    store_flaws, found_points, dup_points = [], {}, 0
    per_gateway = {}
    for g in gws:
        found, problems = fleet.store.windows(g.id)
        store_flaws += [f"{g.id}: {x}" for x in problems]
        for series in parts.SERIES:
            flaws = fleet_checks.window_flaws(found.get(series, []), g.expected)
            found_points[(g.id, series)] = len(found.get(series, []))
            dup_points += flaws["duplicates"]
            if not fleet_checks.flawless(flaws, duplicates_allowed=False):
                store_flaws.append(f"{g.id} {series}: missing {len(flaws['missing'])} "
                                   f"{[parts.iso(w / 1000) for w in flaws['missing'][:3]]}, extra "
                                   f"{len(flaws['extra'])}, twice {flaws['duplicates']}")
        per_gateway[g.id] = found
    windows_each = len(gws[0].expected) if gws else 0
    p.expect(not store_flaws, f"every window of every gateway in the store exactly once ({len(gws)} gateways x "
             f"{len(parts.SERIES)} series x {windows_each} windows; {dup_points} stored twice)",
             "; ".join(store_flaws[:4]))
    counters["found_points"] = found_points
    c = fleet.store.counters()
    counters["store"] = c
    p.expect(c["dropped"] == 0, f"the store dropped nothing it answered 2xx to ({fleet.store.kind}'s own counters)",
             f"{c['dropped']}")

    # MQTT windows
    mqtt_flaws, mqtt_repeats = [], 0
    for g in gws:
        got = seen.get(g.id, Seen())
        for sensor, _, _, _ in parts.SENSORS:
            flaws = fleet_checks.window_flaws(got.windows.get(sensor, []), g.expected)
            mqtt_repeats += flaws["duplicates"]
            if not fleet_checks.flawless(flaws, duplicates_allowed=True):
                mqtt_flaws.append(f"{g.id} {sensor}: missing {len(flaws['missing'])}, extra {len(flaws['extra'])}")
    p.expect(not mqtt_flaws, f"every window message of every sensor on MQTT ({mqtt_repeats} came again)",
             "; ".join(mqtt_flaws[:4]))

    # seq
    seq_flaws, readings, repeats, reused = [], 0, 0, 0
    for g in gws:
        got = seen.get(g.id, Seen())
        last = g.last_seq()
        flaws = fleet_checks.seq_flaws(got.seqs, got.reused, last)
        readings += last
        repeats += got.repeats
        reused += len(flaws["reused"])
        if last < 1 or not fleet_checks.flawless(flaws):
            seq_flaws.append(f"{g.id}: last {last}, missing {len(flaws['missing'])} {flaws['missing'][:5]}, "
                             f"above {flaws['above'][:3]}, reused {flaws['reused'][:3]}")
    p.expect(not seq_flaws, f"every seq of every gateway on MQTT, 1 to the last recorded ({readings:,} readings; "
             f"{repeats} came again, {reused} numbers on two readings)", "; ".join(seq_flaws[:4]))
    return per_gateway


def sabotage(fleet):
    """--sabotage: a flaw put into what the checks read, to show that they
    fail.  seq, window: one reading or window message of the first gateway
    taken out of the subscriber's file; store: one of its light points
    deleted from the store (influxd: DELETE of that point; VictoriaMetrics,
    which deletes only whole series: its light_coverage series); status:
    (in check_status) its retained status said wrong before the first
    status check."""
    kinds = set(fleet.args.sabotage) - {"status"}
    if not kinds:
        return
    g = fleet.gateways[0]
    for kind, suffix in (("seq", "/reading "), ("window", "/window ")):
        if kind not in kinds:
            continue
        needle = f" {fleet.prefix}/{g.spec['slug']}/{g.id}/".encode()
        with open(fleet.sub.path, "rb") as f:
            lines = f.readlines()
        mine = [i for i, line in enumerate(lines) if needle in line and suffix.encode() in line]
        if mine:
            victim = mine[len(mine) // 2]
            fleet.say(f"sabotage: taken out of the subscriber's file: {lines[victim][:90]!r}")
            del lines[victim]
            with open(fleet.sub.path, "wb") as f:
                f.writelines(lines)
    if "store" in kinds:
        server = fleet.store.server
        if fleet.store.kind == "influxd":
            t = g.expected[len(g.expected) // 2]
            q = (f'DELETE FROM "light" WHERE "gateway" = {parts.servers.quote_string(g.id)} AND '
                 f"time >= {t}ms AND time < {t + 1}ms")
            parts.servers.influx_query(server, q, post=True)
            fleet.say(f"sabotage: {q}")
        else:
            match = urllib.parse.urlencode({"match[]": f'light_coverage{{gateway="{g.id}"}}'})
            status, body = parts.servers._http(f"{server.url}/api/v1/admin/tsdb/delete_series?{match}")
            if status != 204:
                raise RuntimeError(f"delete_series: HTTP {status} {body[:200]!r}")
            fleet.say(f"sabotage: the series light_coverage of {g.id} deleted")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int, metavar="N", help="how many gateways")
    parser.add_argument("--broker", choices=sorted(parts.BROKERS), default="mosquitto")
    parser.add_argument("--store", choices=["influxd", "victoriametrics"], default="influxd")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--virtual-day", dest="virtual", action="store_const", const=86400,
                      help="a simulated day in the recent past")
    mode.add_argument("--virtual", type=parse_span, metavar="SPAN", help="a simulated span: 1h, 90min, 2d ...")
    mode.add_argument("--seconds", type=int, metavar="S", help=f"real time for S seconds (default {DEFAULT_SECONDS})")
    parser.add_argument("--speed", type=float, help="virtual seconds per real second (default: the span in "
                        f"{DEFAULT_VIRTUAL_REAL_S} s; 0: as fast as the servers take it)")
    parser.add_argument("--kill-node", action="store_true", help="SIGKILL RabbitMQ node A mid-run")
    parser.add_argument("--tryggd", default=os.path.join(parts.ROOT, "build", "tryggd"))
    parser.add_argument("--work", default=tempfile.gettempdir(), help="where the run's folder is made")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder")
    parser.add_argument("--untuned", action="store_true", help="the broker as its package sets it up, without "
                        "fleet_parts' tuning lines")
    parser.add_argument("--sabotage", action="append", default=[], choices=["seq", "window", "store", "status"],
                        help="put one flaw of this kind into what is checked, to see the check fail")
    args = parser.parse_args(argv[1:])
    if args.count < 1:
        parser.error("N must be at least 1")
    if args.seconds is None and not args.virtual:
        args.seconds = DEFAULT_SECONDS
    if args.kill_node and args.broker != "rabbitmq-cluster":
        parser.error("--kill-node needs --broker rabbitmq-cluster")
    if args.speed is not None and not args.virtual:
        parser.error("--speed needs --virtual-day or --virtual")
    args.tryggd = os.path.abspath(args.tryggd)
    args.work = os.path.abspath(args.work)
    if not os.access(args.tryggd, os.X_OK):
        sys.exit(f"fleet: {args.tryggd} is not there (scripts/build builds it)")
    for program in ("mosquitto_sub", "mosquitto_pub") + (("mosquitto",) if args.broker == "mosquitto" else ()):
        parts.find_program(program)

    fleet = Fleet(args)
    print(f"fleet: {args.count} gateways, {args.broker}, {args.store}; folder {fleet.work}", flush=True)
    seen = probes = bad = None
    counters = {}
    leftovers = left = []
    disk = 0
    state_disk = []
    try:
        fleet.run()
        sabotage(fleet)
        fleet.say("reading what the subscriber got")
        lo = fleet.sampler.marks.get("up", fleet.sampler.marks["start"])["wall"]
        hi = fleet.sampler.marks["end"]["wall"]
        seen, probes, bad = read_capture(fleet.sub.path, fleet.prefix, (lo, hi), want_delays=not fleet.simulation)
        fleet.say("checking the store and MQTT")
        check(fleet, seen, bad, counters)
        state_disk = [g.state_bytes() for g in fleet.gateways]
    except KeyboardInterrupt:
        fleet.p.add("interrupted")
    finally:
        fleet.say("stopping everything")
        if fleet.store is not None and fleet.store.server.running():
            fleet.store.close()
            disk = fleet.store.disk_bytes()
        leftovers, left = fleet.close()
    if seen is not None:
        report(fleet, seen, probes, counters, disk, state_disk)
    p = fleet.p
    p.expect(not leftovers and not left, "no process of the run left (checked in /proc)",
             "; ".join(f"{pid} {cmd[:60]}" for pid, cmd in (leftovers or left)[:4]))
    children = parts.children()
    p.expect(not children, "no child of this program left, not even a zombie", f"{children}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"runtime {time.monotonic() - fleet.t0:.1f} s (fleet.py itself: {usage.ru_utime + usage.ru_stime:.1f} s CPU, "
          f"peak RSS {usage.ru_maxrss / 1024:.0f} MiB)")
    return p.verdict(fleet.work, f"{args.count} gateways: every window in the store once, every seq on MQTT",
                     remove_work=not args.keep)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
