"""The terminal form of a lint report."""

from __future__ import annotations

from collections import Counter

from mapdoctor.analysis.advice import capacity_text
from mapdoctor.safetext import for_terminal
from mapdoctor.source.findings import Finding, LintReport
from mapdoctor.source.rules import RULES


def _amount(value: int, unit: str) -> str:
    if unit == "nanoseconds":
        return f"{value / 1e9:.2f}s"
    if unit == "bytes":
        for scale, suffix in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if value >= scale:
                return f"{value / scale:.1f}{suffix}"
        return f"{value}B"
    return f"{value} {unit}"


def finding_text(f: Finding) -> list[str]:
    lines = [f"{f.file}:{f.line}:{f.column}: {f.rule} [{f.severity.value}, {f.confidence.value} confidence] "
             f"{f.message}"]
    if f.fix is not None:
        tag = "fix" if f.fix.safe else "suggested fix (not applied by --fix: " + f.fix.unsafe_reason + ")"
        lines.append(f"    {tag}: {f.fix.description}")
    if f.cost is not None:
        measured = ", ".join(f"{_amount(v, u)} {name}" for name, (v, u) in f.cost.values.items())
        extra = f"; {f.cost.growth_share:.1%} of the CPU profile is map growth here" if f.cost.growth_share else ""
        lines.append(f"    profile: {measured} at these lines ({f.cost.share:.1%} of the profile){extra}")
    if f.capacity is not None:
        c = f.capacity
        size = f"more than {c.low} and at most {c.high} entries" if c.narrow else capacity_text(c.low, c.high, c.limit)
        hint = f"the source bound {f.bound} is exact: use it (expect it near {c.recommended})" if f.bound else \
            f"hint {c.recommended}"
        lines.append(f"    size from the profile ({c.implementation} maps): {size}; {hint}")
        lines.append(f"      evidence: {c.evidence}")
    return lines


def to_text(report: LintReport, *, explain: bool = False) -> str:
    out: list[str] = []
    for f in report.findings:
        out.extend(finding_text(f))
    for s in report.skipped:
        out.append(f"{s.file}: skipped: {s.reason}")
    if report.profile_sites:
        out.append("lines the CPU profile blames:")
        for ps in report.profile_sites:
            what = ps.kind.replace("_", " ")
            answer = (f"{ps.rule} at {ps.finding_file}:{ps.finding_line}" if ps.rule
                      else f"no finding: {ps.reason}")
            out.append(f"  {ps.file}:{ps.line}  {ps.share:.1%} {what}  -> {answer}")
    if explain:
        for rid in sorted({f.rule for f in report.findings}):
            r = RULES[rid]
            out.append("")
            out.append(f"{r.id} {r.name}: {r.summary}")
            out.append(f"    {r.explanation}")
    by_conf = Counter(f.confidence.value for f in report.findings)
    conf = ", ".join(f"{by_conf[c]} {c}" for c in ("high", "medium", "low") if by_conf[c])
    out.append(f"{len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}"
               f"{f' ({conf} confidence)' if conf else ''} in {report.files_checked} files "
               f"({report.lines_checked} lines); {len(report.skipped)} skipped")
    # File names, skip reasons and source text come from the tree being linted: no line may
    # carry a control character to the terminal (nor a newline that forges another finding).
    return "\n".join(for_terminal(line) for line in out) + "\n"
