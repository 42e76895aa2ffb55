"""The external accuracy suite: mapdoctor's verdict on programs nobody here wrote.

    python accuracy/run.py [--go 1.23.9] [--go 1.27.3] [--case ID ...] [--work DIR] [--fresh]
                           [--explore] [--save-fixtures]

For each case of labels.json and each lab Go version it applies to, the case is profiled with
that toolchain (accuracy/capture.py: GOROOT benchmarks with go test's profile flags, gofmt,
the compiler and the linker with -cpuprofile, and a few purpose-written programs of this repo,
labelled ``"origin": "repo"``), diagnosed with mapdoctor, and its verdict and primary cause
(the first confirmed cause, or none) compared with the label. Each label carries a one-line
justification computed by ``go tool pprof`` (accuracy/justify.py).

``--explore`` prints the diagnosis and the pprof figures instead of comparing (to write labels);
``--save-fixtures`` copies the captures of the cases marked ``"fixture": true`` into
tests/fixtures/accuracy/ (the subset the unit tests run on). It takes minutes; it is not part of
the unit tests. Exit status 1 when a case disagrees with its label.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from capture import CaptureError, capture_case  # noqa: E402
from justify import justification  # noqa: E402
from mapdoctor.analysis.diagnose import diagnose  # noqa: E402
from mapdoctor.formats.detect import load_inputs  # noqa: E402
from mapdoctor.lab.toolchain import LAB_VERSIONS, cache_dir, find_go  # noqa: E402

LABELS = HERE / "labels.json"
FIXTURES = HERE.parent / "tests" / "fixtures" / "accuracy"
#: Files a committed fixture keeps (traces only when small).
FIXTURE_FILES = ("cpu.pprof", "mem.pprof", "mutex.pprof", "block.pprof", "crash.log", "bench.txt")
MAX_FIXTURE_BYTES = 1_000_000


def go_key(version: str) -> str:
    """``1.27.3`` -> ``1.27``: how labels name a toolchain."""
    return ".".join(version.split(".")[:2])


def load_labels() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(LABELS.read_text())["cases"]
    return cases


def outcome(folder: Path) -> tuple[str, str | None, str]:
    d = diagnose(load_inputs([folder]))
    primary = next((c.kind.value for c in d.causes if c.status == "confirmed"), None)
    return d.verdict.value, primary, d.summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--go", action="append", dest="versions", help="toolchain (repeatable; default both lab Gos)")
    ap.add_argument("--case", action="append", dest="cases", help="case id (repeatable; default all)")
    ap.add_argument("--work", type=Path, default=cache_dir() / "accuracy", help="captures and binaries")
    ap.add_argument("--fresh", action="store_true", help="delete earlier captures and test binaries first")
    ap.add_argument("--explore", action="store_true", help="print diagnoses and pprof figures, no comparison")
    ap.add_argument("--save-fixtures", action="store_true", help="copy fixture cases into tests/fixtures/accuracy")
    ap.add_argument("--relabel-figures", action="store_true",
                    help="store each capture's go tool pprof figures in labels.json (keeps the labels)")
    args = ap.parse_args(argv)
    versions = args.versions or list(LAB_VERSIONS)
    cases = [c for c in load_labels() if not args.cases or c["id"] in args.cases]
    if args.fresh and args.work.exists():
        shutil.rmtree(args.work)
    rows: list[dict[str, Any]] = []
    failures = 0
    t0 = time.monotonic()
    for version in versions:
        tc = find_go(version)
        key = go_key(version)
        for case in cases:
            label = case.get("expect", {}).get(key)
            if label is None and not args.explore:
                continue
            if key not in case.get("go", [key]):
                continue
            dest = args.work / f"go{key}" / case["id"]
            started = time.monotonic()
            try:
                capture_case(case, key, tc, dest, args.work / "bin" / f"go{key}")
            except CaptureError as exc:
                print(f"go{key} {case['id']}: capture failed: {exc}", flush=True)
                failures += 1
                rows.append({"go": key, "case": case["id"], "error": str(exc)})
                continue
            verdict, primary, summary = outcome(dest)
            seconds = time.monotonic() - started
            if args.explore:
                print(f"go{key} {case['id']}: {verdict} / {primary}  ({seconds:.0f} s)\n    {summary}\n"
                      f"    {justification(tc.go, dest)}", flush=True)
                continue
            figures = justification(tc.go, dest)
            if args.relabel_figures:
                label["pprof"] = figures
            ok = verdict == label["verdict"] and primary == label["primary"]
            failures += not ok
            rows.append({"go": key, "case": case["id"], "origin": case.get("origin", "goroot"),
                         "want": f"{label['verdict']} / {label['primary']}", "got": f"{verdict} / {primary}",
                         "ok": ok, "seconds": round(seconds, 1), "summary": summary, "pprof": figures})
            print(f"{'ok  ' if ok else 'FAIL'} go{key} {case['id']}: {verdict} / {primary}"
                  + ("" if ok else f" (want {label['verdict']} / {label['primary']}; {summary})"), flush=True)
            if args.save_fixtures and case.get("fixture"):
                _save_fixture(dest, FIXTURES / f"go{key}" / case["id"])
    if args.relabel_figures:
        doc = json.loads(LABELS.read_text())
        by_id = {c["id"]: c for c in cases}
        doc["cases"] = [by_id.get(c["id"], c) for c in doc["cases"]]
        LABELS.write_text(json.dumps(doc, indent=2) + "\n")
    if not args.explore:
        print(table(rows, cases))
        print(f"{sum(1 for r in rows if r.get('ok'))} of {len(rows)} agree; {time.monotonic() - t0:.0f} s")
        (args.work / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    return 1 if failures else 0


def table(rows: list[dict[str, Any]], cases: list[dict[str, Any]]) -> str:
    origin = {c["id"]: c.get("origin", "goroot") for c in cases}
    out = ["| Go | case | origin | label (verdict / primary) | mapdoctor | agrees |", "|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            out.append(f"| {r['go']} | {r['case']} | {origin[r['case']]} | | capture failed | no |")
            continue
        out.append(f"| {r['go']} | {r['case']} | {r['origin']} | {r['want']} | {r['got']} | "
                   f"{'yes' if r['ok'] else '**no**'} |")
    return "\n".join(out)


def _scrub(data: bytes) -> bytes:
    """A profile with this machine's absolute paths (the test binary's mapping) cut to base names."""
    from mapdoctor.lab.capture import local_path_markers, rewrite_profile_strings

    markers = [m.decode() for m in local_path_markers()]

    def rewrite(text: str) -> str:
        return Path(text).name if any(text.startswith(m) for m in markers) else text

    plain = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return gzip.compress(rewrite_profile_strings(plain, rewrite), mtime=0)


def _save_fixture(src: Path, dest: Path) -> None:
    from mapdoctor.lab.capture import local_paths_in

    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for f in sorted(src.iterdir()):
        if f.name not in FIXTURE_FILES:
            continue
        data = f.read_bytes()
        if f.suffix == ".pprof":
            data = _scrub(data)
        if len(data) >= MAX_FIXTURE_BYTES or local_paths_in(data):
            print(f"  not kept as a fixture: {f.name} ({len(data)} bytes, local paths {local_paths_in(data)})")
            continue
        (dest / f.name).write_bytes(data)


if __name__ == "__main__":
    raise SystemExit(main())
