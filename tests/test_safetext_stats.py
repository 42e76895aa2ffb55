"""The shared terminal sanitiser and the proportion interval."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from mapdoctor.analysis.stats import Share, wilson
from mapdoctor.safetext import for_terminal, has_unsafe


def test_escapes_what_terminals_obey() -> None:
    hostile = "a\x1b]0;pwned\x07b\x1b[2Jc\x9b6nd\ne\u202ef"
    out = for_terminal(hostile)
    assert out == "a\\x1b]0;pwned\\x07b\\x1b[2Jc\\x9b6nd\\ne\\u202ef"
    assert not has_unsafe(out)
    assert for_terminal("main.(*T).Get mapdoctorlab/orders.go:24") == "main.(*T).Get mapdoctorlab/orders.go:24"
    assert for_terminal("naïve 字") == "naïve 字"


@given(st.text())
def test_never_leaves_a_control_character(s: str) -> None:
    out = for_terminal(s)
    assert not has_unsafe(out)
    assert all(unicodedata.category(ch)[0] != "C" or unicodedata.category(ch) in ("Co", "Cn") for ch in out)


def test_wilson_interval() -> None:
    lo, hi = wilson(4, 45)
    assert 0.03 < lo < 0.04 and 0.20 < hi < 0.22
    assert wilson(0, 10)[0] == 0.0 and wilson(0, 10)[1] > 0.2
    assert wilson(10, 10)[1] == 1.0 and wilson(10, 10)[0] < 0.8
    assert wilson(0, 0) == (0.0, 1.0)
    s = Share.of(9, 100)
    assert s.text().startswith("9.0% ± ") and s.text().endswith("(100 samples)")


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_wilson_contains_the_estimate(k: int, n: int) -> None:
    k = min(k, n)
    lo, hi = wilson(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_lopsided_intervals_are_shown_as_ranges() -> None:
    # 4 of 45 is 8.9 %, but its interval is 3.5-20.7 %: "± 8.6 %" would suggest it could be negative.
    s = Share.of(4, 45)
    assert s.lopsided and s.text() == "8.9% (95%: 3.5-20.7%, 45 samples)"
    assert not Share.of(150, 300).lopsided and Share.of(150, 300).text() == "50.0% ± 5.6% (300 samples)"
    assert Share.of(9, 100).status(0.05) == "probable" and Share.of(30, 100).status(0.05) == "confirmed"
    assert Share.of(2, 100).status(0.05) is None
