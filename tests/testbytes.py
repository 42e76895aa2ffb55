"""Byte builders the malformed-input tests share."""

from __future__ import annotations

import zlib


def gzip_bomb(inflated: int) -> bytes:
    """A valid gzip stream of ``inflated`` zero bytes (~1000:1), built without holding them in memory."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [comp.compress(block) for _ in range(inflated >> 20)]
    parts.append(comp.flush())
    return b"".join(parts)


def uvarint(v: int) -> bytes:
    """Unsigned LEB128, as Go's binary.AppendUvarint writes it."""
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def pb_field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return uvarint(number << 3 | 2) + uvarint(len(payload)) + payload


def pb_varint(number: int, value: int) -> bytes:
    return uvarint(number << 3) + uvarint(value)


def pprof_raw(samples: list[bytes], *, locations: int = 1, values: int = 1) -> bytes:
    """An uncompressed profile.proto: ``values`` sample types, ``locations`` locations each
    with one line of one function, and the given encoded samples (see :func:`pprof_sample`)."""
    strings = [b"", b"samples", b"count", b"main.f", b"main.go"]
    out = [pb_field(1, pb_varint(1, 1) + pb_varint(2, 2)) for _ in range(values)]
    out.extend(pb_field(2, s) for s in samples)
    for i in range(1, locations + 1):
        out.append(pb_field(4, pb_varint(1, i) + pb_field(4, pb_varint(1, 1) + pb_varint(2, i))))
    out.append(pb_field(5, pb_varint(1, 1) + pb_varint(2, 3) + pb_varint(4, 4)))
    out.extend(pb_field(6, s) for s in strings)
    return b"".join(out)


def pprof_sample(location_ids: bytes | list[int], values: list[int]) -> bytes:
    """An encoded Sample; ``location_ids`` may be pre-encoded packed varints."""
    ids = location_ids if isinstance(location_ids, bytes) else b"".join(map(uvarint, location_ids))
    return pb_field(1, ids) + pb_field(2, b"".join(map(uvarint, values)))


def gzip_bytes(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return comp.compress(data) + comp.flush()


def pprof_deep_stack(frames: int) -> bytes:
    """A gzipped profile whose one sample has ``frames`` frames (all location 1)."""
    return gzip_bytes(pprof_raw([pprof_sample(b"\x01" * frames, [1])]))


def pprof_many_samples(n: int, distinct: int = 1000) -> bytes:
    """A valid gzipped profile of ``n`` samples over ``distinct`` one-frame stacks."""
    samples = [pprof_sample([1 + i % distinct], [1 + i % 7]) for i in range(n)]
    return gzip_bytes(pprof_raw(samples, locations=distinct))


def pprof_shape(kind: str, n: int) -> bytes:
    """An uncompressed valid profile stressing one part of decoding with ``n`` items:
    ``samples`` (one-frame samples), ``deep`` (one sample of n frames), ``stacks`` (n distinct
    30-frame stacks over 500 locations), ``labels`` (n samples, each its own label),
    ``locations``, ``inlined`` (n locations of 4 lines each), ``functions``, ``strings``."""
    strings = [b"", b"samples", b"count", b"main.f", b"main.go", b"bytes"]
    head = [pb_field(1, pb_varint(1, 1) + pb_varint(2, 2))]
    samples: list[bytes] = []
    locations = 1
    lines_per_location = 1
    functions = 1
    if kind == "samples":
        samples = [pprof_sample([1], [1 + i % 5]) for i in range(n)]
    elif kind == "deep":
        samples = [pprof_sample(b"\x01" * n, [1])]
    elif kind == "stacks":
        locations = 500
        samples = [pprof_sample([1 + (i * 7 + k * 13) % 500 for k in range(30)], [i]) for i in range(n)]
    elif kind == "labels":
        samples = [pprof_sample([1], [1]) + pb_field(3, pb_varint(1, 5) + pb_varint(3, i)) for i in range(n)]
    elif kind in ("locations", "inlined"):
        locations = n
        lines_per_location = 4 if kind == "inlined" else 1
        samples = [pprof_sample([1, 2, 3], [1])]
    elif kind == "functions":
        functions = n
        samples = [pprof_sample([1], [1])]
    elif kind == "strings":
        strings += [b"main.function%08d" % i for i in range(n)]
        samples = [pprof_sample([1], [1])]
    else:
        raise ValueError(kind)
    out = [*head, *(pb_field(2, s) for s in samples)]
    for i in range(1, locations + 1):
        lines = b"".join(pb_field(4, pb_varint(1, 1 + (i + k) % functions) + pb_varint(2, i + k))
                         for k in range(lines_per_location))
        out.append(pb_field(4, pb_varint(1, i) + pb_varint(3, 0x400000 + i) + lines))
    for i in range(1, functions + 1):
        out.append(pb_field(5, pb_varint(1, i) + pb_varint(2, 3) + pb_varint(4, 4) + pb_varint(5, i)))
    out.extend(pb_field(6, s) for s in strings)
    return b"".join(out)


def trace_batch(gen: int, m: int, time: int, payload: bytes) -> bytes:
    """One ``EventBatch`` of a Go 1.22+ execution trace."""
    return b"\x01" + uvarint(gen) + uvarint(m) + uvarint(time) + uvarint(len(payload)) + payload


def trace_cpu_sample_bomb(inflated: int, minor: int = 23) -> bytes:
    """A valid (uncompressed) Go 1.``minor`` trace of one generation holding about ``inflated``
    bytes of CPU samples (batches of EvCPUSample on the empty stack) and nothing else."""
    if minor >= 25:
        raise ValueError("only pre-1.25 traces (no clock snapshot) are built here")
    out = [b"go 1.%d trace\x00\x00\x00" % minor,
           trace_batch(1, 0, 1000, b"\x08" + uvarint(15_625_000))]  # EvFrequency: 64 ns per tick
    t = 2000
    batch_limit = 60 << 10
    total = 0
    while total < inflated:
        payload = bytearray(b"\x06")  # EvCPUSamples
        while len(payload) < batch_limit:
            payload += b"\x07" + uvarint(t) + b"\x01\x00\x01\x00"  # EvCPUSample time m=1 p=0 g=1 stack=0
        batch = trace_batch(1, 0, t, bytes(payload))
        t += 1  # samples of a batch share a timestamp: the bomb compresses ~200:1
        out.append(batch)
        total += len(batch)
    return b"".join(out)
