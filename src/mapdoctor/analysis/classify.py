"""Classify stacks with a FrameTable and find the user frame each cost is attributed to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mapdoctor.analysis.frametable import Cost, FrameTable, Rule
from mapdoctor.analysis.usercode import is_std_function, is_user_function
from mapdoctor.model.profile import Location
from mapdoctor.model.stack import Frame


@dataclass(frozen=True, slots=True)
class Classified:
    cost: Cost
    #: For a GC assist, the category it interrupted (what the assist is charged to).
    charged_to: Cost
    #: The first user frame below the runtime frames (the line to blame), if any.
    site: Frame | None
    #: The runtime function that decided the category (e.g. ``runtime.hashGrow``).
    decided_by: str


class StackClassifier:
    """Applies one FrameTable; rule lookups are cached per function name."""

    def __init__(self, table: FrameTable) -> None:
        self.table = table
        self._exact: dict[str, tuple[Rule, ...]] = {}
        self._glob: list[tuple[str, str, Rule]] = []
        for rule in table.rows:
            if rule.pattern.endswith("*"):
                self._glob.append((rule.pattern[:-1], "", rule))
            elif "[*]" in rule.pattern:
                prefix, _, suffix = rule.pattern.partition("[*]")
                self._glob.append((prefix + "[", "]" + suffix, rule))
            else:
                self._exact.setdefault(rule.pattern, ())
                self._exact[rule.pattern] += (rule,)
        self._cache: dict[str, tuple[Rule, ...]] = {}

    def rules_for(self, function: str) -> tuple[Rule, ...]:
        """Exact rows first, then glob rows in table order."""
        found = self._cache.get(function)
        if found is None:
            found = self._exact.get(function, ()) + tuple(
                r for p, x, r in self._glob
                if function.startswith(p) and function.endswith(x) and len(function) >= len(p) + len(x)
            )
            self._cache[function] = found
        return found

    def classify(self, stack: Sequence[Frame]) -> Classified:
        """``stack`` is leaf first."""
        cost = Cost.USER
        charged = Cost.USER
        decided = ""
        caller = ""
        for frame in reversed(stack):
            for rule in self.rules_for(frame.function):
                if (rule.within is None or cost in rule.within) and (not rule.caller or caller in rule.caller):
                    if rule.cost is Cost.GC_ASSIST and cost is not Cost.GC_ASSIST:
                        charged = cost
                    cost = rule.cost
                    decided = frame.function
                    break
            caller = frame.function
        if cost is not Cost.GC_ASSIST:
            charged = cost
        return Classified(cost, charged, user_site(stack), decided)


def _candidates(frames: Sequence[Frame]) -> tuple[Frame | None, Frame | None]:
    """(first user frame, first non-runtime standard-library frame before it) of leaf-first frames."""
    fallback: Frame | None = None
    for frame in frames:
        if is_user_function(frame.function):
            return frame, fallback
        if fallback is None and "." in frame.function and not _is_runtime(frame.function):
            fallback = frame
    return None, fallback


def user_site(stack: Sequence[Frame]) -> Frame | None:
    """The first (leaf-most) frame in user code; else the first non-runtime std frame."""
    user, fallback = _candidates(stack)
    return user or fallback


class SiteFinder:
    """``user_site`` for pprof samples, computed per location instead of per stack.

    A sample's site is the first user frame of its first location (leaf first) that has
    one; locations are shared by many samples, so each is examined once. This is what keeps
    a profile of half a million distinct stacks cheap.
    """

    def __init__(self) -> None:
        self._user: dict[int, Frame | None] = {}
        self._fallback: dict[int, Frame | None] = {}

    def _scan(self, loc: Location) -> None:
        self._user[loc.id], self._fallback[loc.id] = _candidates(loc.frames())

    def site(self, locations: Sequence[Location]) -> Frame | None:
        fallback: Frame | None = None
        for loc in locations:
            if loc.id not in self._user:
                self._scan(loc)
            user = self._user[loc.id]
            if user is not None:
                return user
            if fallback is None:
                fallback = self._fallback[loc.id]
        return fallback


def _is_runtime(function: str) -> bool:
    return is_std_function(function) and (
        function.startswith(("runtime.", "internal/", "runtime/internal/", "sync.", "syscall."))
    )
