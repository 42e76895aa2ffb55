"""The shape every subcommand has."""

from __future__ import annotations

import argparse
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
