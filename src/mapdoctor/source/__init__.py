"""Go source analysis with tree-sitter (`mapdoctor lint`) and capacity advice from profiles.

The names below are loaded on first use, so that importing one light submodule (findings,
capacity) does not pay for the tree-sitter parser.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mapdoctor.source.capacity import estimate_map_capacity
    from mapdoctor.source.findings import CapacityEstimate, Confidence, Finding, Fix, LintReport, Severity
    from mapdoctor.source.lint import attach_profiles, findings_at, lint_paths

_WHERE = {
    "estimate_map_capacity": "capacity",
    "CapacityEstimate": "findings", "Confidence": "findings", "Finding": "findings", "Fix": "findings",
    "LintReport": "findings", "Severity": "findings",
    "attach_profiles": "lint", "findings_at": "lint", "lint_paths": "lint",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"mapdoctor.source.{module}"), name)
