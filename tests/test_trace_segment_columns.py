"""Segment duration columns are 32-bit until a value needs more, then widen without loss."""

from __future__ import annotations

from mapdoctor.formats.trace.accounting import A_SEG, ACC_RUN, SEG_WAITING, Accounting, new_state
from mapdoctor.model.trace import CLOSE_CHAN, SparseColumn


def _close(acct: Accounting, run_ns: int) -> None:
    st = new_state(0, 1, -1, 0, ACC_RUN, 100, 0)
    st[ACC_RUN] = run_ns
    acct.close(7, st, 100 + run_ns, CLOSE_CHAN)
    assert st[A_SEG] == SEG_WAITING


def test_short_durations_stay_in_32_bit_columns() -> None:
    acct = Accounting()
    _close(acct, 5)
    seg = acct.flush()
    assert seg.run_ns.typecode == "I"
    assert list(seg.run_ns) == [5]
    assert list(seg.start_ns) == [100] and list(seg.end_ns) == [105]


def test_a_long_duration_widens_its_column() -> None:
    acct = Accounting()
    _close(acct, 5)
    acct.flush()
    _close(acct, 10 << 32)
    seg = acct.flush()
    assert seg.run_ns.typecode == "q"
    assert list(seg.run_ns) == [5, 10 << 32]
    assert seg.queued_ns.typecode == "I"
    _close(acct, 3)
    assert list(acct.flush().run_ns) == [5, 10 << 32, 3]


def test_wait_columns_keep_only_their_non_zero_rows() -> None:
    acct = Accounting()
    for k in range(1000):
        st = new_state(0, 1, -1, 0, ACC_RUN, 1000 * k, 0)
        st[ACC_RUN] = 7
        st[ACC_RUN + 5] = 11 if k == 500 else 0  # channel time on one segment only
        acct.close(k, st, 1000 * k + 7 + st[ACC_RUN + 5], CLOSE_CHAN)
    seg = acct.flush()
    assert list(seg.chan_ns.rows) == [500] and list(seg.chan_ns.values) == [11]
    assert len(seg.lock_ns.rows) == 0 and len(seg.lock_ns) == 1000
    assert seg.chan_ns[500] == 11 and seg.chan_ns[499] == 0 and seg.chan_ns[-500] == 11
    assert list(seg.chan_ns) == [11 if k == 500 else 0 for k in range(1000)]
    # The end is not stored: every nanosecond of a segment is in one of its times.
    assert seg.end(500) == 500_018 and seg.end(3) == 3007
    assert list(seg.end_ns) == [1000 * k + (18 if k == 500 else 7) for k in range(1000)]
    assert seg.row(500) == [7, 0, 0, 0, 0, 11, 0, 0] and seg.row(2) == [7, 0, 0, 0, 0, 0, 0, 0]


def test_a_long_wait_widens_a_sparse_column() -> None:
    col = SparseColumn([0, 3, 0, 5 << 32])
    assert col.values.typecode == "q" and list(col.rows) == [1, 3]
    assert list(col) == [0, 3, 0, 5 << 32] and col[1:] == [3, 0, 5 << 32]
