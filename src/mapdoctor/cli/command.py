"""The shape every subcommand has."""

from __future__ import annotations

import argparse
from contextlib import AbstractContextManager
from typing import Protocol


class Command(Protocol):
    """A subcommand: registers its arguments, then runs with the parsed namespace.

    ``run`` returns the exit status. It raises :class:`mapdoctor.errors.InputError` for bad
    input and :class:`UsageError` for unusable arguments; ``main()`` turns both into one line
    on stderr and exit status 2.
    """

    name: str
    help: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class UsageError(Exception):
    """Arguments that cannot work together (printed as ``mapdoctor: <message>``, exit 2)."""


def add_memory_option(parser: argparse.ArgumentParser) -> None:
    """``--max-memory SIZE``: the memory budget per input (docs/LIMITS.md)."""
    from mapdoctor.formats.limits import DEFAULT_MEMORY_BUDGET, describe_bytes

    parser.add_argument("--max-memory", metavar="SIZE", type=_memory_size, default=None,
                        help=f"memory one input may need while decoded, e.g. 512M or 2G (default "
                             f"{describe_bytes(DEFAULT_MEMORY_BUDGET)}); larger inputs are refused with a "
                             "one-line error")


def _memory_size(text: str) -> int:
    from mapdoctor.formats.limits import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def memory_budget(args: argparse.Namespace) -> AbstractContextManager[object]:
    """The budget ``--max-memory`` asked for, in force inside the ``with`` block."""
    from mapdoctor.formats.limits import Budget, current_budget
    from mapdoctor.formats.limits import memory_budget as use

    size: int | None = getattr(args, "max_memory", None)
    return use(Budget(size) if size is not None else current_budget())
