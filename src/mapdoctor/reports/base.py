"""The one protocol every reporter follows."""

from __future__ import annotations

from typing import Protocol

from mapdoctor.analysis.findings import Diagnosis


class Reporter(Protocol):
    """Renders a Diagnosis to a destination (a path, ``-`` for stdout, or a console)."""

    def write(self, diagnosis: Diagnosis) -> None: ...
