"""The inverse of decoding: a model Profile as uncompressed profile.proto bytes.

Used to write profiles derived from others and to check the decoder round trip. Follows
google/pprof's conventions, so what it cannot express is dropped on decode exactly as pprof
drops it: labels with an empty string value and numeric labels equal to 0.
"""

from __future__ import annotations

from typing import Any

from mapdoctor.formats.pprof.schema import ProfileMessage
from mapdoctor.model.profile import Profile, ValueType


class _StringTable:
    def __init__(self) -> None:
        self.index: dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.index)
        return i


def encode_profile(profile: Profile) -> bytes:
    msg: Any = ProfileMessage()
    st = _StringTable()

    def value_type(target: Any, vt: ValueType) -> None:
        target.type = st(vt.type)
        target.unit = st(vt.unit)

    for vt in profile.sample_types:
        value_type(msg.sample_type.add(), vt)
    for s in profile.samples:
        out = msg.sample.add()
        out.location_id.extend(loc.id for loc in s.locations)
        out.value.extend(s.values)
        for key, texts in s.labels.items():
            for text in texts:
                out.label.add(key=st(key), str=st(text))
        for key, nums in s.num_labels.items():
            for num in nums:
                out.label.add(key=st(key), num=num)
    for m in profile.mappings:
        msg.mapping.add(
            id=m.id,
            memory_start=m.start,
            memory_limit=m.limit,
            file_offset=m.offset,
            filename=st(m.filename),
            build_id=st(m.build_id),
        )
    for loc in profile.locations:
        out = msg.location.add(id=loc.id, mapping_id=loc.mapping.id if loc.mapping else 0, address=loc.address)
        for ln in loc.lines:
            out.line.add(function_id=ln.function.id, line=ln.line, column=ln.column)
    for f in profile.functions:
        msg.function.add(
            id=f.id,
            name=st(f.name),
            system_name=st(f.system_name),
            filename=st(f.filename),
            start_line=f.start_line,
        )
    if profile.period_type is not None:
        msg.period_type.SetInParent()  # present even when both of its indices are 0
        value_type(msg.period_type, profile.period_type)
    msg.period = profile.period
    msg.time_nanos = profile.time_nanos
    msg.duration_nanos = profile.duration_nanos
    msg.comment.extend(st(c) for c in profile.comments)
    msg.default_sample_type = st(profile.default_sample_type)
    msg.drop_frames = st(profile.drop_frames)
    msg.keep_frames = st(profile.keep_frames)
    msg.string_table.extend(s.encode() for s in st.index)
    data: bytes = msg.SerializeToString()
    return data
