"""How bad it is, apart from *what* it is: the colour a report wears.

The verdict answers "is it map growth?"; a "no" can still be a crash, a lock convoy or a
collector eating half the CPU. Reports colour by severity so that green means only "healthy",
never merely "not map growth".
"""

from __future__ import annotations

from enum import StrEnum

from mapdoctor.analysis.findings import CauseKind, Diagnosis, Verdict
from mapdoctor.analysis.measures import CAUSE_TITLES
from mapdoctor.analysis.stats import CONFIRMED


class Severity(StrEnum):
    #: Nothing costs the service more than is normal (healthy or idle).
    OK = "ok"
    #: A cause stands out, map growth or not.
    PROBLEM = "problem"
    #: The data cannot tell (too few samples, missing inputs).
    INCONCLUSIVE = "inconclusive"


class Level(StrEnum):
    """A problem's urgency, for colour: red when measured beyond doubt, amber when only probable."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    GREY = "grey"


def severity_of(d: Diagnosis) -> Severity:
    if d.verdict is Verdict.MAP_GROWTH or d.causes:
        return Severity.PROBLEM
    if d.verdict is Verdict.INCONCLUSIVE:
        return Severity.INCONCLUSIVE
    return Severity.OK


def level_of(d: Diagnosis) -> Level:
    sev = severity_of(d)
    if sev is Severity.OK:
        return Level.GREEN
    if sev is Severity.INCONCLUSIVE:
        return Level.GREY
    # A crash is never "probable"; any cause measured beyond its threshold's doubt is red.
    if any(c.kind is CauseKind.CONCURRENT_MAP_WRITES or c.status == CONFIRMED for c in d.causes):
        return Level.RED
    return Level.AMBER


def badge(d: Diagnosis) -> tuple[str, str]:
    """The badge's words and the line beside it: what the problem is, not only what it is not.

    Shared by every reporter, so the terminal and the HTML page open with the same words.
    """
    sev = severity_of(d)
    if d.verdict is Verdict.MAP_GROWTH:
        return "MAP GROWTH", "problem"
    if sev is Severity.PROBLEM and d.causes:
        top = d.causes[0]
        kind = top.kind.value
        title = CAUSE_TITLES.get(kind, kind.replace("_", " ")).upper()
        if top.status != CONFIRMED and top.kind is not CauseKind.CONCURRENT_MAP_WRITES:
            # Only the point estimate clears the threshold: say so in the badge itself.
            return f"POSSIBLY {title}", "probable, not certain"
        return title, "problem · not map growth"
    if sev is Severity.INCONCLUSIVE:
        return "INCONCLUSIVE", "the data cannot tell"
    return "HEALTHY", "nothing stands out · not map growth"
