"""Entry point: dispatch to a subcommand, and the single place errors become exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mapdoctor import __version__
from mapdoctor.cli.command import Command, UsageError
from mapdoctor.errors import InputError
from mapdoctor.formats.trace import native
from mapdoctor.safetext import for_terminal

#: Subcommand modules, each exposing ``COMMAND``. Imported lazily so that a command's heavy
#: dependencies (tree-sitter, the HTTP client) cost nothing to the others.
COMMAND_MODULES = (
    "mapdoctor.cli.analyze",
    "mapdoctor.cli.diagnose",
    "mapdoctor.cli.demo",
    "mapdoctor.cli.lint",
    "mapdoctor.cli.census",
    "mapdoctor.cli.watch",
    "mapdoctor.cli.compare",
    "mapdoctor.cli.bench",
)

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _commands() -> list[Command]:
    found: list[Command] = []
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # not part of this build
            raise
        found.append(module.COMMAND)
    return found


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mapdoctor",
        description="Is it map growth? A verdict, the file:line responsible and the fix, "
        "from a Go service's profiles, traces, GC logs, goroutine dumps and source.",
    )
    parser.add_argument("--version", action="version",
                        version=f"mapdoctor {__version__}; trace decoder: {native.describe()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in commands:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(p)
        p.set_defaults(_command=cmd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    commands = _commands()
    parser = build_parser(commands)
    args = parser.parse_args(argv)
    cmd: Command | None = getattr(args, "_command", None)
    if cmd is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return cmd.run(args)
    except InputError as err:
        print(for_terminal(str(err)), file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as err:
        print(f"mapdoctor: {for_terminal(str(err))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("mapdoctor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
