"""``mapdoctor census PID`` / ``--core CORE --binary BIN``: every reachable map, its size and waste."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from mapdoctor.cli.command import UsageError
from mapdoctor.cli.common import add_report_options, check_outputs, json_target
from mapdoctor.safetext import for_terminal

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    m = _DURATION.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 1s, 500ms, 2m)")
    value = float(m.group(1)) * _UNITS[m.group(2)]
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be more than zero")
    return value


def parse_size(text: str) -> int:
    m = _SIZE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 512MiB, 8GiB)")
    unit = (m.group(2) or "b").lower()[:1]
    return int(float(m.group(1)) * {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[unit])


class CensusCommand:
    name = "census"
    help = ("List every map reachable from a Go program's package-level variables, live from a process "
            "(read-only, without stopping it) or from a core file: len, capacity, bytes held, growth in "
            "progress, and the memory kept by maps that never shrink. --watch samples over time.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from mapdoctor.analysis.census_walk import Limits

        d = Limits()
        parser.add_argument("pid", nargs="?", type=int, metavar="PID", help="a running Go process")
        parser.add_argument("--core", type=Path, metavar="CORE", help="a core file (gcore, GOTRACEBACK=crash)")
        parser.add_argument("--binary", type=Path, metavar="BIN",
                            help="the executable with DWARF: required with --core; with a PID, the unstripped "
                                 "copy of a stripped build")
        add_report_options(parser, what="census (mapdoctor/census@1)", source=False)
        parser.add_argument("--watch", type=parse_duration, metavar="INTERVAL",
                            help="sample every INTERVAL (e.g. 1s) and record len/capacity per path")
        parser.add_argument("--for", dest="duration", type=parse_duration, metavar="DURATION",
                            help="how long to --watch (default 30s)")
        parser.add_argument("--freeze", action="store_true",
                            help="stop the process (ptrace) while the maps' headers are re-read, for one "
                                 "point in time; bounded by --freeze-budget")
        parser.add_argument("--freeze-budget", type=parse_duration, default=0.2, metavar="DURATION",
                            help="longest stop with --freeze (default 200ms)")
        parser.add_argument("--max-depth", type=int, default=d.max_depth, metavar="N",
                            help=f"pointer/element hops from a package variable (default {d.max_depth})")
        parser.add_argument("--max-maps", type=int, default=d.max_maps, metavar="N",
                            help=f"stop after N maps (default {d.max_maps:,})")
        parser.add_argument("--max-objects", type=int, default=d.max_objects, metavar="N",
                            help=f"stop after visiting N values (default {d.max_objects:,})")
        parser.add_argument("--max-read", type=parse_size, default=d.max_read_bytes, metavar="SIZE",
                            help="bucket/group bytes read in full; beyond it sizes come from headers "
                                 f"(default {d.max_read_bytes >> 30}GiB)")
        parser.add_argument("--timeout", type=parse_duration, default=d.deadline_s, metavar="DURATION",
                            help=f"stop walking after DURATION, results partial (default {d.deadline_s:g}s)")
        parser.add_argument("--package", action="append", default=[], metavar="PREFIX",
                            help="only variables whose name starts with PREFIX, e.g. main. (repeatable)")
        parser.add_argument("--top", type=int, default=20, metavar="N", help="paths shown in the terminal")

    def _check(self, args: argparse.Namespace) -> None:
        if (args.pid is None) == (args.core is None):
            raise UsageError("census: give a PID or --core CORE (one of them)")
        if args.core is not None and args.binary is None:
            raise UsageError("census: --core needs --binary (the executable that dumped it)")
        if args.freeze and args.pid is None:
            raise UsageError("census: --freeze needs a running process (a core is frozen already)")
        if args.duration is not None and args.watch is None:
            raise UsageError("census: --for goes with --watch")
        if args.watch is not None and args.pid is None:
            raise UsageError("census: --watch needs a running process")
        for flag in ("max_depth", "max_maps", "max_objects", "top"):
            if getattr(args, flag) <= 0:
                raise UsageError(f"census: --{flag.replace('_', '-')} must be positive")

    def run(self, args: argparse.Namespace) -> int:
        self._check(args)
        json_to = json_target(args)
        check_outputs([("--json", json_to), ("--html", args.html)])

        from mapdoctor.analysis.census import open_target, reread, take_census, watch
        from mapdoctor.analysis.census_findings import findings
        from mapdoctor.analysis.census_walk import Limits
        from mapdoctor.model.census import Freeze as FreezeRecord
        from mapdoctor.reports.census_html import render_html as render_census_html
        from mapdoctor.reports.census_html import write_census_html
        from mapdoctor.reports.census_json import write_census_json
        from mapdoctor.reports.census_terminal import render_census, render_sample_line
        from mapdoctor.reports.console import make_console
        from mapdoctor.reports.emit import STDOUT, report_failures, write_output

        err = make_console(color=not args.no_color, stderr=True)
        chatty = not args.quiet and sys.stderr.isatty()

        def say(text: str) -> None:
            if chatty:
                err.print(for_terminal(text))

        limits = Limits(max_depth=args.max_depth, max_maps=args.max_maps, max_objects=args.max_objects,
                        max_read_bytes=args.max_read, deadline_s=args.timeout, packages=tuple(args.package))
        say("reading the binary's DWARF ...")
        t0 = time.monotonic()
        target = open_target(pid=args.pid, core=args.core, binary=args.binary)
        try:
            say(f"{target.go_version}: {len(target.types.types):,} types, {len(target.types.variables):,} variables "
                f"({time.monotonic() - t0:.1f}s); walking ...")
            if args.watch is not None:
                duration = args.duration if args.duration is not None else 30.0

                def on_sample(c: object, s: object) -> None:
                    if chatty:
                        render_sample_line(c, s, err)  # type: ignore[arg-type]

                census = watch(target, limits, args.watch, duration, on_sample)
            else:
                census = take_census(target, limits, (lambda n, v: say(f"  {n:,} maps, {v:,} values"))
                                     if chatty else None)
            if args.freeze:
                from mapdoctor.analysis.census import aggregate
                from mapdoctor.collect.freeze import Freeze

                with Freeze(args.pid, args.freeze_budget * 1000.0) as fz:
                    census.maps, n = reread(target, census.maps, deadline=fz.deadline)
                census.groups = aggregate(census.maps)
                census.freeze = FreezeRecord(budget_ms=args.freeze_budget * 1000.0, stopped_ms=fz.stopped_ms,
                                             threads=fz.thread_count, maps_reread=n, complete=n == len(census.maps))
                census.notes = [n for n in census.notes if not n.startswith("read live without stopping")]
                if n < len(census.maps):
                    census.notes.append(f"--freeze: {n:,} of {len(census.maps):,} maps re-read within the "
                                        f"{args.freeze_budget * 1000:g} ms budget; the rest are from the live walk")
            census.findings = findings(census)
        finally:
            target.close()
        if STDOUT not in (json_to, args.html):
            # make_console: a pipe or a file gets wide lines rather than paths folded over three rows.
            render_census(census, make_console(color=not args.no_color), top=args.top)
        failed = []
        if args.html == STDOUT:
            failed.append(write_output(STDOUT, lambda: _to_stdout(render_census_html(census))))
        elif args.html:
            html = args.html
            failed.append(write_output(html, lambda: write_census_html(census, html)))
        if json_to is not None:
            failed.append(write_output(json_to, lambda: write_census_json(census, json_to)))
        return report_failures([f for f in failed if f is not None])


def _to_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


COMMAND = CensusCommand()


class CensusJob:
    """A census for ``--census PID|FILE`` on analyze/diagnose: a file is read at once; a PID is
    watched in a thread for ``window_s`` (so growth in the window is counted: about 20 samples,
    at most one a second apart), or taken once when there is no window."""

    def __init__(self, arg: str, window_s: float | None = None) -> None:
        import threading

        from mapdoctor.model.census import Census

        self.arg = arg
        self.window_s = window_s
        self._result: Census | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if not arg.isdigit():
            from mapdoctor.formats.census_json import load_census

            self._result = load_census(Path(arg))
            return
        self._thread = threading.Thread(target=self._run, name="census", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from mapdoctor.analysis.census import open_target, take_census, watch
        from mapdoctor.analysis.census_walk import Limits

        try:
            target = open_target(pid=int(self.arg))
            try:
                if self.window_s:
                    self._result = watch(target, Limits(), min(1.0, max(0.1, self.window_s / 20)), self.window_s)
                else:
                    self._result = take_census(target, Limits())
            finally:
                target.close()
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc

    def result(self) -> object:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def join_into(diagnosis: object, job: CensusJob) -> None:
    from mapdoctor.analysis.census_join import join_census
    from mapdoctor.analysis.findings import Diagnosis
    from mapdoctor.model.census import Census

    census = job.result()
    assert isinstance(diagnosis, Diagnosis) and isinstance(census, Census)
    join_census(diagnosis, census)
