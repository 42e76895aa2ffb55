"""mapdoctor: is it map growth? A verdict from a Go service's runtime data.

The Python API (``analyze``, ``compare``, ``to_json``) lives in :mod:`mapdoctor.api`; it is
imported on first use so that ``import mapdoctor`` stays cheap for the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mapdoctor.analysis.compare import Comparison
    from mapdoctor.analysis.findings import Diagnosis
    from mapdoctor.api import PathLike

__all__ = ["__version__", "analyze", "compare", "to_json"]


def analyze(paths: Iterable[PathLike] | PathLike, *, source: PathLike | None = None) -> Diagnosis:
    """The diagnosis of captured files or folders; see :func:`mapdoctor.api.analyze`."""
    from mapdoctor.api import analyze as _analyze

    return _analyze(paths, source=source)


def compare(before: Iterable[PathLike] | PathLike, after: Iterable[PathLike] | PathLike) -> Comparison:
    """Before/after comparison of two captures; see :func:`mapdoctor.api.compare`."""
    from mapdoctor.api import compare as _compare

    return _compare(before, after)


def to_json(result: Diagnosis | Comparison) -> dict[str, Any]:
    """The JSON contract of a result; see :func:`mapdoctor.api.to_json`."""
    from mapdoctor.api import to_json as _to_json

    return _to_json(result)
