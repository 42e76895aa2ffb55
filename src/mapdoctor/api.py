"""The Python API: the command line's answers as typed objects, for notebooks and automation.

    import mapdoctor
    d = mapdoctor.analyze(["evidence/"])          # -> Diagnosis
    d.verdict, d.causes[0].kind, d.causes[0].sites[0].file
    mapdoctor.to_json(d)                          # the mapdoctor/diagnosis@1 dict
    c = mapdoctor.compare("before/", "after/")    # -> Comparison
    [x for x in c.causes if x.significant]

Attribute names are the JSON contract's field names (docs/JSON.md). Bad input raises
:class:`mapdoctor.errors.InputError` (``file: what: why``); inputs that could not be read beside
good ones are listed in ``Diagnosis.notes`` and make it ``partial``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mapdoctor.analysis.compare import Comparison, SideFacts
from mapdoctor.analysis.compare import compare as _compare
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.analysis.findings import Diagnosis
from mapdoctor.errors import InputError
from mapdoctor.formats.detect import LoadResult, load_inputs

PathLike = str | os.PathLike[str]


def _load(paths: Iterable[PathLike] | PathLike, what: str) -> LoadResult:
    items = [Path(paths)] if isinstance(paths, str | os.PathLike) else [Path(p) for p in paths]
    if not items:
        raise InputError("(none)", what, "no input paths given")
    loaded = load_inputs(items)
    if not loaded.inputs:
        if loaded.skipped:
            raise loaded.skipped[-1]
        raise InputError(str(items[0]), what, "nothing to analyse")
    return loaded


def analyze(paths: Iterable[PathLike] | PathLike, *, source: PathLike | None = None) -> Diagnosis:
    """The diagnosis of captured files or folders (as ``mapdoctor analyze``); ``source``: a Go tree."""
    loaded = _load(paths, "input")
    return diagnose(loaded, source_dir=Path(source) if source is not None else None)


def compare(before: Iterable[PathLike] | PathLike, after: Iterable[PathLike] | PathLike) -> Comparison:
    """Before/after comparison of two captures (as ``mapdoctor compare``)."""
    lb = _load(before, "before")
    la = _load(after, "after")
    return _compare(diagnose(lb), diagnose(la), before_facts=SideFacts.of(lb), after_facts=SideFacts.of(la))


def to_json(result: Diagnosis | Comparison) -> dict[str, Any]:
    """The JSON contract of a result: ``mapdoctor/diagnosis@1`` or ``mapdoctor/comparison@1``."""
    if isinstance(result, Comparison):
        from mapdoctor.reports.comparison_json import to_dict as comparison_dict

        return comparison_dict(result)
    from mapdoctor.reports.json_report import to_dict

    return to_dict(result)
