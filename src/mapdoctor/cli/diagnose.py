"""``mapdoctor diagnose URL``: collect from a live service, then the same verdict as ``analyze``."""

from __future__ import annotations

import argparse
import contextlib
import math
import queue
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mapdoctor.cli.command import UsageError, add_memory_option, memory_budget
from mapdoctor.cli.common import add_report_options, check_outputs, check_source, json_target
from mapdoctor.collect.plan import DEFAULT_DURATION_S, EVIDENCE_FILES, MAX_DURATION_S, MIN_DURATION_S

# The rest is imported where it is used: every command module is imported to build the
# parser, and the HTTP client and the analysis should cost nothing to the other commands.
if TYPE_CHECKING:
    from mapdoctor.analysis.findings import Diagnosis
    from mapdoctor.collect.collector import Collection, PartResult
    from mapdoctor.collect.plan import PartSpec
    from mapdoctor.collect.target import Target
    from mapdoctor.formats.detect import LoadResult
    from mapdoctor.reports.emit import WriteFailure

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True, slots=True)
class LiveOptions:
    duration_s: int = DEFAULT_DURATION_S
    out: Path | None = None  # None: a temporary folder, deleted afterwards (kept when an output fails)
    json_target: str | None = None  # "-" for stdout
    quiet: bool = False
    html_target: str | None = None  # "-" for stdout
    #: Say where the evidence was saved (the demo says it itself, after stopping the service).
    announce_out: bool = True
    #: ``--census PID|FILE``: a map census joined with the growth sites (a PID is watched over the window).
    census: str | None = None
    #: Take the trace from the service's flight recorder when it has one (``collect.flight``).
    flight_recorder: bool = True
    #: ``--export-pprof PATH`` and ``--export-cause KIND`` (``cli.export``).
    export_pprof: str | None = None
    export_cause: str | None = None
    color: bool = True
    #: ``--source DIR``: source findings attached to the sites, as ``analyze --source`` does.
    source: Path | None = None


