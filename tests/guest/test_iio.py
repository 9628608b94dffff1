#!/usr/bin/env python3
"""The iio driver inside the guest, on the kernel's IIO dummy:

    tests/guest/run -- python3 tests/guest/test_iio.py TRYGGD [TRYGGCTL]

One sensor finds the dummy by its name and reads channel in_voltage0 as
(raw + offset) x scale x factor; another names its device as iio:deviceN.
The first device is removed in the middle of a window: the window's
coverage says how much was read, the sensor raises `failed` on its alert
topic, and when a device of that name comes back (under another number)
the sensor finds it again by itself and the alert clears."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import guest  # noqa: E402

WINDOW_S = 4
PREFIX = "gt"
TOPIC = f"{PREFIX}/arby/gw-iio"
FACTOR = 1000.0


def write_config(path, work, fixed_id):
    text = f"""
[gateway]
id = gw-iio
district = Årby
window = {WINDOW_S}
state_dir = {work}/state
clock = trusted

[mqtt]
uri = tcp://127.0.0.1:18830
topic_prefix = {PREFIX}

[sensor.photo]
type = light
driver = iio
device = photo
channel = in_voltage0
factor = {FACTOR}
interval = 1

[sensor.fixed]
type = light
driver = iio
device = {fixed_id}
channel = in_voltage0
interval = 1
"""
    with open(path, "w") as f:
        f.write(text)


def alert_states(messages, sensor):
    out = []
    for _retained, topic, msg in messages:
        if topic == f"{TOPIC}/{sensor}/alert" and (not out or out[-1]["state"] != msg["state"]):
            out.append(msg)
    return out


def main(argv):
    guest.require_guest()
    if len(argv) < 2:
        sys.exit("usage: test_iio.py TRYGGD [TRYGGCTL]")
    tryggd = os.path.abspath(argv[1])
    problems = guest.Problems()
    work = tempfile.mkdtemp(prefix="tryggd-iio-")
    photo = guest.IioDummy("photo")
    fixed = guest.IioDummy("fixed")
    volts = photo.voltage0()
    print(f"dummy in_voltage0: (raw + offset) x scale = {volts!r}; photo {photo.sysfs}, fixed {fixed.sysfs}")
    broker = guest.Broker(work, PREFIX)
    config = os.path.join(work, "tryggd.conf")
    write_config(config, work, os.path.basename(fixed.sysfs))
    proc = guest.start_tryggd(tryggd, config, work)
    other = None
    try:
        if not guest.wait_for("tryggd online",
                              lambda: b"gw-iio/status" in open(broker.capture_path, "rb").read(), 20):
            problems.add("tryggd did not come online")
            return problems.finish("test_iio")
        # A whole window read, then one cut 1.5 s in by the device going.
        full = guest.next_window_start(WINDOW_S, 0.5)
        cut = full + WINDOW_S
        guest.sleep_until(cut + 1.5)
        old_number = photo.sysfs
        photo.remove()
        # Another device takes the freed number; the photo dummy comes back
        # under a new one in the next window.
        guest.sleep_until(cut + WINDOW_S + 0.5)
        other = guest.IioDummy("other")
        photo.add_again()
        print(f"photo removed at {cut + 1.5:.1f}, back as {photo.sysfs} (was {old_number})")
        problems.check("photo came back under another number", True, photo.sysfs != old_number)
        # Backoff from 1 s, doubling: recovered within a few seconds; then
        # a whole window more.
        guest.sleep_until(cut + 5 * WINDOW_S + 0.5)
        messages = broker.messages(problems)
    finally:
        status = guest.stop_tryggd(proc, work)
        broker.stop()
        for device in (photo, fixed, other):
            if device is not None and os.path.isdir(os.path.join(guest.IIO_DUMMY, device.name)):
                device.remove()

    photo_windows = guest.windows(messages, TOPIC, "photo")
    window = photo_windows.get(full, {})
    expected = volts * FACTOR
    problems.check("photo: full window samples", 4, window.get("samples"))
    problems.check("photo: full window coverage", 1, window.get("coverage"))
    for key in ("lux_min", "lux_mean", "lux_max"):
        problems.check(f"photo: {key} = (raw + offset) x scale x factor, to 1e-9", True,
                       abs(window.get(key, -1) - expected) < 1e-9 * expected)
    window = photo_windows.get(cut, {})
    problems.check("photo: cut window samples (slots 0 and 1 read)", 2, window.get("samples"))
    problems.check("photo: cut window coverage", 0.5, window.get("coverage"))
    recovered = [start for start, w in sorted(photo_windows.items()) if start > cut and w.get("coverage") == 1]
    problems.check("photo: whole windows again after it came back", True, len(recovered) >= 2)
    if recovered:
        print(f"photo: first whole window after recovery starts {recovered[0] - cut} s after the cut one")
    fixed_windows = guest.windows(messages, TOPIC, "fixed")
    problems.check("fixed (by iio:deviceN): every window whole, unaffected",
                   True, len(fixed_windows) >= 5 and all(w.get("coverage") == 1 for s, w in fixed_windows.items()
                                                           if full <= s < cut + 5 * WINDOW_S))
    problems.check("fixed: lux_mean without factor", True,
                   abs(fixed_windows.get(full, {}).get("lux_mean", -1) - volts) < 1e-9 * volts)

    states = alert_states(messages, "photo")
    problems.check("photo alert states", ["ok", "failed", "ok"], [m["state"] for m in states])
    if len(states) >= 2:
        print(f"failed alert: {states[1].get('detail')!r} since {states[1].get('since')}")
        problems.check("failed alert detail says why", True, "No such device" in states[1].get("detail", ""))
    problems.check("fixed alert states", ["ok"], [m["state"] for m in alert_states(messages, "fixed")])
    problems.check("tryggd exit status", 0, status)
    return problems.finish("test_iio")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
