"""``mapdoctor bench``: measure the fix of a finding (map growth, sync.Map) with a generated Go benchmark."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mapdoctor.cli.command import UsageError
from mapdoctor.cli.common import STDOUT, add_report_options, check_outputs, json_target
from mapdoctor.errors import InputError
from mapdoctor.safetext import for_terminal

_FINDINGS = ("map_growth", "sync_map")
#: Keys present at the start of a shared-map benchmark when nothing says how many.
DEFAULT_SHARED_SIZE = 10_000


def _shared_spec(cause: Any, args: argparse.Namespace) -> Any:
    """A sync.Map finding: the four ways to share a map, on the mix its operations showed."""
    from mapdoctor.source.benchgen import Mix, parse_map_type, parse_mix, shared_map_spec

    if args.mix:
        mix = parse_mix(args.mix)
    else:
        ops = (cause.sites[0].detail.get("operations") if cause.sites else None) or {}
        if not any(ops.get(k) for k in ("reads", "misses", "updates", "new_keys")):
            raise UsageError("the sync.Map finding does not say which operations it saw: pass --mix "
                             "HITS:MISSES:UPDATES:NEW")
        mix = Mix(ops["reads"], ops["misses"], ops["updates"], ops["new_keys"])
        print(f"mapdoctor: operation mix from the profile's CPU shares ({mix.text()}); a store costs more "
              "than a read, so reads are under-counted: pass --mix to set the real one", file=sys.stderr)
    key, value = "string", "any"
    if args.map:
        typed = parse_map_type(args.map, 1)
        key, value = typed.key, typed.value
    return shared_map_spec(mix, args.size or DEFAULT_SHARED_SIZE, key, value)


def _spec_from_capture(args: argparse.Namespace) -> Any:
    from mapdoctor.api import analyze
    from mapdoctor.source.benchgen import parse_map_type

    d = analyze(args.paths, source=args.source)
    wanted = [args.finding] if args.finding else list(_FINDINGS)
    cause = next((c for c in d.causes if c.kind.value in wanted), None)
    if cause is None:
        what = " or ".join(w.replace("_", "-").replace("sync-map", "sync.Map") for w in wanted)
        raise InputError(str(args.paths[0]), "bench", f"no {what} finding in these captures")
    if cause.kind.value == "sync_map":
        return _shared_spec(cause, args)
    if not cause.sites:
        raise InputError(str(args.paths[0]), "bench", "the map-growth finding names no site")
    site = cause.sites[0]
    if args.site:
        file, _, line = args.site.rpartition(":")
        chosen = next((s for s in cause.sites if s.file.endswith(file) and str(s.line) == line), None)
        if chosen is None:
            raise UsageError(f"--site {args.site}: not a map-growth site of the verdict")
        site = chosen
    cap = site.detail.get("capacity") or {}
    size = args.size or cap.get("recommended")
    fixes = [f.get("fix", "") + " " + f.get("message", "") for f in site.detail.get("source_findings", [])]
    text = args.map or next((t for t in fixes if "map[" in t), None)
    if text is None:
        raise UsageError(f"{site.file}:{site.line}: the map's type is not known: pass --source DIR (the Go tree) "
                         "or --map 'map[K]V'")
    if not size:
        raise UsageError(f"{site.file}:{site.line}: no size estimate in the captures: pass --size N")
    return parse_map_type(text, int(size), cap.get("implementation") or d.go.maps or "swiss")


class BenchCommand:
    name = "bench"
    help = ("Generate and run a Go benchmark for a finding, benchstat-style statistics. Map growth: the map's "
            "key and value types and estimated size, no hint vs hint vs clear reuse (vs integer keys). "
            "sync.Map: sync.Map vs Mutex/RWMutex-guarded map vs a sharded map on the observed operation mix.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("paths", nargs="*", type=Path, metavar="FILE",
                            help="captures with a map-growth finding (as for analyze)")
        parser.add_argument("--source", type=Path, metavar="DIR", help="Go source tree: the map's key and value types")
        parser.add_argument("--site", metavar="FILE:LINE", help="the growth site (default: the verdict's first)")
        parser.add_argument("--finding", choices=_FINDINGS,
                            help="which finding to benchmark (default: the first of these the verdict has)")
        parser.add_argument("--mix", metavar="H:M:U:N",
                            help="shared-map operation mix: reads that hit, reads that miss, updates, new keys "
                                 "(default: from the sync.Map finding; without captures, needs --size too)")
        parser.add_argument("--map", metavar="TYPE",
                            help="the map type, e.g. 'map[string]*Order' (instead of --source)")
        parser.add_argument("--size", type=int, metavar="N",
                            help=f"entries per fill (default: the estimate); keys present at the start of a "
                                 f"shared-map benchmark (default {DEFAULT_SHARED_SIZE:,})")
        parser.add_argument("--emit", type=Path, metavar="DIR", help="write the benchmark module to DIR, do not run it")
        parser.add_argument("--count", type=int, default=10, help="runs of each benchmark (default 10)")
        parser.add_argument("--benchtime", default="0.2s", help="go test -benchtime (default 0.2s)")
        parser.add_argument("--go", metavar="VERSION", help="Go toolchain version (default: go on PATH, or the lab's)")
        # --source is bench's own (the map's types), defined above.
        add_report_options(parser, what="benchmark results (mapdoctor/bench@1)", source=False)

    def run(self, args: argparse.Namespace) -> int:
        from mapdoctor.source.benchgen import BenchSpecError, generate, parse_map_type, parse_mix, shared_map_spec

        if not 2 <= args.count <= 100:
            raise UsageError("--count must be between 2 and 100")
        args.json = json_target(args)
        check_outputs([("--json", args.json), ("--html", args.html)])
        try:
            if args.paths:
                spec = _spec_from_capture(args)
            elif args.mix and args.size:
                typed = parse_map_type(args.map, 1) if args.map else None
                spec = shared_map_spec(parse_mix(args.mix), args.size, typed.key if typed else "string",
                                       typed.value if typed else "any")
            elif args.map and args.size:
                spec = parse_map_type(args.map, args.size)
            else:
                raise UsageError("give captures with a map-growth or sync.Map finding, or --map TYPE and --size N "
                                 "(a map fill), or --mix H:M:U:N and --size N (a shared map)")
        except BenchSpecError as exc:
            raise UsageError(str(exc)) from None
        if args.emit is not None:
            args.emit.mkdir(parents=True, exist_ok=True)
            for name, text in generate(spec).items():
                (args.emit / name).write_text(text, encoding="utf-8")
            print(f"wrote {args.emit}: run it with: cd {args.emit} && go test -bench . -count=10 -benchmem",
                  file=sys.stderr)
            return 0
        return _run(spec, args)


def _run(spec: Any, args: argparse.Namespace) -> int:
    from mapdoctor.analysis.benchrun import BenchRunError, run_bench
    from mapdoctor.analysis.benchstats import ALPHA
    from mapdoctor.lab.toolchain import find_go
    from mapdoctor.reports.emit import report_failures, write_output

    tc = find_go(args.go)
    if not args.quiet:
        print(f"mapdoctor: running the benchmarks of {spec.original}, {spec.size} entries ({args.count} runs each, "
              f"-benchtime={args.benchtime})...", file=sys.stderr)
    try:
        result = run_bench(spec, tc.go, tc.env(), count=args.count, benchtime=args.benchtime)
    except BenchRunError as exc:
        raise InputError("go test", "bench", str(exc)) from None
    if STDOUT not in (args.json, args.html):
        if spec.mix is not None:
            print(f"{for_terminal(result.go)}: {spec.original} shared by goroutines, {spec.size} keys at the start, "
                  f"mix {spec.mix.text()} (benchmarked with map[{spec.key}]{spec.value} for the plain maps)")
        else:
            print(f"{for_terminal(result.go)}: {spec.original} filled with {spec.size} entries (benchmarked as "
                  f"map[{spec.key}]{spec.value}; {spec.growth_steps} growth steps without a hint)")
        base = result.baseline
        for name in result.runs:
            parts = []
            for metric in ("ns/op", "B/op", "allocs/op"):
                s = result.summary(name, metric)
                parts.append(f"{s.median:,.0f} {metric} (95% {s.low:,.0f}..{s.high:,.0f})")
            line = f"  {name:<11} " + ", ".join(parts)
            if name != base:
                ratio, p = result.versus(name)
                verdict = f"{100 * (ratio - 1):+.1f}% time, p={p:.2g}" if p < ALPHA else \
                    f"no significant difference (p={p:.2g})"
                line += f"  [{verdict} vs {base}]"
            print(line)
        print(_conclusion(result))
    doc = result.as_dict()
    failed = []
    if args.html:
        from mapdoctor.reports.bench_html import render, write_html

        html = args.html
        failed.append(write_output(html, lambda: sys.stdout.write(render(doc)) if html == STDOUT
                                   else write_html(doc, html)))
    if args.json:
        text = json.dumps(doc, indent=2) + "\n"
        target = args.json
        failed.append(write_output(target, lambda: sys.stdout.write(text) if target == STDOUT
                                   else Path(target).write_text(text, encoding="utf-8")))
    return report_failures([f for f in failed if f is not None])


def _conclusion(result: Any) -> str:
    """The fastest way that beats the code as it is with significance, or that none does."""
    from mapdoctor.analysis.benchstats import ALPHA

    base = result.baseline
    better = [(ratio, p, name) for name in result.runs if name != base
              for ratio, p in [result.versus(name)] if p < ALPHA and ratio < 1]
    if not better:
        return f"  => nothing is significantly faster than {base} (the code as it is) at p < {ALPHA}"
    ratio, p, name = min(better)
    return f"  => fastest: {name}, {100 * (1 - ratio):.1f}% less time than {base} (p={p:.2g})"


COMMAND = BenchCommand()
