"""Section "footprint" (issue 17, row 3): tryggd's memory while it works in
real time, against collectd doing comparable work at the same time.

tryggd: 8 sim sensors read once a second (4 light, 4 lamp: a sim footfall
sensor publishes only when someone passes, which at night is seldom; on
a virtual clock at speed 1 that starts now, so the clock counts as
synchronised on any machine), every reading published over MQTT (QoS 1)
to a private mosquitto, a window every 10 s (2 s in quick mode) into a
private influxd.

collectd (Debian's collectd-core, as packaged, its default thread counts):
Interval 1 and cheap read plugins giving 8 value lists a second (load,
uptime, entropy, contextswitch, users, fhcount's three), each published by
its mqtt plugin (QoS 1) to the same broker and posted by write_http as
JSON to an HTTP sink of this section's (a thread that answers 200).

Both run at once for 60 s (quick: 5 s).  Every second /proc/PID/
smaps_rollup of each is read: peak is the largest reading (for RSS also
VmHWM, the kernel's own peak; not wait4's ru_maxrss, which counts the
Python parent's RSS at the fork), steady the median of the second half.  The goal is
on tryggd's steady Private_Dirty (the memory it alone holds and the kernel
cannot drop), the ratio tryggd's over collectd's.  The MQTT capture and
the sink's counts show that both did their work, so an idle process
cannot look small.
"""

import http.server
import os
import signal
import threading
import time

import benchlib
import servers
from bench import Row

TITLE = "tryggd's memory with 8 sensors in real time, against collectd"

GOAL_KIB = 1024
COLLECTD = "/usr/sbin/collectd"
PLUGINS = "/usr/lib/collectd"
TYPES_DB = "/usr/share/collectd/types.db"


class _Sink(http.server.BaseHTTPRequestHandler):
    """collectd's write_http endpoint: reads the body, answers 200."""
    posts = 0
    values = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).posts += 1
        type(self).values += body.count(b'"values"')
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _tryggd_config(ctx, path, broker, influxd, window):
    # Start the virtual clock on a whole window, so the first closes after
    # one window's length.
    now = int(time.time()) // window * window
    # Light and lamp sensors publish every reading; a sim footfall sensor
    # only when someone passes, which at night is seldom.
    sensors = {}
    for i in range(4):
        sensors[f"ljus{i}"] = ("light", {"interval": 1, "seed": 100 + i})
        sensors[f"lampa{i}"] = ("lamp", {"interval": 1, "light": f"ljus{i}", "seed": 200 + i})
    benchlib.write_config(path, [
        ("gateway", ["id = bench-fp", "district = Årby", "site = Bänk", f"window = {window}",
                     f"state_dir = {os.path.join(ctx.work, 'state')}"]),
        ("simulation", [f"start = {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))}", "speed = 1"]),
        ("mqtt", [f"uri = {broker.uri}"]),
        ("influx", [f"url = {influxd.url}"]),
        *benchlib.sim_sensors(sensors),
    ])


