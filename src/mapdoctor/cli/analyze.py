"""``mapdoctor analyze FILE...``: the verdict from captured files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.cli.command import UsageError, add_memory_option, memory_budget
from mapdoctor.cli.common import add_report_options, check_outputs, check_source, json_target
from mapdoctor.cli.export import add_export_options, export_pprof
from mapdoctor.errors import InputError
from mapdoctor.formats.detect import LoadResult, load_inputs
from mapdoctor.reports.emit import Outputs, emit, report_failures
from mapdoctor.safetext import for_terminal


class AnalyzeCommand:
    name = "analyze"
    help = ("Say whether map growth is what costs a Go program, from captured files: pprof profiles "
            "(cpu, allocs, heap, mutex, block, goroutine), execution traces, gctrace logs, goroutine "
            "dumps, crash logs, or a folder of them.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="FILE", type=Path,
                            help="input files or folders; each file's kind is told from its content")
        add_report_options(parser)
        parser.add_argument("--census", metavar="PID|FILE",
                            help="join a map census (a running process, or mapdoctor/census@1 JSON) with the "
                                 "map-growth sites")
        parser.add_argument("--base", metavar="PATH", type=Path,
                            help="a capture from before a change (file or folder): compare against it, as "
                                 "'mapdoctor compare PATH FILE' does (--json then writes mapdoctor/comparison@1)")
        parser.add_argument("--separate", action="store_true",
                            help="inputs from different programs or Go versions: one verdict per program "
                                 "(text report only; without it they are analysed together, with a warning)")
        parser.add_argument("-http", "--http", metavar="ADDR",
                            help="serve the HTML report at ADDR (e.g. :8080, as go tool pprof -http) until Ctrl-C")
        add_export_options(parser)
        add_memory_option(parser)

    def run(self, args: argparse.Namespace) -> int:
        json_to = json_target(args)
        check_outputs([("--json", json_to), ("--html", args.html), ("--export-pprof", args.export_pprof)])
        if args.http:
            from mapdoctor.reports.serve import parse_addr

            try:
                parse_addr(args.http)
            except ValueError as exc:
                raise UsageError(f"-http: {exc}") from None
        if getattr(args, "base", None) is not None:
            from mapdoctor.cli.compare import run_comparison

            if len(args.paths) != 1:
                raise UsageError("--base compares one capture (a file or folder) against another")
            with memory_budget(args):
                return run_comparison(args.base, args.paths[0], json_to, not args.no_color)
        source = check_source(args)
        with memory_budget(args):
            loaded = load_inputs(args.paths)
        if not loaded.inputs:
            if not loaded.skipped:
                raise InputError(str(args.paths[0]), "input", "nothing to analyse")
            for err in loaded.skipped[:-1]:
                print(for_terminal(str(err)), file=sys.stderr)
            raise loaded.skipped[-1]
        for err in loaded.skipped:
            print(f"skipped {for_terminal(str(err))}", file=sys.stderr)
        if args.separate:
            return _separately(loaded, source, args)
        diagnosis = diagnose(loaded, source_dir=source)
        if args.census:
            from mapdoctor.cli.census import CensusJob, join_into

            join_into(diagnosis, CensusJob(args.census))
        failed = emit(diagnosis, Outputs(json=json_to, html=args.html, color=not args.no_color,
                                         stdout_taken=args.export_pprof == "-"))
        failed += export_pprof(args, loaded, diagnosis)
        status = report_failures(failed)
        if args.http:
            from mapdoctor.reports.html_report import render_html
            from mapdoctor.reports.serve import serve

            serve(render_html(diagnosis), args.http)
        return status


def _separately(loaded: LoadResult, source: Path | None, args: argparse.Namespace) -> int:
    """One text verdict per program among the inputs (``--separate``)."""
    from mapdoctor.analysis.provenance import program_groups
    from mapdoctor.reports.console import make_console
    from mapdoctor.reports.terminal import render

    if json_target(args) is not None or args.html or args.http or args.export_pprof or args.census:
        raise UsageError("--separate gives text verdicts only: run once per program for --json, --html, "
                         "-http, --export-pprof or --census")
    groups = program_groups(loaded)
    console = make_console(color=not args.no_color)
    for n, (label, group) in enumerate(groups, 1):
        files = ", ".join(i.path for i in group.inputs)
        console.print(f"== {n} of {len(groups)}: {label} ({len(group.inputs)} inputs: {for_terminal(files)})",
                      markup=False, highlight=False)
        render(diagnose(group, source_dir=source), console)
        console.print()
    return 0


COMMAND = AnalyzeCommand()
