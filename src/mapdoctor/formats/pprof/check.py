"""Phase three of decoding: the validity rules of google/pprof's ``Profile.CheckValid``.

Runs on the model, so it holds for any Profile, decoded or built by hand: every sample has one
value per sample type, IDs are non-zero and unique per table, and locations refer only to the
mappings and functions listed in the profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mapdoctor.errors import InputError
from mapdoctor.formats.pprof.wire import WHAT
from mapdoctor.model.profile import Profile


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


def check_valid(profile: Profile, path: str) -> None:
    """Raise InputError naming the first rule ``profile`` breaks."""
    n_types = len(profile.sample_types)
    if n_types == 0 and profile.samples:
        raise InputError(path, WHAT, f"{len(profile.samples)} samples but no sample types")
    if not all(len(s.values) == n_types for s in profile.samples):
        index, sample = next((i, s) for i, s in enumerate(profile.samples) if len(s.values) != n_types)
        raise InputError(
            path, WHAT, f"sample {index} has {len(sample.values)} values but there are {n_types} sample types"
        )
    _check_ids(profile.mappings, "mapping", path)
    _check_ids(profile.functions, "function", path)
    _check_ids(profile.locations, "location", path)

    mappings = {id(m) for m in profile.mappings}
    functions = {id(f) for f in profile.functions}
    for loc in profile.locations:
        if loc.mapping is not None and id(loc.mapping) not in mappings:
            raise InputError(path, WHAT, f"location {loc.id} has a mapping that is not in the profile")
        for line in loc.lines:
            if id(line.function) not in functions:
                raise InputError(path, WHAT, f"location {loc.id} has a function that is not in the profile")


def _check_ids(items: Sequence[_HasId], kind: str, path: str) -> None:
    seen: set[int] = set()
    for item in items:
        if item.id == 0:
            raise InputError(path, WHAT, f"{kind} with reserved id 0")
        if item.id in seen:
            raise InputError(path, WHAT, f"several {kind}s with id {item.id}")
        seen.add(item.id)
