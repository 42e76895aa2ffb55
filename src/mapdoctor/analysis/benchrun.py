"""Run a generated benchmark with a Go toolchain and summarize it benchstat-style."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mapdoctor.analysis.benchstats import ALPHA, Summary, mann_whitney, summarize
from mapdoctor.source.benchgen import BenchSpec, generate

_LINE = re.compile(r"^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+(.*)$")
_METRIC = re.compile(r"([0-9.e+-]+) ([\w/]+)")
#: ``misses/op`` and ``newkeys/op``: the share of a shared-map benchmark's operations of that kind.
METRICS = ("ns/op", "B/op", "allocs/op", "growths/op", "misses/op", "newkeys/op")
#: Each comparison is against the code as it is: ``NoHint`` for a map-growth finding (the
#: spec's ``baseline`` says which: ``SyncMap`` for a shared-map benchmark).
BASELINE = "NoHint"


class BenchRunError(RuntimeError):
    """The toolchain failed (the message carries its output)."""


@dataclass(slots=True)
class BenchResult:
    spec: BenchSpec
    go: str
    runs: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # bench -> metric -> values

    def summary(self, bench: str, metric: str) -> Summary:
        return summarize(self.runs[bench].get(metric, []))

    @property
    def baseline(self) -> str:
        return self.spec.baseline

    def versus(self, bench: str, metric: str = "ns/op") -> tuple[float, float]:
        """(ratio of medians against the baseline, Mann-Whitney p)."""
        base = self.runs[self.baseline][metric]
        other = self.runs[bench][metric]
        b, o = summarize(base).median, summarize(other).median
        return (o / b if b else 0.0), mann_whitney(base, other)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": "mapdoctor/bench@1", "go": self.go, "map": self.spec.original,
                               "bench_map": f"map[{self.spec.key}]{self.spec.value}", "size": self.spec.size,
                               "baseline": self.baseline, "benchmarks": []}
        if self.spec.mix is not None:
            m = self.spec.mix
            out["mix"] = {"hits": m.hits, "misses": m.misses, "updates": m.updates, "new_keys": m.new_keys,
                          "text": m.text()}
        for name, metrics in self.runs.items():
            item: dict[str, Any] = {"name": name}
            for metric, values in metrics.items():
                s = summarize(values)
                item[metric] = {"median": s.median, "ci": [s.low, s.high], "runs": len(values)}
            if name != self.baseline and self.baseline in self.runs:
                ratio, p = self.versus(name)
                vs = {"ratio": round(ratio, 4), "p_value": round(p, 6), "significant": p < ALPHA}
                item["vs_baseline"] = vs
                if self.baseline == BASELINE:
                    item["vs_no_hint"] = vs  # the name this field had first
            out["benchmarks"].append(item)
        return out


def parse_bench_output(text: str) -> dict[str, dict[str, list[float]]]:
    runs: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        for value, unit in _METRIC.findall(m.group(2)):
            if unit in METRICS:
                runs[m.group(1)][unit].append(float(value))
    return {k: dict(v) for k, v in runs.items()}


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    try:
        r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchRunError(f"{' '.join(cmd[1:3])}: no result within {timeout:.0f} s") from None
    if r.returncode != 0:
        raise BenchRunError(f"{' '.join(cmd[1:3])} failed: {(r.stderr or r.stdout).strip()[-800:]}")
    return r.stdout


def run_bench(spec: BenchSpec, go_binary: Path, env: dict[str, str], *, count: int = 10,
              benchtime: str = "0.2s", timeout: float = 900.0) -> BenchResult:
    """vet, then ``go test -bench . -count=N -benchmem`` in a temporary module."""
    with tempfile.TemporaryDirectory(prefix="mapdoctor-bench-") as tmp:
        folder = Path(tmp)
        for name, text in generate(spec).items():
            (folder / name).write_text(text, encoding="utf-8")
        env = {**env, "GOFLAGS": "-mod=mod"}
        version = _run([str(go_binary), "env", "GOVERSION"], folder, env, 60).strip()
        _run([str(go_binary), "vet", "./..."], folder, env, 300)
        out = _run([str(go_binary), "test", "-run", "^$", "-bench", ".", f"-count={count}", "-benchmem",
                    f"-benchtime={benchtime}"], folder, env, timeout)
    runs = parse_bench_output(out)
    if spec.baseline not in runs:
        raise BenchRunError(f"go test printed no benchmark results: {out[-400:]}")
    return BenchResult(spec, version, runs)
