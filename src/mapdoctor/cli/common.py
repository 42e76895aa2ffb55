"""Options every report-producing subcommand shares, defined once, and the checks made on them.

``--json``, ``--html``, ``--format json|text``, ``--no-color``, ``--quiet`` and ``--source``
mean the same on every subcommand. Output paths are checked before any work starts (a live
collection is not spent only to fail at the last write), and ``-`` means stdout for each of
them, at most one at a time.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from pathlib import Path

from mapdoctor.cli.command import UsageError

STDOUT = "-"
FORMATS = ("text", "json")


def add_report_options(parser: argparse.ArgumentParser, *, what: str = "diagnosis", html: bool = True,
                       source: bool = True, quiet: bool = True, output_format: bool = True) -> None:
    """The common options; a subcommand leaves out the ones that mean nothing for it."""
    parser.add_argument("--json", metavar="PATH",
                        help=f"also write the JSON {what} to PATH ('-' = stdout, instead of the text report)")
    if output_format:
        parser.add_argument("--format", choices=FORMATS, default="text",
                            help="what goes to stdout: the text report (default) or the JSON one (as --json -)")
    if html:
        parser.add_argument("--html", metavar="PATH",
                            help="also write a single-file HTML report to PATH ('-' = stdout)")
    parser.add_argument("--no-color", action="store_true",
                        help="plain text output (also when the NO_COLOR environment variable is set)")
    if quiet:
        parser.add_argument("--quiet", action="store_true", help="no progress or information lines on stderr")
    if source:
        parser.add_argument("--source", metavar="DIR", type=Path,
                            help="Go source tree: attach source findings and exact fixes to the sites")


def json_target(args: argparse.Namespace) -> str | None:
    """Where the JSON goes: ``--json PATH``, or stdout for ``--format json``."""
    target: str | None = getattr(args, "json", None)
    if getattr(args, "format", "text") == "json":
        if target not in (None, STDOUT):
            raise UsageError(f"--format json writes the JSON to stdout and --json {target} to a file: "
                             "give one of them")
        return STDOUT
    return target


def check_source(args: argparse.Namespace) -> Path | None:
    source: Path | None = getattr(args, "source", None)
    if source is not None and not source.is_dir():
        raise UsageError(f"--source {source}: not a directory")
    return source


def check_outputs(outputs: Iterable[tuple[str, str | None]]) -> None:
    """Each ``(option, value)`` can be written, and at most one of them is stdout.

    Called before the work starts: a run never ends in a write that was bound to fail.
    """
    on_stdout = [option for option, value in outputs if value == STDOUT]
    if len(on_stdout) > 1:
        raise UsageError(f"{' and '.join(on_stdout)} both write to stdout ('-'): give a file to all but one")
    for option, value in outputs:
        if value is not None and value != STDOUT:
            check_writable(option, value)


def check_writable(option: str, value: str) -> None:
    """A file ``value`` can be created or replaced; UsageError (one line) when it cannot."""
    if not value:
        raise UsageError(f"{option}: empty path")
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{option} {value}: is a directory, not a file")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise UsageError(f"{option} {value}: not writable")
        return
    parent = path.parent
    if not parent.is_dir():
        why = "not a directory" if parent.exists() else "no such directory"
        raise UsageError(f"{option} {value}: {parent}: {why}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {value}: {parent}: directory not writable")
