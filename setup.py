"""Build: everything is in pyproject.toml except the trace decoder's compiled modules.

The decoder's hot modules (``mapdoctor.formats.trace.native.COMPILED``) are compiled with
mypyc (part of mypy, a build requirement) when a C compiler is there; they decode a trace
in about 60 % of the time of their source. A failed or impossible compile leaves the pure
Python source, which gives the same results: the build never fails for it. Set
``MAPDOCTOR_PURE_PYTHON=1`` to skip compiling.

After a successful compile the build records the SHA-256 of each compiled source
(``native-build.json``); at run time a source that no longer matches its record is imported
instead of its stale build (see ``src/mapdoctor/formats/trace/native.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
PACKAGE_DIR = Path("src/mapdoctor/formats/trace")
# Kept equal to native.COMPILED (a test checks it); not imported, as the build must not
# import the package it builds.
COMPILED = ("varints", "batches", "cursor", "generations", "accounting", "handlers", "ordering")
RECORD = "native-build.json"


def _say(message: str) -> None:
    print(f"mapdoctor build: {message}", file=sys.stderr)


def _digests() -> dict[str, str]:
    return {m: hashlib.sha256((HERE / PACKAGE_DIR / f"{m}.py").read_bytes()).hexdigest() for m in COMPILED}


def native_extensions() -> list[Any]:  # setuptools' or distutils' Extension
    if os.environ.get("MAPDOCTOR_PURE_PYTHON", "") not in ("", "0"):
        _say("MAPDOCTOR_PURE_PYTHON is set: the trace decoder stays Python")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _say("mypyc is not available: the trace decoder stays Python")
        return []
    try:
        # Imported modules are read for their types but not reported on: the build
        # environment lacks the runtime dependencies (tree-sitter, protobuf, rich), whose
        # absence only types modules the decoder never calls. The compiled modules
        # themselves are still checked strictly.
        extensions = mypycify(["--follow-imports=silent", *(str(PACKAGE_DIR / f"{m}.py") for m in COMPILED)],
                              opt_level="3", debug_level="0")
    except BaseException as err:  # mypyc reports type errors by exiting
        _say(f"compiling the trace decoder failed ({err!r}): it stays Python")
        return []
    for ext in extensions:
        ext.optional = True  # no compiler, or a failed compile: a warning, and the source runs
    return extensions


class BuildNative(build_ext):
    """build_ext that records the compiled sources, once every module is built."""

    def run(self) -> None:
        super().run()
        if not self.extensions:
            return
        missing = [e.name for e in self.extensions if not Path(self.get_ext_fullpath(e.name)).exists()]
        if missing:
            _say(f"not compiled: {', '.join(missing)}; the trace decoder stays Python")
            return
        record = json.dumps(_digests(), indent=1, sort_keys=True) + "\n"
        # Beside the built modules (a wheel) and beside the sources (an editable install,
        # whose compiled modules are copied there).
        for folder in {Path(self.build_lib) / PACKAGE_DIR.relative_to("src"), HERE / PACKAGE_DIR}:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / RECORD).write_text(record)
        _say(f"compiled {len(COMPILED)} trace decoder modules with mypyc")


def _options() -> dict[str, Any]:
    extensions = native_extensions()
    return {"ext_modules": extensions, "cmdclass": {"build_ext": BuildNative}} if extensions else {}


setup(**_options())
