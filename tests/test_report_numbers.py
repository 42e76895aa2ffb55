"""One vocabulary of numbers: every score says what it measures, its sample size and its parts;
and the terminal badge is coloured by severity, naming the problem, not only what it is not."""

from __future__ import annotations

import copy
import io
import re

import pytest
from rich.console import Console

from labdata import FIXTURES, GO_DIRS
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.analysis.findings import Diagnosis
from mapdoctor.formats.detect import load_inputs
from mapdoctor.reports.json_report import to_dict
from mapdoctor.reports.terminal import render


def _diag(go: str, scenario: str) -> Diagnosis:
    return diagnose(load_inputs([FIXTURES / go / scenario]))


def _text(d: Diagnosis, *, color: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=400, force_terminal=color, color_system="standard" if color else None,
                      no_color=not color, highlight=False)
    render(d, console)
    return out.getvalue()


@pytest.mark.parametrize("go", GO_DIRS)
def test_map_growth_score_is_labelled_and_split_into_its_parts(go: str) -> None:
    d = _diag(go, "mapgrow-str")
    cause = to_dict(d)["causes"][0]
    measure = cause["measure"]
    assert measure["unit"] == "cpu_share"
    parts = measure["parts"]
    assert set(parts) >= {"own", "gc_charged"}
    # The parts add up to the score: 67.3 % in the verdict and 59.2 % in the breakdown agree.
    assert sum(parts.values()) == pytest.approx(cause["score"], abs=0.001)
    assert parts["own"] == pytest.approx(d.shares["map_growth"], abs=0.001)
    text = _text(d)
    samples = cause["interval"]["samples"]
    assert re.search(rf"1\. map growth  \d+\.\d% ± \d+\.\d% of CPU \({samples} samples\)", text)
    assert f"= {100 * parts['own']:.1f}% in map growth itself + " in text
    assert "GC work its allocations drive" in text
    assert "of CPU" in d.summary and f"{samples} samples" in d.summary


@pytest.mark.parametrize("go", GO_DIRS)
def test_lock_contention_from_delay_profile_is_a_wait_ratio_not_cpu(go: str) -> None:
    d = _diag(go, "mutex")
    cause = to_dict(d)["causes"][0]
    assert cause["kind"] == "lock_contention" and cause["interval"]["unit"] == "events"
    assert cause["measure"]["unit"] == "wait_ratio" and "parts" not in cause["measure"]
    assert "wait ratio" in d.summary and "contention events" in d.summary
    text = _text(d)
    assert "wait ratio (" in text and "not a share of CPU" in text
    # The CPU breakdown beside it says what its shares are.
    assert "shares of sampled CPU by what the code was doing" in text


def test_goroutine_dump_share_is_labelled() -> None:
    from mapdoctor.analysis.findings import Cause, CauseKind
    from mapdoctor.analysis.measures import Measure, measure_of, score_text
    from mapdoctor.analysis.stats import Share

    c = Cause(CauseKind.LOCK_CONTENTION, 0.9, interval=Share.of(27, 30, "goroutines"))
    assert measure_of(c) is Measure.GOROUTINES
    assert score_text(c) == "90.0% of busy goroutines (95%: 74.4-96.5%, 30 goroutines)"


def test_probable_share_keeps_its_unit_with_a_lopsided_interval() -> None:
    d = _diag("go1.27", "mapgrow-minor")
    assert re.search(r"possibly map growth \(\d+\.\d% of CPU, 95% interval \d+\.\d-\d+\.\d%, \d+ samples\)",
                     d.summary), d.summary


def test_crash_score_is_not_shown_as_a_percentage() -> None:
    d = _diag("go1.23", "crash")
    text = _text(d)
    assert "concurrent map writes  crash (not a share)" in text
    assert to_dict(d)["causes"][0]["measure"]["unit"] == "crash"


def test_request_percentiles_shown_without_slow_requests() -> None:
    d = _diag("go1.23", "http-mapgrow")
    assert d.timeline is not None
    d.timeline = copy.deepcopy(d.timeline)
    req = d.timeline["requests"]
    req.pop("slow")
    text = _text(d)
    assert re.search(r"requests \(http1-conn, \d+\): p50 \d+\.\d ms, p99 \d+\.\d ms\n", text)


# Background colours in the badge: red 41, green 42, yellow/amber 43 (standard colours), grey 100/47.
_BG = re.compile(r"\x1b\[[0-9;]*?(4[0-7]|10[0-7])m")


def _badge_bg(text: str) -> str:
    first = text.splitlines()[0]
    m = _BG.search(first)
    assert m, repr(first)
    return m.group(1)


@pytest.mark.parametrize(("scenario", "word", "bg"), [
    ("mutex", "LOCK CONTENTION", "41"),
    ("crash", "CONCURRENT MAP WRITES", "41"),
    ("gcpressure", "GC PRESSURE", "41"),
    ("mapgrow-str", "MAP GROWTH", "41"),
    ("idle", "HEALTHY", "42"),
    ("presized", "HEALTHY", "42"),
])
def test_terminal_badge_follows_severity(scenario: str, word: str, bg: str) -> None:
    text = _text(_diag("go1.27", scenario), color=True)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()[0]
    assert plain.startswith(f" {word} ")
    assert _badge_bg(text) == bg


def test_problem_that_is_not_map_growth_is_never_green() -> None:
    for scenario in ("mutex", "crash", "gcpressure", "slicegrow", "syncmap", "smallmaps"):
        text = _text(_diag("go1.23", scenario), color=True)
        assert _badge_bg(text) != "42", scenario
        assert "not map growth" in text.splitlines()[0]


def test_probable_only_badge_is_amber_and_says_possibly() -> None:
    text = _text(_diag("go1.27", "mapgrow-minor"), color=True)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()[0]
    assert plain.startswith(" POSSIBLY MAP GROWTH ") and "probable" in plain
    assert _badge_bg(text) == "43"