class DiagnoseCommand:
    name = "diagnose"
    help = ("Collect CPU, allocation, mutex, block, heap and goroutine profiles and an execution "
            "trace from a running Go service's net/http/pprof, then give the verdict.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("url", metavar="URL",
                            help="the service's base URL or its /debug/pprof/ URL (host:port works too)")
        add_live_arguments(parser)
        parser.add_argument("--out", type=Path, metavar="DIR",
                            help="keep everything collected in DIR, with manifest.json "
                                 "(`mapdoctor analyze DIR` gives the same verdict offline)")
        parser.add_argument("--header", action="append", default=[], metavar="'K: V'",
                            help="extra request header, e.g. for authentication (repeatable)")
        parser.add_argument("--cacert", type=Path, metavar="FILE",
                            help="CA certificate(s) to verify an https target with")
        parser.add_argument("--insecure", action="store_true",
                            help="do not verify the https target's certificate")
        parser.add_argument("--census", metavar="PID|FILE",
                            help="census the maps of this process over the window (or read a census JSON) "
                                 "and join them with the map-growth sites")
        parser.add_argument("--no-flight-recorder", dest="flight_recorder", action="store_false",
                            help="take a live trace even when the service serves a flight recorder "
                                 "at /debug/pprof/flightrecorder")
        from mapdoctor.cli.export import add_export_options

        add_export_options(parser)

    def run(self, args: argparse.Namespace) -> int:
        from mapdoctor.collect.target import parse_target

        target = parse_target(args.url, headers=args.header, cacert=args.cacert, insecure=args.insecure)
        options = replace(live_options(args, url_window_s=target.window_s), census=args.census,
                          export_pprof=args.export_pprof, export_cause=args.export_cause)
        check_outputs([("--json", options.json_target), ("--html", options.html_target),
                       ("--export-pprof", options.export_pprof)])
        warn_about_transport(target, insecure=args.insecure, stream=sys.stderr)
        with memory_budget(args):
            return run_live(target, options, stderr=sys.stderr)


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared with ``mapdoctor demo``."""
    # -seconds: go tool pprof's spelling of the same thing.
    parser.add_argument("--duration", "-seconds", dest="duration", default=None, metavar="DURATION",
                        help=f"collection window: seconds, or Go durations such as 30s, 1m ({MIN_DURATION_S}-"
                             f"{MAX_DURATION_S} s, default {DEFAULT_DURATION_S}, or the seconds= of a pasted profile "
                             "URL); a fraction is rounded up to whole seconds, which is what pprof takes")
    add_report_options(parser)
    add_memory_option(parser)


#: A bare number of seconds, or a Go duration made of parts (``1m30s``, ``500ms``).
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def window_length(text: str) -> float:
    """``30``, ``30s``, ``1m``, ``1m30s``, ``0.5``: a length in seconds; UsageError otherwise."""
    value = text.strip()
    try:
        seconds = float(value) if value and value[-1].isdigit() else _go_duration(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise UsageError(f"--duration {text}: not a duration (e.g. 30, 30s, 1m, 0.5)")
    return seconds


def _go_duration(text: str) -> float:
    parts = list(_DURATION_PART.finditer(text))
    if not parts or "".join(m[0] for m in parts) != text:
        raise ValueError(text)
    return sum(float(m[1]) * _UNITS[m[2].lower()] for m in parts)


def whole_seconds(seconds: float, given: str, *, quiet: bool) -> int:
    """The window in whole seconds, within the bounds; a fraction is rounded up, and said so."""
    whole = max(1, math.ceil(round(seconds, 6))) if seconds > 0 else 0
    if not MIN_DURATION_S <= whole <= MAX_DURATION_S:
        raise UsageError(f"{given}: the window must be between {MIN_DURATION_S} and {MAX_DURATION_S} seconds")
    if whole != seconds and not quiet:
        print(f"mapdoctor: {given}: pprof takes whole seconds; collecting for {whole} s", file=sys.stderr)
    return whole


def live_options(args: argparse.Namespace, out: Path | None = None,
                 url_window_s: float | None = None) -> LiveOptions:
    """The options of a live run; ``url_window_s`` is the ``seconds=`` of a pasted profile URL."""
    quiet = bool(args.quiet)
    if args.duration is not None:
        duration = whole_seconds(window_length(str(args.duration)), f"--duration {args.duration}", quiet=quiet)
    elif url_window_s is not None:
        duration = whole_seconds(url_window_s, f"seconds={url_window_s:g} in the URL", quiet=quiet)
    else:
        duration = DEFAULT_DURATION_S
    return LiveOptions(duration, out if out is not None else getattr(args, "out", None),
                       json_target(args), quiet, html_target=args.html,
                       flight_recorder=bool(getattr(args, "flight_recorder", True)),
                       color=not args.no_color, source=check_source(args))


def warn_about_transport(target: Target, *, insecure: bool, stream: TextIO) -> None:
    if target.scheme == "http" and not target.is_loopback:
        print(f"mapdoctor: warning: {target.host} is not a loopback address and the connection is plain "
              "HTTP: profiles (and any --header credentials) travel unencrypted; prefer https or an "
              "SSH tunnel", file=stream)
    if insecure:
        print("mapdoctor: warning: --insecure: the server's TLS certificate is not verified", file=stream)


def prepare_out_dir(folder: Path, *, extra_files: tuple[str, ...] = ()) -> None:
    """Create ``folder``, or reuse one that holds an earlier capture (its files are replaced).

    A folder is an earlier capture when it has a manifest, or holds only files a capture
    writes (an interrupted one has no manifest yet). Files of the earlier capture are
    removed first: those this capture might not write would mix two captures.
    """
    if str(folder) == "-":
        raise UsageError("--out -: --out names a folder for the evidence, which stdout cannot be")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {folder}: not a directory")
    ours = {*EVIDENCE_FILES, *extra_files, MANIFEST_NAME}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        names = {entry.name for entry in folder.iterdir()}
        if names - ours and MANIFEST_NAME not in names:
            raise UsageError(f"--out {folder}: the folder is not empty (and holds no earlier capture)")
        for name in names & ours:
            (folder / name).unlink()
    except OSError as exc:
        raise UsageError(f"--out {folder}: {exc.strerror or exc}") from None


def run_live(target: Target, options: LiveOptions, *, stderr: TextIO) -> int:
    """Collect, analyse and report; the shared body of ``diagnose`` and ``demo``.

    The verdict is printed before any output file is written. When one cannot be written,
    the evidence of a run without ``--out`` is kept (not deleted with its temporary
    folder) and its folder named, so the collection is not lost with the output.
    """
    from mapdoctor.collect.collector import collect
    from mapdoctor.collect.progress import make_progress
    from mapdoctor.reports.emit import report_failures

    if options.out is not None:
        prepare_out_dir(options.out)
        folder = options.out
    else:
        folder = Path(tempfile.mkdtemp(prefix="mapdoctor-"))
    keep = options.out is not None
    try:
        progress = make_progress(stderr, quiet=options.quiet)
        census_job = None
        if options.census:
            from mapdoctor.cli.census import CensusJob

            census_job = CensusJob(options.census, float(options.duration_s))
        rewrite, recorder = flight_plan(target, options)
        loader = EagerLoader()
        coll = collect(target, folder, duration_s=options.duration_s, progress=progress,
                       on_evidence=loader.submit, parts=rewrite)
        diagnosis = analyse(coll, keep_paths=options.out is not None, folder=options.out, loader=loader,
                            extra_notes=flight_notes(coll, recorder), source_dir=options.source)
        if census_job is not None:
            from mapdoctor.cli.census import join_into

            join_into(diagnosis, census_job)
        failed = emit_report(diagnosis, options.json_target, options.html_target, color=options.color,
                             stdout_taken=options.export_pprof == "-")
        if options.export_pprof:
            failed += _export(coll, options, diagnosis)
        if failed and not keep:
            keep = True
            _keep_evidence(coll, folder, stderr)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    status = report_failures(failed)
    if options.out is not None and options.announce_out and not options.quiet:
        print(f"mapdoctor: evidence saved in {options.out} "
              f"(`mapdoctor analyze {options.out}` gives this verdict again offline)", file=stderr)
    return status


def _keep_evidence(coll: Collection, folder: Path, stderr: TextIO) -> None:
    """An output failed: the temporary folder stays, with its manifest, and is named on stderr."""
    from mapdoctor.collect.manifest import write_manifest

    with contextlib.suppress(OSError):  # the evidence files are there all the same
        write_manifest(coll, folder)
    print(f"mapdoctor: an output could not be written; the evidence is kept in {folder} "
          f"(`mapdoctor analyze {folder}` gives this verdict again)", file=stderr)


def _export(coll: Collection, options: LiveOptions, diagnosis: Diagnosis) -> list[WriteFailure]:
    """The cause's sub-profile, cut from the collected CPU profile while the folder still exists."""
    from mapdoctor.cli.export import cpu_paths, export_pprof
    from mapdoctor.formats.detect import load_inputs

    paths = cpu_paths([p.path for p in coll.evidence() if p.path is not None])
    loaded = load_inputs(paths)
    if options.out is None:
        loaded = _with_request_names(loaded, coll)
    return export_pprof(argparse.Namespace(export_pprof=options.export_pprof, export_cause=options.export_cause,
                                           quiet=options.quiet), loaded, diagnosis)


