"""``mapdoctor diagnose URL``: collect from a live service, then the same verdict as ``analyze``."""

from __future__ import annotations

import argparse
import queue
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mapdoctor.cli.command import UsageError, add_memory_option, memory_budget
from mapdoctor.collect.plan import DEFAULT_DURATION_S, EVIDENCE_FILES, MAX_DURATION_S, MIN_DURATION_S

# The rest is imported where it is used: every command module is imported to build the
# parser, and the HTTP client and the analysis should cost nothing to the other commands.
if TYPE_CHECKING:
    from mapdoctor.analysis.findings import Diagnosis
    from mapdoctor.collect.collector import Collection, PartResult
    from mapdoctor.collect.plan import PartSpec
    from mapdoctor.collect.target import Target
    from mapdoctor.formats.detect import LoadResult

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True, slots=True)
class LiveOptions:
    duration_s: int = DEFAULT_DURATION_S
    out: Path | None = None  # None: a temporary folder, deleted afterwards
    json_target: str | None = None  # "-" for stdout
    quiet: bool = False
    html_target: str | None = None
    #: Say where the evidence was saved (the demo says it itself, after stopping the service).
    announce_out: bool = True
    #: ``--census PID|FILE``: a map census joined with the growth sites (a PID is watched over the window).
    census: str | None = None
    #: Take the trace from the service's flight recorder when it has one (``collect.flight``).
    flight_recorder: bool = True
    #: ``--export-pprof PATH`` and ``--export-cause KIND`` (``cli.export``).
    export_pprof: str | None = None
    export_cause: str | None = None


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

        options = replace(live_options(args), census=args.census, export_pprof=args.export_pprof,
                          export_cause=args.export_cause)
        target = parse_target(args.url, headers=args.header, cacert=args.cacert, insecure=args.insecure)
        warn_about_transport(target, insecure=args.insecure, stream=sys.stderr)
        with memory_budget(args):
            return run_live(target, options, stderr=sys.stderr)


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared with ``mapdoctor demo``."""
    parser.add_argument("--duration", type=int, default=DEFAULT_DURATION_S, metavar="SECONDS",
                        help=f"collection window in whole seconds ({MIN_DURATION_S}-{MAX_DURATION_S}, "
                             f"default {DEFAULT_DURATION_S})")
    parser.add_argument("--json", dest="json_target", metavar="PATH",
                        help="write the JSON report to PATH ('-' for stdout, instead of the text report)")
    parser.add_argument("--html", dest="html_target", metavar="PATH", help="also write a single-file HTML report")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_memory_option(parser)


def live_options(args: argparse.Namespace, out: Path | None = None) -> LiveOptions:
    duration = int(args.duration)
    if not MIN_DURATION_S <= duration <= MAX_DURATION_S:
        raise UsageError(f"--duration must be between {MIN_DURATION_S} and {MAX_DURATION_S} seconds")
    return LiveOptions(duration, out if out is not None else getattr(args, "out", None),
                       args.json_target, bool(args.quiet), html_target=args.html_target,
                       flight_recorder=bool(getattr(args, "flight_recorder", True)))


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
    """Collect, analyse and report; the shared body of ``diagnose`` and ``demo``."""
    from mapdoctor.collect.collector import collect
    from mapdoctor.collect.progress import make_progress

    if options.out is not None:
        prepare_out_dir(options.out)
        folder = options.out
    else:
        folder = Path(tempfile.mkdtemp(prefix="mapdoctor-"))
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
                            extra_notes=flight_notes(coll, recorder))
        if census_job is not None:
            from mapdoctor.cli.census import join_into

            join_into(diagnosis, census_job)
        if options.export_pprof:
            _export(coll, options, diagnosis)
    finally:
        if options.out is None:
            shutil.rmtree(folder, ignore_errors=True)
    emit_report(diagnosis, options.json_target, options.html_target)
    if options.out is not None and options.announce_out and not options.quiet:
        print(f"mapdoctor: evidence saved in {options.out} "
              f"(`mapdoctor analyze {options.out}` gives this verdict again offline)", file=stderr)
    return 0


def _export(coll: Collection, options: LiveOptions, diagnosis: Diagnosis) -> None:
    """The cause's sub-profile, cut from the collected CPU profile while the folder still exists."""
    from mapdoctor.cli.export import cpu_paths, export_pprof
    from mapdoctor.formats.detect import load_inputs

    paths = cpu_paths([p.path for p in coll.evidence() if p.path is not None])
    loaded = load_inputs(paths)
    if options.out is None:
        loaded = _with_request_names(loaded, coll)
    export_pprof(argparse.Namespace(export_pprof=options.export_pprof, export_cause=options.export_cause),
                 loaded, diagnosis)


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
            loader: EagerLoader | None = None, extra_notes: Sequence[str] = ()) -> Diagnosis:
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
    diagnosis = diagnose(loaded, notes=[*coll.notes(), *extra_notes])
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


def emit_report(diagnosis: Diagnosis, json_target: str | None, html_target: str | None = None) -> None:
    """The text report on stdout, unless the JSON one goes there (``--json -``)."""
    from mapdoctor.reports.emit import Outputs, emit

    emit(diagnosis, Outputs(json=json_target, html=html_target))


COMMAND = DiagnoseCommand()
