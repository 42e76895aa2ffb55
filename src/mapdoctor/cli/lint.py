"""`mapdoctor lint`: Go source analysis for map (and slice) growth, ranked by profiles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mapdoctor.cli.command import UsageError, add_memory_option, memory_budget
from mapdoctor.cli.common import add_report_options, check_outputs
from mapdoctor.errors import InputError
from mapdoctor.model.profile import Profile
from mapdoctor.source.findings import Confidence, LintReport

FORMATS = ("text", "json", "sarif")
EXIT_CLEAN = 0
EXIT_FINDINGS = 1
#: Nothing was checked (no Go file among the paths): a CI job must not pass on that.
EXIT_NOTHING_CHECKED = 2


class LintCommand:
    name = "lint"
    help = ("Find maps and slices grown without a size hint, concurrent map writes, sync.Map misuse and "
            "maps that never shrink in Go source; with --profile, rank by measured cost and size the maps.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="Go files or directories (walked)")
        parser.add_argument("--profile", nargs="+", action="extend", default=[], metavar="PATH",
                            help="pprof profiles (CPU, allocs/heap), or folders and bundles as analyze takes, of "
                                 "the same code: rank findings by their cost and estimate map sizes from the "
                                 "allocation sizes")
        parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
        parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
        parser.add_argument("--fix", action="store_true",
                            help="apply the safe fixes (size hints whose bound has no side effects)")
        parser.add_argument("--include-vendor", action="store_true", help="also lint vendor/ directories")
        parser.add_argument("--explain", action="store_true", help="text format: explain each rule found")
        parser.add_argument("--min-confidence", choices=[c.value for c in Confidence], default="medium",
                            help="report findings of at least this confidence (default medium)")
        parser.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
        # The options every report-producing subcommand has (lint keeps its own --format).
        add_report_options(parser, what="lint report (as --format json)", html=False, source=False,
                           output_format=False)
        add_memory_option(parser)

    def run(self, args: argparse.Namespace) -> int:
        from mapdoctor.source.fix import apply_fixes
        from mapdoctor.source.lint import lint_paths
        from mapdoctor.source.report_json import to_json
        from mapdoctor.source.report_sarif import to_sarif
        from mapdoctor.source.report_text import to_text

        if args.jobs < 1:
            raise UsageError("--jobs must be at least 1")
        _json_alias(args)
        if args.explain and args.format != "text":
            raise UsageError("--explain only applies to --format text")
        paths = [Path(p) for p in args.paths]
        for p in paths:
            if not p.exists():
                raise InputError(str(p), "lint", "no such file or directory")
        with memory_budget(args):
            profiles = _load_profiles([Path(f) for f in args.profile])
        report = lint_paths(paths, profiles, include_vendor=args.include_vendor, workers=args.jobs)
        report.profiles = list(args.profile)
        syntax_errors = _syntax_errors(report)
        if report.files_checked == 0 and not syntax_errors:
            # As ruff and golangci-lint do: no file checked is an error, not a clean run.
            raise InputError(" ".join(args.paths), "lint", "no Go files checked"
                             + (f" ({len(report.skipped)} skipped)" if report.skipped else ""))
        floor = Confidence(args.min_confidence).rank
        report.findings = [f for f in report.findings if f.confidence.rank >= floor]
        if args.fix:
            applied = apply_fixes(report.findings)
            if applied:
                fixed = sum(applied.values())
                print(f"mapdoctor: applied {fixed} fix{'es' if fixed != 1 else ''} in {len(applied)} "
                      f"file{'s' if len(applied) != 1 else ''}", file=sys.stderr)
                report = _relint(paths, profiles, args, floor)
        if args.format == "json":
            out = to_json(report)
        elif args.format == "sarif":
            out = to_sarif(report)
        else:
            out = to_text(report, explain=args.explain)
        if args.output:
            try:
                Path(args.output).write_text(out, encoding="utf-8")
            except OSError as exc:
                raise InputError(args.output, "output", exc.strerror or str(exc)) from None
        else:
            sys.stdout.write(out)
        # A syntax error is a finding, as in ruff: the file is broken, not the run.
        return EXIT_FINDINGS if report.findings or _syntax_errors(report) else EXIT_CLEAN


def _syntax_errors(report: LintReport) -> int:
    return sum(1 for s in report.skipped if s.reason.startswith("syntax error"))


def _relint(paths: list[Path], profiles: list[Profile], args: argparse.Namespace, floor: int) -> LintReport:
    """The report after fixing: what is left to do."""
    from mapdoctor.source.lint import lint_paths

    report = lint_paths(paths, profiles, include_vendor=args.include_vendor, workers=args.jobs)
    report.profiles = list(args.profile)
    report.findings = [f for f in report.findings if f.confidence.rank >= floor]
    return report


def _json_alias(args: argparse.Namespace) -> None:
    """``--json PATH`` is ``--format json --output PATH`` (``-``: stdout), as on the other subcommands."""
    if args.json is not None:
        if args.format not in ("text", "json") or args.output is not None:
            raise UsageError("--json PATH is --format json --output PATH: give one or the other")
        args.format = "json"
        args.output = None if args.json == "-" else args.json
    check_outputs([("--output", args.output)])


def _load_profiles(paths: list[Path]) -> list[Profile]:
    """Whatever ``analyze`` accepts (files, folders, ``diagnose --out`` bundles): its pprof profiles.

    Traces, logs, dumps and goroutine/mutex/block profiles in a folder are fine to pass and
    are not used (lint ranks by CPU and allocation samples); a bad file is skipped with a
    line on stderr, as in ``analyze``; no profile at all is an error (exit 2).
    """
    if not paths:
        return []
    import sys

    from mapdoctor.formats.detect import InputKind, load_inputs
    from mapdoctor.safetext import for_terminal

    loaded = load_inputs(paths)
    for err in loaded.skipped:
        print(f"skipped {for_terminal(str(err))}", file=sys.stderr)
    # Goroutine, mutex and block profiles count goroutines and delay, not the cost lint ranks by.
    ranked = {InputKind.CPU, InputKind.HEAP, InputKind.ALLOCS, InputKind.PPROF_OTHER}
    profiles = [i.profile for i in loaded.inputs if i.profile is not None and i.kind in ranked]
    if not profiles:
        if loaded.skipped:
            raise loaded.skipped[-1]
        raise InputError(" ".join(map(str, paths)), "--profile", "no pprof profile found")
    return profiles



COMMAND = LintCommand()