def flight_plan(target: Target, options: LiveOptions) -> tuple[Callable[[list[PartSpec]], list[PartSpec]] | None,
                                                                str | None]:
    """The plan rewrite that takes the trace from the service's flight recorder, if it runs one."""
    if not options.flight_recorder:
        return None, None
    from mapdoctor.collect.flight import plan_rewrite_for

    return plan_rewrite_for(target, options.duration_s)


def flight_notes(coll: Collection, recorder: str | None) -> list[str]:
    trace = coll.part("trace")
    if recorder is None or trace is None or trace.status != "ok":
        return []
    return [f"execution trace from the service's flight recorder ({recorder.removeprefix('flight recorder: ')}): "
            "it covers the seconds before the collection too"]


class EagerLoader:
    """Decodes each part as soon as it is saved, in one background thread.

    The execution trace arrives seconds before the window ends and is the slowest input
    to decode; decoding it while the CPU and delta profiles are still being taken keeps
    the verdict close to the end of the window. The thread is a daemon, so Ctrl-C never
    waits for a decode to finish.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[Path | None] = queue.Queue()
        self._done: dict[Path, LoadResult | BaseException] = {}
        self._cond = threading.Condition()
        self._submitted: set[Path] = set()
        self._broken: BaseException | None = None  # the thread could not start decoding
        self._thread = threading.Thread(target=self._run, name="decode", daemon=True)
        self._thread.start()

    def submit(self, part: PartResult) -> None:
        if part.path is not None:
            self._submitted.add(part.path)
            self._jobs.put(part.path)

    def _run(self) -> None:
        try:
            # The window is idle time for this process: import the analysis and the
            # reporters now, not after the window.
            import mapdoctor.analysis.diagnose
            import mapdoctor.reports.json_report
            import mapdoctor.reports.terminal  # noqa: F401
            from mapdoctor.formats.detect import load_inputs
        except BaseException as exc:
            with self._cond:
                self._broken = exc
                self._cond.notify_all()
            return

        while (path := self._jobs.get()) is not None:
            result: LoadResult | BaseException
            try:
                result = load_inputs([path])
            except BaseException as exc:  # handed to the caller, who re-raises it
                result = exc
            with self._cond:
                self._done[path] = result
                self._cond.notify_all()

    def results(self, paths: list[Path]) -> LoadResult:
        """Everything loaded from ``paths``, in that order (waiting for the thread)."""
        from mapdoctor.formats.detect import LoadResult, load_inputs

        self._jobs.put(None)
        merged = LoadResult()
        for path in paths:
            if path in self._submitted:
                with self._cond:
                    while path not in self._done and self._broken is None:
                        self._cond.wait()
                    got = self._done.get(path) or self._broken or load_inputs([path])
            else:
                got = load_inputs([path])
            if isinstance(got, BaseException):
                raise got
            merged.inputs += got.inputs
            merged.skipped += got.skipped
        return merged


def analyse(coll: Collection, *, keep_paths: bool, folder: Path | None,
            loader: EagerLoader | None = None, extra_notes: Sequence[str] = (),
            source_dir: Path | None = None) -> Diagnosis:
    """Load what was collected and diagnose it; InputError when nothing is usable."""
    from mapdoctor.analysis.diagnose import diagnose
    from mapdoctor.collect.manifest import write_manifest
    from mapdoctor.errors import InputError
    from mapdoctor.formats.detect import load_inputs

    evidence = coll.evidence()
    if not evidence:
        if folder is not None:
            write_manifest(coll, folder)
        raise InputError(coll.target.display, "http", coll.failure_reason())
    paths = [p.path for p in evidence if p.path is not None]
    loaded = loader.results(paths) if loader is not None else load_inputs(paths)
    load_errors = {Path(e.path).name: f"{e.what}: {e.why}" for e in loaded.skipped}
    if folder is not None:
        write_manifest(coll, folder, load_errors=load_errors)
    if not keep_paths:
        loaded = _with_request_names(loaded, coll)
    if not loaded.inputs:
        first = loaded.skipped[0] if loaded.skipped else None
        why = f"{first.what}: {first.why}" if first else "nothing could be read"
        raise InputError(coll.target.display, "http", f"nothing usable was collected ({why})")
    failed = coll.incomplete() or bool(loaded.skipped)
    diagnosis = diagnose(loaded, notes=[*coll.notes(), *extra_notes], source_dir=source_dir)
    diagnosis.partial = diagnosis.partial or failed
    return diagnosis


def _with_request_names(loaded: LoadResult, coll: Collection) -> LoadResult:
    """Name each input after the request it came from: a temporary folder is gone after the run."""
    from mapdoctor.errors import InputError

    names = {str(p.path): f"{coll.target.display}{p.spec.request}" for p in coll.evidence()}
    for inp in loaded.inputs:
        inp.path = names.get(inp.path, inp.path)
    loaded.skipped = [InputError(names.get(e.path, e.path), e.what, e.why) for e in loaded.skipped]
    return loaded


def emit_report(diagnosis: Diagnosis, json_target: str | None, html_target: str | None = None, *,
                color: bool = True, stdout_taken: bool = False) -> list[WriteFailure]:
    """The text report on stdout, unless another report goes there (``-``); the writes that failed."""
    from mapdoctor.reports.emit import Outputs, emit

    return emit(diagnosis, Outputs(json=json_target, html=html_target, color=color, stdout_taken=stdout_taken))


COMMAND = DiagnoseCommand()
