"""Which program each input came from, so inputs of different programs are not merged silently.

A profile names its binary and build ID in its first mapping; its frames tell the Go map
implementation (classic up to go1.23, Swiss from go1.24). Two
different build IDs or binary names, or both map implementations among the inputs, mean the
evidence mixes programs (or builds): the verdict would add up costs of unrelated code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from mapdoctor.analysis.goinfo import detect_go
from mapdoctor.formats.detect import LoadedInput, LoadResult


@dataclass(frozen=True, slots=True)
class Provenance:
    path: str
    binary: str = ""  # base name of the main mapping ("" when the input has none)
    build_id: str = ""
    maps: str = ""  # "swiss" | "classic" | "" (the Go version's map implementation)


def provenance(item: LoadedInput) -> Provenance:
    binary = build_id = ""
    names: Iterable[str] = ()
    if item.profile is not None:
        main = next((m for m in item.profile.mappings if m.filename and not m.filename.startswith("[")), None)
        if main is not None:
            binary, build_id = PurePath(main.filename).name, main.build_id
        names = {ln.function.name for loc in item.profile.locations for ln in loc.lines}
    maps = (detect_go(names).maps or "") if names else ""
    return Provenance(item.path, binary, build_id, maps)


def mixed_program_notes(inputs: Sequence[LoadedInput]) -> list[str]:
    """One note per kind of disagreement among the inputs (none when they agree)."""
    seen = [provenance(i) for i in inputs]
    notes: list[str] = []
    for what, attr in (("binaries", "binary"), ("build IDs", "build_id"), ("Go map implementations", "maps")):
        groups: dict[str, list[str]] = {}
        for p in seen:
            value = getattr(p, attr)
            if value:
                groups.setdefault(value, []).append(p.path)
        if len(groups) > 1:
            parts = "; ".join(f"{v[:16]}: {', '.join(paths)}" for v, paths in sorted(groups.items()))
            notes.append(f"inputs come from different programs or Go versions (different {what}: {parts}); "
                         "the verdict mixes their evidence")
    return notes


def program_groups(loaded: LoadResult) -> list[tuple[str, LoadResult]]:
    """The inputs split by program, for ``analyze --separate``: one (label, inputs) per program.

    A profile's program is its build ID (else its binary name; else its map implementation:
    only profiles with map frames tell it, so it cannot split one build's profiles). Inputs
    that name no program (traces, logs, dumps) go with the profiles of their own folder, the
    way a capture folder holds one program's evidence; with none there, in a group of their own.
    """
    keyed: dict[tuple[str, str], list[LoadedInput]] = {}
    unnamed: list[LoadedInput] = []
    folder_key: dict[str, tuple[str, str]] = {}
    for item in loaded.inputs:
        p = provenance(item)
        ident = p.build_id or p.binary
        if not ident and not p.maps:
            unnamed.append(item)
            continue
        key = (ident, "") if ident else ("", p.maps)
        keyed.setdefault(key, []).append(item)
        folder_key.setdefault(str(PurePath(item.path).parent), key)
    rest: list[LoadedInput] = []
    for item in unnamed:
        key_of = folder_key.get(str(PurePath(item.path).parent))
        if key_of is None:
            rest.append(item)
        else:
            keyed[key_of].append(item)
    groups: list[tuple[str, LoadResult]] = []
    for (ident, maps), items in keyed.items():
        maps = maps or next((m for m in (provenance(i).maps for i in items) if m), "")
        label = ", ".join(x for x in (f"program {ident[:16]}" if ident else "", f"{maps} maps" if maps else "") if x)
        groups.append((label, LoadResult(inputs=items, notes=list(loaded.notes))))
    if rest:
        groups.append(("inputs that name no program", LoadResult(inputs=rest, notes=list(loaded.notes))))
    return groups
