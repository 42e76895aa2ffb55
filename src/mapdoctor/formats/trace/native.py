"""Which build of the trace decoder runs: the compiled one, or its Python source.

The decoder's hot modules (:data:`COMPILED`) are compiled with mypyc when mapdoctor is
installed on a machine with a C compiler (see ``setup.py``): the same typed source, run as
C, decodes a trace in about 60 % of the time. Without a compiler the install keeps the
source, which gives the same results.

An editable install leaves the compiled modules beside their sources, and Python prefers
the compiled one: an edited source would silently lose to a stale build. So the build
records each compiled source's SHA-256 (:data:`RECORD`), and :func:`select` — run before
any decoder module is imported — makes Python import the sources instead when one of them
no longer matches the record, when there is no record, or when the environment variable
``MAPDOCTOR_PURE_PYTHON`` is set (to compare both, or to rule the build out).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

#: The modules the build compiles, in ``mapdoctor.formats.trace``.
COMPILED = ("varints", "batches", "cursor", "generations", "accounting", "handlers", "ordering")
#: The build's record of the sources it compiled: ``{module: sha256 of its source}``.
RECORD = "native-build.json"
#: Set (to anything but "" or "0") to run the Python sources even when a build is present.
PURE_ENV = "MAPDOCTOR_PURE_PYTHON"

_HERE = Path(__file__).resolve().parent
_PACKAGE = __name__.rpartition(".")[0]
_state = {"selected": ""}


def source_digests(folder: Path = _HERE) -> dict[str, str]:
    """SHA-256 of each compiled module's source in ``folder``."""
    return {m: hashlib.sha256((folder / f"{m}.py").read_bytes()).hexdigest() for m in COMPILED}


def _built(folder: Path) -> list[str]:
    """The compiled modules present in ``folder``."""
    return [m for m in COMPILED
            if any((folder / f"{m}{suffix}").exists() for suffix in importlib.machinery.EXTENSION_SUFFIXES)]


def _reason_for_source(folder: Path) -> str:
    """Why the sources run ("" when the compiled build is current and wanted)."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return f"{PURE_ENV} is set"
    built = _built(folder)
    if not built:
        return "not compiled at install (no C compiler, or built without mypyc)"
    if len(built) < len(COMPILED):
        return "the compiled build is incomplete"
    try:
        recorded = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return "the compiled build has no record of its sources"
    if recorded != source_digests(folder):
        return "the compiled build is older than its sources (reinstall to rebuild)"
    return ""


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the compiled modules' ``.py`` files ahead of their extension modules."""

    def __init__(self, folder: Path) -> None:
        self.paths = {f"{_PACKAGE}.{m}": folder / f"{m}.py" for m in COMPILED}

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        source = self.paths.get(fullname)
        return importlib.util.spec_from_file_location(fullname, source) if source else None


def select() -> str:
    """Choose the build once per process, before the decoder modules load; returns
    :func:`describe`'s text."""
    if not _state["selected"]:
        reason = _reason_for_source(_HERE)
        if reason and _built(_HERE) and not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, _SourceFinder(_HERE))
        _state["selected"] = "compiled (mypyc)" if not reason else f"Python source: {reason}"
    return _state["selected"]


def describe() -> str:
    """Which build of the trace decoder this process runs, and why (for ``--version``)."""
    return select()


def running_compiled() -> bool:
    """Whether the decoder modules imported in this process are the compiled ones."""
    mod = sys.modules.get(f"{_PACKAGE}.ordering")
    return mod is not None and not str(getattr(mod, "__file__", "")).endswith(".py")


select()  # on import: the package imports this module before any decoder module
