"""Segment duration columns are 32-bit until a value needs more, then widen without loss."""

from __future__ import annotations

from mapdoctor.formats.trace.accounting import ACC_RUN, SEG_WAITING, Accounting, new_state
from mapdoctor.model.trace import CLOSE_CHAN


def _close(acct: Accounting, run_ns: int) -> None:
    st = new_state(0, 1, -1, 0, ACC_RUN, 100, 0)
    st[ACC_RUN] = run_ns
    acct.close(7, st, 200, CLOSE_CHAN)
    assert st[4 + 3] == SEG_WAITING


def test_short_durations_stay_in_32_bit_columns() -> None:
    acct = Accounting()
    _close(acct, 5)
    seg = acct.flush()
    assert seg.run_ns.typecode == "I"
    assert list(seg.run_ns) == [5]
    assert list(seg.start_ns) == [100] and list(seg.end_ns) == [200]


def test_a_long_duration_widens_its_column() -> None:
    acct = Accounting()
    _close(acct, 5)
    acct.flush()
    _close(acct, 10 << 32)
    seg = acct.flush()
    assert seg.run_ns.typecode == "q"
    assert list(seg.run_ns) == [5, 10 << 32]
    assert seg.chan_ns.typecode == "I"
    _close(acct, 3)
    assert list(acct.flush().run_ns) == [5, 10 << 32, 3]
