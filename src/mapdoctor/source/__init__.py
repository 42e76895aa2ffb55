"""Go source analysis with tree-sitter (`mapdoctor lint`) and capacity advice from profiles."""

from __future__ import annotations

from mapdoctor.source.capacity import estimate_map_capacity
from mapdoctor.source.findings import CapacityEstimate, Confidence, Finding, Fix, LintReport, Severity
from mapdoctor.source.lint import attach_profiles, findings_at, lint_paths

__all__ = [
    "CapacityEstimate",
    "Confidence",
    "Finding",
    "Fix",
    "LintReport",
    "Severity",
    "attach_profiles",
    "estimate_map_capacity",
    "findings_at",
    "lint_paths",
]
