"""``mapdoctor compare BEFORE AFTER``: did the change remove the cost?"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mapdoctor.cli.command import add_memory_option, memory_budget
from mapdoctor.errors import InputError
from mapdoctor.safetext import for_terminal

if TYPE_CHECKING:
    from mapdoctor.analysis.compare import SideFacts
    from mapdoctor.analysis.findings import Diagnosis


def load_side(path: Path, label: str) -> tuple[Diagnosis, SideFacts]:
    """Load and diagnose one side; a side with nothing usable is a one-line error."""
    from mapdoctor.analysis.compare import SideFacts
    from mapdoctor.analysis.diagnose import diagnose
    from mapdoctor.formats.detect import load_inputs

    loaded = load_inputs([path])
    if not loaded.inputs:
        if loaded.skipped:
            raise loaded.skipped[-1]
        raise InputError(str(path), label, "nothing to analyse")
    for err in loaded.skipped:
        print(f"skipped {for_terminal(str(err))}", file=sys.stderr)
    return diagnose(loaded), SideFacts.of(loaded)


def run_comparison(before: Path, after: Path, json_target: str | None, color: bool) -> int:
    from rich.console import Console

    from mapdoctor.analysis.compare import compare
    from mapdoctor.reports.comparison_json import write_json
    from mapdoctor.reports.comparison_terminal import render

    db, fb = load_side(before, "before")
    da, fa = load_side(after, "after")
    result = compare(db, da, before_facts=fb, after_facts=fa)
    if json_target != "-":
        render(result, Console(no_color=not color, highlight=False))
    if json_target is not None:
        write_json(result, json_target)
    return 0


class CompareCommand:
    name = "compare"
    help = ("Compare two captures (files, folders or evidence bundles), before and after a change: cause by "
            "cause and site by site, the change in CPU share with a 95%% interval and an exact test.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("before", type=Path, metavar="BEFORE", help="file or folder captured before the change")
        parser.add_argument("after", type=Path, metavar="AFTER", help="file or folder captured after the change")
        parser.add_argument("--json", metavar="PATH",
                            help="also write the mapdoctor/comparison@1 JSON to PATH ('-' = stdout)")
        parser.add_argument("--no-color", action="store_true", help="plain text output")
        add_memory_option(parser)

    def run(self, args: argparse.Namespace) -> int:
        with memory_budget(args):
            return run_comparison(args.before, args.after, args.json, not args.no_color)


COMMAND = CompareCommand()
