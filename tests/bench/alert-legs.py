#!/usr/bin/env python3
"""alert-legs.py — where a latency probe's alert spends its time, from the wire (docs/benchmarks.md).

    tests/bench/alert-legs.py CAPTURE.pcap ALERTS.trace OFFSET_NS

CAPTURE is a tcpdump of the loopback during one latency phase of kaoko-bench (tests/bench/alert-legs.sh makes it);
ALERTS.trace is kaoko-server's KAOKO_ALERT_TRACE file of that run; OFFSET_NS is CLOCK_REALTIME − CLOCK_MONOTONIC in
nanoseconds during the capture (the trace is on the monotonic clock, the capture on the real-time one).

For every probe (a village p0000…), the capture gives four moments on the wire: the probe's second reading reaching
the broker, the broker passing it to kaoko, kaoko's alert for the village reaching the broker, the broker passing it
to the officer. The trace adds two inside kaoko: Paho's callback (arrived) and the alert handed to MqttLink
(published). Prints p50 / p90 / max of each leg, in milliseconds. Only the standard library; libpcap's file format.
"""
import re
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        magic, = struct.unpack("<I", head[:4])
        nano = magic == 0xA1B23C4D
        link, = struct.unpack("<I", head[20:24])
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, caplen, _ = struct.unpack("<IIII", h)
            data = f.read(caplen)
            ip = data[14 if link == 1 else 16:]
            if not ip or ip[0] >> 4 != 4:
                continue
            tcp = ip[(ip[0] & 15) * 4:]
            sport, dport = struct.unpack(">HH", tcp[:4])
            payload = tcp[(tcp[12] >> 4) * 4:]
            if payload:
                yield sec + frac * (1e-9 if nano else 1e-6), sport, dport, payload


def quantile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    capture, trace, offset = sys.argv[1], sys.argv[2], int(sys.argv[3])
    reading = re.compile(rb"kaoko/v1/[a-z0-9-]+/(p\d{4})/station/ps\d{4}/reading.{0,8}?\{\"seq\":2")
    alert = re.compile(rb"kaoko/v1/[a-z0-9-]+/(p\d{4})/alert")
    seen = {}   # (village, "reading" | "alert", n) -> (time, sport, dport): the n-th time it crossed the wire
    count = {}  # (village, "reading" | "alert") -> times seen so far
    for t, sport, dport, payload in packets(capture):
        for what, pattern in (("reading", reading), ("alert", alert)):
            for m in pattern.finditer(payload):
                key = (m.group(1), what)
                n = count.get(key, 0)
                count[key] = n + 1
                seen[key + (n,)] = (t, sport, dport)
    inside = []
    for line in open(trace):
        kv = dict(x.split("=", 1) for x in line.split())
        inside.append(((int(kv["arrived_ns"]) + offset) / 1e9, (int(kv["published_ns"]) + offset) / 1e9))
    legs = {k: [] for k in ("broker: probe → kaoko", "kaoko: wire in → wire out", "  Paho: wire in → callback",
                            "  kaoko's own steps: callback → handed to MQTT", "  Paho: handed to MQTT → wire out",
                            "broker: kaoko → officer", "wire to wire: probe's publish → officer")}
    villages = sorted({k[0] for k in seen})
    for v in villages:
        r0, r1 = seen.get((v, "reading", 0)), seen.get((v, "reading", 1))  # probe → broker, broker → kaoko
        a0, a1 = seen.get((v, "alert", 0)), seen.get((v, "alert", 1))      # kaoko → broker, broker → officer
        if not (r0 and r1 and a0 and a1):
            continue
        legs["broker: probe → kaoko"].append(r1[0] - r0[0])
        legs["kaoko: wire in → wire out"].append(a0[0] - r1[0])
        legs["broker: kaoko → officer"].append(a1[0] - a0[0])
        legs["wire to wire: probe's publish → officer"].append(a1[0] - r0[0])
        match = [x for x in inside if r1[0] - 0.0005 <= x[0] <= a0[0]]
        if match:
            arrived, published = min(match)
            legs["  Paho: wire in → callback"].append(arrived - r1[0])
            legs["  kaoko's own steps: callback → handed to MQTT"].append(published - arrived)
            legs["  Paho: handed to MQTT → wire out"].append(a0[0] - published)
    print(f"{len(legs['broker: probe → kaoko'])} probes seen on all four legs, "
          f"{len(legs['  Paho: wire in → callback'])} matched to kaoko's trace (ms)")
    print(f"{'leg':48s} {'p50':>7s} {'p90':>7s} {'max':>7s}")
    for name, xs in legs.items():
        if xs:
            print(f"{name:48s} {quantile(xs, .5) * 1e3:7.3f} {quantile(xs, .9) * 1e3:7.3f} {max(xs) * 1e3:7.3f}")


if __name__ == "__main__":
    main()
