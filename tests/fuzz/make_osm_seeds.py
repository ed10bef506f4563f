#!/usr/bin/env python3
"""Writes small .osm.pbf seed files for the fuzz_osm_pbf target (tests/fuzz/corpus/fuzz_osm_pbf/).

The shipped extracts are too large for a seed corpus and their blobs are zlib-compressed, which a
byte-mutating fuzzer can hardly get past. These seeds are tiny, valid PBF files with *uncompressed* (raw)
blobs, so mutations reach the PrimitiveBlock, DenseNodes and Way decoding in GDAL's OSM driver and the tag
handling in careshed. Encoding follows https://wiki.openstreetmap.org/wiki/PBF_Format.
Usage: python3 tests/fuzz/make_osm_seeds.py OUT_DIR
"""
import os
import struct
import sys
import zlib


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload  # wire 2: length-delimited


def packed(values, signed=False):
    return b"".join(varint(zigzag(v) if signed else v) for v in values)


def deltas(values):
    prev, out = 0, []
    for v in values:
        out.append(v - prev)
        prev = v
    return out


def blob(kind, message, compress):
    if compress:
        body = field(2, 0, len(message)) + field(3, 2, zlib.compress(message))
    else:
        body = field(1, 2, message)
    header = field(1, 2, kind.encode()) + field(3, 0, len(body))
    return struct.pack(">I", len(header)) + header + body


def osm_pbf(nodes, ways, compress=False):
    """nodes: [(id, lon, lat)], ways: [(id, [node ids], {k: v})]."""
    strings = [b""]
    index = {}

    def s(text):
        b = text.encode()
        if b not in index:
            index[b] = len(strings)
            strings.append(b)
        return index[b]

    way_msgs = []
    for wid, refs, tags in ways:
        keys = [s(k) for k in tags]
        vals = [s(v) for v in tags.values()]
        way_msgs.append(field(1, 0, wid) + field(2, 2, packed(keys)) + field(3, 2, packed(vals)) +
                        field(8, 2, packed(deltas(refs), signed=True)))
    gran = 100  # nanodegrees per unit (the default)
    ids = [n[0] for n in nodes]
    lats = [round(n[2] * 1e9 / gran) for n in nodes]
    lons = [round(n[1] * 1e9 / gran) for n in nodes]
    dense = (field(1, 2, packed(deltas(ids), signed=True)) + field(8, 2, packed(deltas(lats), signed=True)) +
             field(9, 2, packed(deltas(lons), signed=True)) + field(10, 2, packed([0] * len(nodes))))
    table = b"".join(field(1, 2, x) for x in strings)
    node_group = field(2, 2, dense)
    way_group = b"".join(field(3, 2, w) for w in way_msgs)
    block = field(1, 2, table) + field(2, 2, node_group) + field(2, 2, way_group)
    header = field(4, 2, b"OsmSchema-V0.6") + field(4, 2, b"DenseNodes")
    return blob("OSMHeader", header, compress) + blob("OSMData", block, compress)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    # A 3 x 3 street grid near Moroni (Comoros), 0.01 degree apart.
    nodes = [(1 + 3 * r + c, 43.25 + 0.01 * c, -11.70 + 0.01 * r) for r in range(3) for c in range(3)]
    ways = [
        (101, [1, 2, 3], {"highway": "primary", "maxspeed": "50"}),
        (102, [4, 5, 6], {"highway": "residential", "oneway": "yes"}),
        (103, [7, 8, 9], {"highway": "track", "maxspeed": "30 mph", "name": "Rue \"x\""}),
        (104, [1, 4, 7], {"highway": "secondary", "oneway": "-1"}),
        (105, [2, 5, 8, 2], {"highway": "tertiary", "junction": "roundabout"}),
        (106, [3, 6, 9], {"highway": "footway"}),
        (107, [3, 5], {"waterway": "stream"}),
    ]
    seeds = {
        "grid_raw.osm.pbf": osm_pbf(nodes, ways),
        "grid_zlib.osm.pbf": osm_pbf(nodes, ways, compress=True),
        "no_roads_raw.osm.pbf": osm_pbf(nodes, [ways[-1]]),
        "dangling_refs_raw.osm.pbf": osm_pbf(nodes[:4], ways[:3]),
    }
    for name, data in seeds.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/fuzz_osm_pbf")
