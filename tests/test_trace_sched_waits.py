"""Scheduling waits are kept in 32-bit columns that turn 64-bit only when a value needs it."""

from __future__ import annotations

from array import array

from mapdoctor.model.trace import SchedWaits


def test_small_values_stay_32_bit() -> None:
    w = SchedWaits()
    w.extend(array("q", [5_000_000_000_000, 5_000_000_000_100]), array("q", [7, 9]))
    w.extend(array("q", [5_000_000_000_300]), array("q", [11]))
    assert list(w.start_ns) == [5_000_000_000_000, 5_000_000_000_100, 5_000_000_000_300]
    assert list(w.wait_ns) == [7, 9, 11]
    assert w.start_gap.itemsize == 4 and w.wait_ns.itemsize == 4
    assert len(w) == 3


def test_values_over_32_bits_widen_the_column() -> None:
    w = SchedWaits()
    w.extend(array("q", [10, 20]), array("q", [1, 2]))
    big = 20 + (1 << 33)  # a gap of over 4.3 s between two waits, and as long a wait
    w.extend(array("q", [big]), array("q", [1 << 40]))
    assert list(w.start_ns) == [10, 20, big]
    assert list(w.wait_ns) == [1, 2, 1 << 40]
    assert w.start_gap.itemsize == 8 and w.wait_ns.itemsize == 8
    w.extend(array("q", [big - 5]), array("q", [3]))  # out of order still comes back as it went in
    assert list(w.start_ns) == [10, 20, big, big - 5]


def test_empty() -> None:
    w = SchedWaits()
    w.extend(array("q"), array("q"))
    assert len(w) == 0 and list(w.start_ns) == []
