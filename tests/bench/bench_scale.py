"""Section "scale" (issue 17, row 6): whether a reading costs the same on
a gateway with 1,000 sensors as on one with a single sensor.

One gateway with 1, 10, 100 and 1,000 sim light sensors (a sample a second
each, publish_readings on, 60 s windows) at speed 0 into a private
mosquitto, nobody subscribed.  Every run takes the same number of readings
in all, 60,000 (quick: 2,000), by its virtual span: 60,000 s for one
sensor, 60 s for 1,000.  Each sensor closes a window every 60 readings
whatever their number, so windows weigh the same per reading in every run;
the health message (one a virtual minute) weighs less as the span shrinks.
CPU time from wait4 (user + system, all threads, start-up included) per
reading.  Goal: flat, the cost per reading with 1,000 sensors at most 1.5
times that with one.  The time a window close takes is not measured here.
"""

import os

import bench_publish
import benchlib
from bench import Row

TITLE = "scale: CPU per reading with 1, 10, 100 and 1,000 sim sensors on one gateway"

SIZES = [1, 10, 100, 1000]
READINGS = 60000
QUICK_READINGS = 2000
INTERVAL_S = 1
GOAL = 1.5


def sensors(count):
    return {f"light-{number:04d}": ("light", {"interval": INTERVAL_S, "seed": 1000 + number})
            for number in range(count)}


def measure(ctx, broker, count, readings):
    """One run with count sensors: (Measured, virtual span in seconds)."""
    span_s = readings // count * INTERVAL_S
    config = bench_publish.write_gateway_config(os.path.join(ctx.work, f"tryggd-{count}.conf"),
                                                os.path.join(ctx.work, f"state-{count}"), broker, sensors(count),
                                                span_s)
    measured = bench_publish.run_tryggd(ctx, config, f"tryggd-{count}")
    return measured, span_s


def span_text(seconds):
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min" if seconds >= 60 \
        else f"{seconds} s"


def run(ctx):
    readings = QUICK_READINGS if ctx.quick else READINGS
    results = []
    with benchlib.Mosquitto(os.path.join(ctx.work, "broker"), None) as broker:
        broker.start()
        for count in SIZES:
            measured, span_s = measure(ctx, broker, count, readings)
            results.append((count, measured, span_s))

    def micro(measured):
        return (measured.user_s + measured.system_s) / readings * 1e6

    first, last = micro(results[0][1]), micro(results[-1][1])
    ratio = last / first
    from_ten = last / micro(results[1][1])
    figures = ", ".join(f"{count:,}: {micro(measured):.0f}" for count, measured, _ in results)
    runs = "; ".join(f"{count:,} sensors over {span_text(span_s)}: {measured.wall_s:.1f} s wall, user "
                     f"{measured.user_s:.2f} s, sys {measured.system_s:.2f} s, "
                     f"{bench_publish.delivered(measured.log_path) or 0:,} messages"
                     for count, measured, span_s in results)
    return [Row(name="scale: CPU/reading, 1,000 vs 1 sensor", ratio=ratio, goal=f"<= {GOAL}", met=ratio <= GOAL,
                tryggd=f"µs/reading at {figures}", reference=f"1 sensor {first:.0f} µs/reading",
                notes=[f"{readings:,} readings a run, sim light sensors at {INTERVAL_S} s, speed 0, QoS 1; "
                       f"CPU of the whole process from wait4; 1,000 vs {SIZES[1]} sensors: {from_ten:.2f} (one "
                       f"sensor pays a loop turn and a buffer commit per reading, more sensors share them)", runs])]
