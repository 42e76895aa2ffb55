"""Frames and stacks: the currency every input format is converted into."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frame:
    """One function activation; ``inline`` marks a frame the compiler inlined into its caller."""

    function: str
    file: str = ""
    line: int = 0
    inline: bool = False

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else self.function


#: A call stack, leaf (innermost) frame first, as pprof and tracebacks list it.
Stack = tuple[Frame, ...]