def _collectd_config(ctx, path, broker_port, sink_port):
    base = os.path.join(ctx.work, "collectd")
    os.makedirs(base, exist_ok=True)
    reads = ["load", "uptime", "entropy", "contextswitch", "users", "fhcount"]
    text = f"""# Written by tests/bench/bench_footprint.py
Hostname "bench-collectd"
FQDNLookup false
BaseDir "{base}"
PIDFile "{os.path.join(ctx.work, 'collectd.pid')}"
PluginDir "{PLUGINS}"
TypesDB "{TYPES_DB}"
Interval 1
{chr(10).join(f'LoadPlugin {p}' for p in reads)}
LoadPlugin mqtt
LoadPlugin write_http
<Plugin fhcount>
  ValuesAbsolute true
  ValuesPercentage false
</Plugin>
<Plugin mqtt>
  <Publish "bench">
    Host "127.0.0.1"
    Port "{broker_port}"
    ClientId "bench-collectd"
    Prefix "collectd"
    QoS 1
    Retain false
  </Publish>
</Plugin>
<Plugin write_http>
  <Node "sink">
    URL "http://127.0.0.1:{sink_port}/collectd"
    Format "JSON"
    StoreRates true
  </Node>
</Plugin>
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _dirty_by_mapping(pid):
    """{mapping: Private_Dirty KiB} from /proc/PID/smaps: a file's mappings
    summed under its base name, nameless ones as [anon] (thread stacks and
    malloc's arenas of other threads among them)."""
    dirty = {}
    name = None
    with open(f"/proc/{pid}/smaps", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and not parts[0].endswith(":"):
                name = os.path.basename(parts[5]) if len(parts) > 5 and parts[5].startswith("/") \
                    else (parts[5] if len(parts) > 5 else "[anon]")
            elif parts[0] == "Private_Dirty:" and int(parts[1]):
                dirty[name] = dirty.get(name, 0) + int(parts[1])
    return dirty


def _figures(samples, hwm_kib):
    """(peak RSS, steady RSS, peak Private_Dirty, steady Private_Dirty), KiB."""
    tail = samples[len(samples) // 2:]
    peak_rss = max([s["Rss"] for s in samples] + [hwm_kib])
    return (peak_rss, benchlib.median([s["Rss"] for s in tail]),
            max(s["Private_Dirty"] for s in samples), benchlib.median([s["Private_Dirty"] for s in tail]))


def _text(figures):
    peak_rss, rss, peak_pd, pd = (benchlib.mib(v) for v in figures)
    return f"dirty {pd:.2f} MiB (peak {peak_pd:.2f}), RSS {rss:.1f} MiB (peak {peak_rss:.1f})"


def run(ctx):
    if not os.access(COLLECTD, os.X_OK):
        return [Row(name="footprint", ratio=None, goal=f"<= {GOAL_KIB // 1024} MiB", met=None, tryggd="",
                    reference="collectd", skipped="collectd not installed (collectd-core)")]
    seconds = 5 if ctx.quick else 60
    window = 2 if ctx.quick else 10
    broker = benchlib.Mosquitto(os.path.join(ctx.work, "mosquitto"), None)
    broker.start()
    influxd = capture = sink = None
    procs = {}
    _Sink.posts = _Sink.values = 0
    try:
        influxd = servers.start_influxd(os.path.join(ctx.work, "influxd"))
        sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        # Everything: tryggd's trygghet/... and collectd's collectd/...
        capture = benchlib.Subscriber(broker, "#", os.path.join(ctx.work, "mqtt.txt"))
        tconf, cconf = os.path.join(ctx.work, "tryggd.conf"), os.path.join(ctx.work, "collectd.conf")
        _tryggd_config(ctx, tconf, broker, influxd, window)
        _collectd_config(ctx, cconf, broker.port, sink.server_address[1])
        procs["tryggd"] = benchlib.Measured([ctx.program("tryggd"), "-c", tconf],
                                            os.path.join(ctx.work, "tryggd.log"), env=benchlib.tryggd_env())
        procs["collectd"] = benchlib.Measured([COLLECTD, "-f", "-C", cconf, "-P",
                                               os.path.join(ctx.work, "collectd.pid")],
                                              os.path.join(ctx.work, "collectd.log"))
        samples = {name: [] for name in procs}
        hwm = {}
        by_mapping = {}
        started = time.monotonic()
        for tick in range(1, seconds + 1):
            # On the second since the start, not a second after each read.
            time.sleep(max(0.0, started + tick - time.monotonic()))
            for name, proc in procs.items():
                if proc.proc.poll() is not None:
                    raise RuntimeError(f"{name} exited early ({proc.proc.returncode}); {proc.log_path}")
                samples[name].append(benchlib.smaps_rollup(proc.pid))
                hwm[name] = benchlib.peak_rss_kib(proc.pid)
            if tick == seconds * 3 // 4:
                by_mapping = _dirty_by_mapping(procs["tryggd"].pid)
        for name, proc in procs.items():
            proc.proc.send_signal(signal.SIGTERM)
        benchlib.wait_all(list(procs.values()), 30)
        capture.drain()
        stored = servers.influx_count(influxd, "light") + servers.influx_count(influxd, "lamp")
    finally:
        for proc in procs.values():
            if proc.status is None:
                proc.proc.kill()
                proc.proc.wait()
        if capture:
            capture.close()
        if sink:
            sink.shutdown()
            sink.server_close()
        if influxd:
            influxd.stop()
        broker.stop()

    topics = os.path.join(ctx.work, "mqtt-messages.txt")
    capture.messages_to(topics)
    with open(topics, "rb") as f:
        messages = [(line.split(b"\t", 1)[0].decode("utf-8", "replace"), None) for line in f]
    readings = sum(1 for topic, _ in messages if topic.endswith("/reading"))
    collectd_messages = sum(1 for topic, _ in messages if topic.startswith("collectd/"))
    t = _figures(samples["tryggd"], hwm["tryggd"])
    c = _figures(samples["collectd"], hwm["collectd"])
    problems = []
    # Half of what a second of each should give over the run: a process
    # that stalled or lost its connection shows.
    if readings < 8 * seconds / 2:
        problems.append(f"tryggd published only {readings} readings in {seconds} s")
    if collectd_messages < 8 * seconds / 2:
        problems.append(f"collectd published only {collectd_messages} MQTT messages in {seconds} s")
    if not ctx.quick and (_Sink.posts == 0 or stored == 0):
        problems.append(f"collectd posted {_Sink.posts} times, influxd holds {stored} of tryggd's points")
    if _Sink.posts == 0:
        # Most likely write_http did not load (it needs libyajl2, which
        # collectd-core only recommends): collectd says why in its log.
        with open(procs["collectd"].log_path, encoding="utf-8", errors="replace") as f:
            said = [line.strip() for line in f if "write_http" in line]
        if said:
            problems.append(f"collectd: {said[-1]}")
    ratio = t[3] / c[3] if c[3] else None
    row = Row(name="footprint dirty", ratio=ratio, goal=f"<= {GOAL_KIB // 1024} MiB",
              met=t[3] <= GOAL_KIB and not problems,
              tryggd=_text(t), reference=f"collectd {_text(c)}")
    row.notes.append(f"{seconds} s at once, sampled every second, steady = median of the last half; "
                     f"tryggd published {readings} readings and stored {stored} points, collectd published "
                     f"{collectd_messages} MQTT messages and posted {_Sink.values} value lists in {_Sink.posts} "
                     f"requests; ratio = tryggd's steady Private_Dirty / collectd's")
    row.notes.append(f"tryggd cpu {procs['tryggd'].user_s + procs['tryggd'].system_s:.2f} s, collectd cpu "
                     f"{procs['collectd'].user_s + procs['collectd'].system_s:.2f} s; steady Pss: "
                     f"tryggd {benchlib.mib(benchlib.median([s['Pss'] for s in samples['tryggd'][seconds // 2:]])):.1f} "
                     f"MiB, collectd "
                     f"{benchlib.mib(benchlib.median([s['Pss'] for s in samples['collectd'][seconds // 2:]])):.1f} MiB")
    top = sorted(by_mapping.items(), key=lambda item: -item[1])[:6]
    row.notes.append(f"tryggd's Private_Dirty at {seconds * 3 // 4} s, largest mappings: "
                     + ", ".join(f"{name} {kib} KiB" for name, kib in top)
                     + f"; the rest {sum(by_mapping.values()) - sum(kib for _, kib in top)} KiB")
    row.notes.extend(problems)
    return [row]
