"""``mapdoctor compare BEFORE AFTER``: did the change remove the cost?"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mapdoctor.cli.command import add_memory_option, memory_budget
from mapdoctor.cli.common import add_report_options, check_outputs, json_target
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
    from mapdoctor.analysis.compare import compare
    from mapdoctor.reports.comparison_json import write_json
    from mapdoctor.reports.comparison_terminal import render
    from mapdoctor.reports.console import make_console
    from mapdoctor.reports.emit import report_failures, write_output

    db, fb = load_side(before, "before")
    da, fa = load_side(after, "after")
    result = compare(db, da, before_facts=fb, after_facts=fa)
    if json_target != "-":
        render(result, make_console(color=color))
    if json_target is None:
        return 0
    failed = write_output(json_target, lambda: write_json(result, json_target))
    return report_failures([failed] if failed is not None else [])


class CompareCommand:
    name = "compare"
    help = ("Compare two captures (files, folders or evidence bundles), before and after a change: cause by "
            "cause and site by site, the change in CPU share with a 95%% interval and an exact test.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("before", type=Path, metavar="BEFORE", help="file or folder captured before the change")
        parser.add_argument("after", type=Path, metavar="AFTER", help="file or folder captured after the change")
        # No HTML view and no source findings for a comparison: those two options are left out.
        add_report_options(parser, what="comparison (mapdoctor/comparison@1)", html=False, source=False)
        add_memory_option(parser)

    def run(self, args: argparse.Namespace) -> int:
        target = json_target(args)
        check_outputs([("--json", target)])
        with memory_budget(args):
            return run_comparison(args.before, args.after, target, not args.no_color)


COMMAND = CompareCommand()
