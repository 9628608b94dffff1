"""What the fleet's subscriber wrote (tests/fleet/fleet.py), read once:
per gateway its messages, bytes, reading numbers, window starts, backlog
and delays, and the prober's delays through the broker alone.

Python 3.11 standard library only.
"""

import json

import fleet_parts as parts


def mqtt_packet_bytes(topic_len, payload_len):
    """A QoS 1 PUBLISH of MQTT 3.1.1 (fixed header, remaining length, topic
    length, topic, packet id, payload) and its PUBACK (4 bytes)."""
    remaining = 2 + topic_len + 2 + payload_len
    length_bytes = 1 if remaining < 128 else 2 if remaining < 16384 else 3
    return 1 + length_bytes + remaining + 4


class Seen:
    """What the subscriber got of one gateway."""

    def __init__(self):
        self.messages = 0
        self.in_interval = 0
        self.topic_bytes = self.payload_bytes = self.packet_bytes = 0
        self.kinds = {}
        self.seqs = {}        # seq -> hash of its first payload
        self.repeats = 0
        self.reused = []
        self.windows = {}     # sensor -> [start ms]
        self.buffered_max = 0
        self.delays = []      # (ts s, arrival - ts)


def read_capture(path, prefix, interval, want_delays):
    """{gateway: Seen}, probe delays [s], lines not understood."""
    seen, probes, bad = {}, [], []
    probe_topic = f"{prefix}/_probe".encode()
    test_topic = f"{prefix}/_test/".encode()
    lo, hi = interval
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            parts_ = raw.rstrip(b"\n").split(b" ", 3)
            try:
                arrival = float(parts_[0])
                topic = parts_[2]
                payload = parts_[3] if len(parts_) > 3 else b""
            except (IndexError, ValueError):
                bad.append(f"line {number}: {raw[:100]!r}")
                continue
            if topic == probe_topic:
                try:
                    probes.append((arrival, arrival - float(payload)))
                except ValueError:
                    bad.append(f"line {number}: probe {payload[:40]!r}")
                continue
            if topic.startswith(test_topic):
                continue
            levels = topic.decode("utf-8", errors="replace").split("/")
            if len(levels) not in (4, 5) or levels[0] != prefix:
                bad.append(f"line {number}: topic {topic[:100]!r}")
                continue
            try:
                message = json.loads(payload)
            except ValueError:
                bad.append(f"line {number}: payload not JSON {payload[:80]!r}")
                continue
            s = seen.get(levels[2])
            if s is None:
                s = seen[levels[2]] = Seen()
            kind = levels[-1]
            s.messages += 1
            if lo <= arrival <= hi:
                s.in_interval += 1
            s.topic_bytes += len(topic)
            s.payload_bytes += len(payload)
            s.packet_bytes += mqtt_packet_bytes(len(topic), len(payload))
            s.kinds[kind] = s.kinds.get(kind, 0) + 1
            if kind == "reading":
                seq = message["seq"]
                h = hash(payload)
                first = s.seqs.get(seq)
                if first is None:
                    s.seqs[seq] = h
                else:
                    s.repeats += 1
                    if first != h:
                        s.reused.append(seq)
                if want_delays:
                    ts = parts.parse_rfc3339_ms(message["ts"]) / 1000
                    s.delays.append((ts, arrival - ts))
            elif kind == "window":
                s.windows.setdefault(levels[3], []).append(parts.parse_rfc3339_ms(message["start"]))
            elif kind == "health":
                s.buffered_max = max(s.buffered_max, message.get("buffered", 0))
    return seen, probes, bad
