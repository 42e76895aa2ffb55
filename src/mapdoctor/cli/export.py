"""``--export-pprof PATH`` / ``--export-cause KIND``: shared by ``analyze`` and ``diagnose``."""

from __future__ import annotations

import argparse
from pathlib import Path

from mapdoctor.analysis.findings import CauseKind, Diagnosis
from mapdoctor.cli.command import UsageError
from mapdoctor.formats.detect import LoadResult
from mapdoctor.reports.emit import WriteFailure, write_output


def add_export_options(parser: argparse.ArgumentParser) -> None:
    from mapdoctor.analysis.compare import CAUSE_SHARES

    parser.add_argument("--export-pprof", metavar="PATH",
                        help="write the sub-profile of one cause (only its CPU samples) as a pprof file, for "
                             "pprof's own views: go tool pprof -top PATH ('-' = stdout)")
    parser.add_argument("--export-cause", metavar="KIND", choices=[k.value for k in CAUSE_SHARES],
                        help="the cause --export-pprof cuts out (default: the first CPU cause of the verdict, "
                             "else map_growth): " + ", ".join(k.value for k in CAUSE_SHARES))


def export_pprof(args: argparse.Namespace, loaded: LoadResult, diagnosis: Diagnosis) -> list[WriteFailure]:
    """Write the sub-profile ``--export-pprof`` asked for; the write that failed, if it did."""
    target = getattr(args, "export_pprof", None)
    if not target:
        return []
    from mapdoctor.analysis.subprofile import NoSubProfile, cut, default_kind
    from mapdoctor.reports.pprof_export import write_subprofile

    cause = getattr(args, "export_cause", None)
    kind = CauseKind(cause) if cause else default_kind(diagnosis)
    try:
        sub = cut(loaded, diagnosis, kind)
    except NoSubProfile as exc:
        raise UsageError(f"--export-pprof: {exc}") from None
    quiet = bool(getattr(args, "quiet", False))
    failed = write_output(target, lambda: write_subprofile(sub, target, quiet=quiet))
    return [failed] if failed is not None else []


def cpu_paths(paths: list[Path]) -> list[Path]:
    """The CPU profiles among collected files (named by the collection plan)."""
    return [p for p in paths if p.name.startswith("cpu")]
