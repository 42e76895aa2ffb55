"""The per-event-type rules of the ordering state machine (``orderingDispatch`` and
the ``advance*`` methods of Go's ``internal/trace/order.go``), one handler per event
type.

The handlers are closures over the state dicts rather than methods: they run once per
event (millions per trace) and closure variables are the cheapest state CPython can
reach. Each handler returns how many events it emitted (0: cannot advance yet) and
raises :class:`OrderingError` for impossible transitions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mapdoctor.formats.trace import spec
from mapdoctor.formats.trace.accounting import (
    A_KEY,
    A_OPEN,
    A_PREV,
    A_PSNAP,
    A_QUEUED,
    A_SEG,
    A_SLOT,
    A_SNAP,
    A_SYS,
    A_T,
    ACC_CHAN,
    ACC_LOCK,
    ACC_OTHER,
    ACC_RUN,
    ACC_RUNNABLE,
    ACC_SYSCALL,
    NACC,
    OPEN_CREATE,
    SEG_QUEUED,
    SEG_UNKNOWN,
    SEG_WAITING,
    new_state,
)
from mapdoctor.formats.trace.generations import Generation
from mapdoctor.formats.trace.states import (
    G_RUNNABLE,
    G_RUNNING,
    G_SYSCALL,
    G_WAITING,
    GC_NOT_RUNNING,
    GC_RUNNING,
    GC_UNDETERMINED,
    GO_STATUS_TO_STATE,
    GS_UNDETERMINED,
    NO_TASK,
    NO_THREAD,
    P_ABANDONED,
    P_IDLE,
    P_RUNNING,
    P_SYSCALL,
    PROC_STATUS_TO_STATE,
    PS_IDLE,
    PS_NOT_EXIST,
    PS_RUNNING,
    PS_UNDETERMINED,
    OrderingError,
)
from mapdoctor.model.trace import CLOSE_DESTROY, CLOSE_REGION_BEGIN, CLOSE_REGION_END

if TYPE_CHECKING:
    from mapdoctor.formats.trace.ordering import Ordering

Handler = Callable[[list[int], int, int, int, list[int]], int]


def make_handlers(o: Ordering) -> tuple[list[Handler], Callable[[Generation], None]]:
    """Build the per-event-type handlers of ``o`` (``orderingDispatch`` in Go)."""
    # goroutine -> [status, seq generation, seq, time it became runnable or -1, then the
    # time-accounting slots of .accounting]
    gstates: dict[int, list[int]] = o.gstates
    acct = o.acct
    bcls, waits = acct.bcls, acct.waits
    pstates: dict[int, list[int]] = {}  # proc -> [status, seq generation, seq]
    mstates = o.mstates  # thread -> [goroutine, proc]
    g_ranges: dict[int, list[tuple[int, int]]] = {}
    p_ranges: dict[int, list[tuple[int, int]]] = {}
    g_regions: dict[int, list[tuple[int, str]]] = {}
    active_tasks: dict[int, tuple[str, int]] = {}
    extra_ids: dict[str, int] = {"": 0}
    extra_strings = o.extra_strings
    push = o.out.append
    names = o.table.names
    cur_gen = 0
    strings: dict[int, str] = {}
    stacks: dict[int, tuple[int, ...]] = {}
    gc = [0, GC_UNDETERMINED]  # sequence, state
    emit_all = o.emit_all
    quiet = o.quiet_counts
    blocks = o.block_reasons_by_id
    wait_start, wait_ns_of = o.wait_start.append, o.wait_ns.append
    # Hot constants as closure variables: cheaper to reach than module attributes.
    EV_GO_BLOCK, EV_GO_STOP, EV_GO_START, EV_GO_UNBLOCK = (
        spec.EV_GO_BLOCK, spec.EV_GO_STOP, spec.EV_GO_START, spec.EV_GO_UNBLOCK)

    def set_gen(gen: Generation) -> None:
        nonlocal cur_gen, strings, stacks
        cur_gen = gen.number
        strings = gen.strings
        stacks = gen.stacks
        acct.begin_generation(gen)

    # -- time accounting (see .accounting) ---------------------------------------------

    def to_slot(st: list[int], t: int, slot: int) -> None:
        st[st[A_SLOT]] += t - st[A_T]
        st[A_T] = t
        st[A_SLOT] = slot
        if st[A_SEG] == SEG_QUEUED and slot == ACC_RUN:
            acct.opened(st, t)

    def syscall_done(st: list[int], t: int, slot: int) -> None:
        to_slot(st, t, slot)
        st[A_SYS] = t
        st[A_SNAP:A_SNAP + NACC] = st[ACC_RUN:ACC_RUN + NACC]

    def block(g: int, st: list[int], t: int, key: int) -> None:
        c = bcls.get(key)
        if c is None:
            c = acct.classify(key)
        st[st[A_SLOT]] += t - st[A_T]
        st[A_T] = t
        st[A_KEY] = key
        if c > 255:
            acct.close(g, st, t, c >> 8)
        st[A_SLOT] = c & 255

    def wake(st: list[int], t: int) -> None:
        slot = st[A_SLOT]
        d = t - st[A_T]
        st[A_T] = t
        st[A_SLOT] = ACC_RUNNABLE
        if st[A_SEG] == SEG_WAITING:
            st[A_SEG] = SEG_QUEUED
            st[A_QUEUED] = t
            st[slot] = 0
        else:
            st[slot] += d
            if slot in (ACC_LOCK, ACC_CHAN):
                k = st[A_KEY]
                w = waits.get(k)
                if w is None:
                    waits[k] = [d, 1]
                else:
                    w[0] += d
                    w[1] += 1

    def destroyed(g: int, st: list[int], t: int) -> None:
        st[st[A_SLOT]] += t - st[A_T]
        acct.close(g, st, t, CLOSE_DESTROY)

    def check_ids(code: int, vals: list[int], i: int) -> None:
        s = spec.spec_of(code)
        assert s is not None
        for k in s.stack_ids:
            if vals[i + 1 + k] not in stacks:
                raise OrderingError(f"found invalid stack ID {vals[i + 1 + k]} for event {s.name}")
        for k in s.string_ids:
            if vals[i + 1 + k] not in strings:
                raise OrderingError(f"found invalid string ID {vals[i + 1 + k]} for event {s.name}")

    def need_m(code: int, m: int) -> None:
        if m == NO_THREAD:
            raise OrderingError(f"{names[code]}: expected a thread but didn't have one")

    def need_g_p(code: int, ms: list[int]) -> None:
        if ms[1] == -1:
            raise OrderingError(f"{names[code]}: expected a proc but didn't have one")
        if ms[0] == -1:
            raise OrderingError(f"{names[code]}: expected a goroutine but didn't have one")

    def running_g(code: int, ms: list[int]) -> list[int]:
        need_g_p(code, ms)
        st = gstates.get(ms[0])
        if st is None:
            raise OrderingError(f"event {names[code]} for goroutine ({ms[0]}) that doesn't exist")
        if st[0] != G_RUNNING:
            raise OrderingError(f"{names[code]} event for goroutine that's not Running")
        return st

    def extra_string(s: str) -> int:
        sid = extra_ids.get(s)
        if sid is None:
            sid = extra_ids[s] = len(extra_strings)
            extra_strings.append(s)
        return sid

    # -- procs ---------------------------------------------------------------------------

    def proc_status(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        pid, status = vals[i + 2], vals[i + 3]
        if status >= len(PROC_STATUS_TO_STATE):
            raise OrderingError(f"invalid status for proc {pid}: {status}")
        old = PROC_STATUS_TO_STATE[status]
        wire_status = status
        s = pstates.get(pid)
        if s is not None:
            if status == P_ABANDONED and s[0] == P_SYSCALL:
                old = PS_RUNNING
                wire_status = P_SYSCALL
            elif status == P_ABANDONED and s[0] == P_ABANDONED:
                old = PS_IDLE
            elif s[0] != status:
                raise OrderingError(f"inconsistent status for proc {pid}: old {s[0]} vs. new {status}")
            s[1] = cur_gen
            s[2] = 0
        else:
            pstates[pid] = [status, cur_gen, 0]
            old = PS_UNDETERMINED if cur_gen == o.initial_gen else PS_NOT_EXIST
        cg, cp, cm = ms[0], ms[1], m
        if status == P_ABANDONED and old == PS_RUNNING:
            found = False
            for mid, other in mstates.items():
                if other[1] == pid:
                    cm, cp, cg = mid, pid, other[0]
                    found = True
            if not found:
                raise OrderingError(f"failed to find sched context for proc {pid} that's about to be stolen")
        push((spec.EV_PROC_STATUS, t, cg, cp, cm, [pid, wire_status, old, 0], -2))
        if status in (P_RUNNING, P_SYSCALL):
            ms[1] = pid
        return 1

    def proc_start(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        pid = vals[i + 2]
        s = pstates.get(pid)
        if s is None or s[0] != P_IDLE or s[1] != cur_gen or s[2] + 1 != vals[i + 3] or ms[1] != -1:
            return 0
        need_m(spec.EV_PROC_START, m)
        s[0] = P_RUNNING
        s[2] = vals[i + 3]
        if emit_all:
            push((spec.EV_PROC_START, t, ms[0], -1, m, vals, i))
        else:
            quiet[spec.EV_PROC_START] += 1
        ms[1] = pid
        return 1

    def proc_stop(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        s = pstates.get(ms[1])
        if s is None:
            raise OrderingError(f"event ProcStop for proc ({ms[1]}) that doesn't exist")
        if s[0] != P_RUNNING and s[0] != P_SYSCALL:
            raise OrderingError("ProcStop event for proc that's not Running or Syscall")
        s[0] = P_IDLE
        if emit_all:
            push((spec.EV_PROC_STOP, t, ms[0], ms[1], m, vals, i))
        else:
            quiet[spec.EV_PROC_STOP] += 1
        ms[1] = -1
        return 1

    def proc_steal(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        pid, seq, mid = vals[i + 2], vals[i + 3], vals[i + 4]
        s = pstates.get(pid)
        if s is None or (s[0] != P_SYSCALL and s[0] != P_ABANDONED) or s[1] != cur_gen or s[2] + 1 != seq:
            return 0
        need_m(spec.EV_PROC_STEAL, m)
        if mid >= 1 << 63:
            mid -= 1 << 64
        old = s[0]
        s[0] = P_IDLE
        s[2] = seq
        rec = (spec.EV_PROC_STEAL, t, ms[0], ms[1], m, [pid, seq, mid, old], -2)
        if old == P_ABANDONED:
            push(rec)
            return 1
        if mid == m:
            if ms[1] != pid:
                raise OrderingError(f"tried to self-steal proc {pid} (thread {mid}), but got proc {ms[1]} instead")
            push(rec)
            ms[1] = -1
            return 1
        other = mstates.get(mid)
        if other is None:
            raise OrderingError(f"stole proc from non-existent thread {mid}")
        if other[1] != pid:
            raise OrderingError(f"tried to steal proc {pid} from thread {mid}, but got proc {other[1]} instead")
        other[1] = -1
        push(rec)
        return 1

    # -- goroutines ----------------------------------------------------------------------

    def go_status(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        code = vals[i]
        gid, mid, status = vals[i + 2], vals[i + 3], vals[i + 4]
        stack = vals[i + 5] if code == spec.EV_GO_STATUS_STACK else 0
        if stack not in stacks:
            raise OrderingError(f"found invalid stack ID {stack} for event GoStatusStack")
        if status >= len(GO_STATUS_TO_STATE):
            raise OrderingError(f"invalid status for goroutine {gid}: {status}")
        old = GO_STATUS_TO_STATE[status]
        s = gstates.get(gid)
        if s is not None:
            if s[0] != status:
                raise OrderingError(f"inconsistent status for goroutine {gid}: old {s[0]} vs. new {status}")
            s[1] = cur_gen
            s[2] = 0
        elif cur_gen == o.initial_gen:
            fn = acct.function_of(stack, root=True) if stack else 0
            st = gstates[gid] = new_state(status, cur_gen, -1, t, ACC_RUN, SEG_UNKNOWN, fn)
            if status == G_RUNNABLE:
                st[A_SLOT] = ACC_RUNNABLE
            elif status == G_SYSCALL:
                st[A_SLOT] = ACC_SYSCALL
            elif status == G_WAITING:
                c = acct.classify(stack)  # reason unknown: told from the stack
                st[A_SLOT] = c & 255
                st[A_KEY] = stack
                if c > 255:  # waiting at a boundary: its next wake-up begins a segment
                    st[A_SEG] = SEG_WAITING
                    st[A_OPEN] = c >> 8
            old = GS_UNDETERMINED
        else:
            raise OrderingError(
                f"found goroutine status for new goroutine after the first generation: id={gid} status={status}")
        cg, cm = ms[0], m
        new_g = ms[0]
        if status == G_RUNNING:
            new_g = gid
        elif status == G_SYSCALL:
            if mid >= 1 << 63:
                mid -= 1 << 64
            if mid == NO_THREAD:
                raise OrderingError(f"found goroutine {gid} in syscall without a thread")
            if mid == m:
                if cur_gen != o.initial_gen and ms[0] != gid:
                    raise OrderingError(
                        f"inconsistent thread for syscalling goroutine {gid}: thread has goroutine {ms[0]}")
                new_g = gid
            else:
                other = mstates.get(mid)
                if other is not None:
                    if other[0] != gid:
                        raise OrderingError(
                            f"inconsistent thread for syscalling goroutine {gid}: thread has goroutine {other[0]}")
                    cg = other[0]
                else:
                    mstates[mid] = [gid, -1]
                cm = mid
        push((code, t, cg, ms[1], cm, [gid, mid, old << 32 | status, stack], -2))
        ms[0] = new_g
        return 1

    def go_create(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        code = vals[i]
        if ms[1] == -1:
            raise OrderingError(f"{names[code]}: expected a proc but didn't have one")
        if ms[0] != -1:
            st = gstates.get(ms[0])
            if st is not None and st[0] != G_RUNNING:
                raise OrderingError(f"{names[code]} event for goroutine that's not Running")
        new_g = vals[i + 2]
        if new_g in gstates:
            raise OrderingError(f"tried to create goroutine ({new_g}) that already exists")
        if vals[i + 3] not in stacks or vals[i + 4] not in stacks:
            check_ids(code, vals, i)
        fn = acct.function_of(vals[i + 3])
        if code == spec.EV_GO_CREATE_BLOCKED:
            gstates[new_g] = new_state(G_WAITING, cur_gen, -1, t, ACC_OTHER, t, fn)
        else:
            gstates[new_g] = new_state(G_RUNNABLE, cur_gen, t, t, ACC_RUNNABLE, t, fn)
        gstates[new_g][A_OPEN] = OPEN_CREATE
        push((code, t, ms[0], ms[1], m, vals, i))
        return 1

    def go_create_syscall(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        need_m(spec.EV_GO_CREATE_SYSCALL, m)
        if ms[0] != -1:
            raise OrderingError("GoCreateSyscall: expected no goroutine but had one")
        new_g = vals[i + 2]
        if new_g in gstates:
            raise OrderingError(f"tried to create goroutine ({new_g}) in syscall that already exists")
        gstates[new_g] = new_state(G_SYSCALL, cur_gen, -1, t, ACC_SYSCALL, SEG_UNKNOWN, 0)
        push((spec.EV_GO_CREATE_SYSCALL, t, -1, ms[1], m, vals, i))
        ms[0] = new_g
        return 1

    def go_start(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        gid = vals[i + 2]
        st = gstates.get(gid)
        if st is None or st[0] != G_RUNNABLE or st[1] != cur_gen or st[2] + 1 != vals[i + 3]:
            return 0
        if ms[1] == -1:
            raise OrderingError("GoStart: expected a proc but didn't have one")
        if ms[0] != -1:
            raise OrderingError("GoStart: expected no goroutine but had one")
        st[0] = G_RUNNING
        st[2] = vals[i + 3]
        if st[3] >= 0:
            wait_start(t)
            wait_ns_of(t - st[3])
            st[3] = -1
        to_slot(st, t, ACC_RUN)
        if emit_all:
            push((EV_GO_START, t, -1, ms[1], m, vals, i))
        else:
            quiet[EV_GO_START] += 1
        ms[0] = gid
        return 1

    def go_block(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        g = ms[0]
        st = gstates.get(g)
        if st is None or st[0] != G_RUNNING or ms[1] == -1:
            _not_running(EV_GO_BLOCK, ms, st)
        if vals[i + 2] not in strings or vals[i + 3] not in stacks:
            check_ids(EV_GO_BLOCK, vals, i)
        st[0] = G_WAITING  # type: ignore[index]
        block(g, st, t, vals[i + 2] << acct.kbits | vals[i + 3])  # type: ignore[arg-type]
        if emit_all:
            push((EV_GO_BLOCK, t, g, ms[1], m, vals, i))
        else:
            quiet[EV_GO_BLOCK] += 1
            blocks[vals[i + 2]] += 1
        ms[0] = -1
        return 1

    def go_stop(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        g = ms[0]
        st = gstates.get(g)
        if st is None or st[0] != G_RUNNING or ms[1] == -1:
            _not_running(EV_GO_STOP, ms, st)
        if vals[i + 2] not in strings or vals[i + 3] not in stacks:
            check_ids(EV_GO_STOP, vals, i)
        st[0] = G_RUNNABLE  # type: ignore[index]
        st[3] = t  # type: ignore[index]
        st[ACC_RUN] += t - st[A_T]  # type: ignore[index]  # to_slot, inlined: it was running
        st[A_T] = t  # type: ignore[index]
        st[A_SLOT] = ACC_RUNNABLE  # type: ignore[index]
        if emit_all:
            push((EV_GO_STOP, t, g, ms[1], m, vals, i))
        else:
            quiet[EV_GO_STOP] += 1
        ms[0] = -1
        return 1

    def go_destroy(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        g = ms[0]
        st = gstates.get(g)
        if st is None or st[0] != G_RUNNING or ms[1] == -1:
            _not_running(spec.EV_GO_DESTROY, ms, st)
        destroyed(g, st, t)  # type: ignore[arg-type]
        del gstates[g]
        g_ranges.pop(g, None)
        g_regions.pop(g, None)
        push((spec.EV_GO_DESTROY, t, g, ms[1], m, vals, i))
        ms[0] = -1
        return 1

    def _not_running(code: int, ms: list[int], st: list[int] | None) -> None:
        """Raise the error Go reports when a running-goroutine event finds none."""
        need_g_p(code, ms)
        if st is None:
            raise OrderingError(f"event {names[code]} for goroutine ({ms[0]}) that doesn't exist")
        raise OrderingError(f"{names[code]} event for goroutine that's not Running")

    def go_unblock(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        st = gstates.get(vals[i + 2])
        if st is None or st[0] != G_WAITING or st[1] != cur_gen or st[2] + 1 != vals[i + 3]:
            return 0
        if vals[i + 4] not in stacks:
            check_ids(EV_GO_UNBLOCK, vals, i)
        st[0] = G_RUNNABLE
        st[2] = vals[i + 3]
        st[3] = t
        wake(st, t)
        if emit_all:
            push((EV_GO_UNBLOCK, t, ms[0], ms[1], m, vals, i))
        else:
            quiet[EV_GO_UNBLOCK] += 1
        return 1

    def go_switch(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        code = vals[i]
        g, p = ms[0], ms[1]
        cur = running_g(code, ms)
        next_g, seq = vals[i + 2], vals[i + 3]
        nxt = gstates.get(next_g)
        if nxt is None or nxt[0] != G_WAITING or nxt[1] != cur_gen or nxt[2] + 1 != seq:
            return 0
        push((code, t, g, p, m, vals, i))
        if code == spec.EV_GO_SWITCH:
            cur[0] = G_WAITING
            block(g, cur, t + 1, 0)
            push((spec.EV_GO_BLOCK, t + 1, g, p, m, [0, 0], -2))
        else:
            destroyed(g, cur, t + 1)
            del gstates[g]
            push((spec.EV_GO_DESTROY, t + 1, g, p, m, [], -2))
        nxt[0] = G_RUNNING
        nxt[2] = seq
        wake(nxt, t + 2)
        to_slot(nxt, t + 2, ACC_RUN)
        push((spec.EV_GO_START, t + 2, -1, p, m, [next_g, seq], -2))
        ms[0] = next_g
        return 3

    def go_syscall_begin(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        g, p = ms[0], ms[1]
        if g == -1 or p == -1:
            need_g_p(spec.EV_GO_SYSCALL_BEGIN, ms)
        st = gstates.get(g)
        if st is None:
            raise OrderingError(f"event GoSyscallBegin for goroutine ({g}) that doesn't exist")
        if st[0] != G_RUNNING:
            raise OrderingError("GoSyscallBegin event for goroutine that's not Running")
        ps = pstates.get(p)
        if ps is None:
            raise OrderingError(f"uninitialized proc {p} found during GoSyscallBegin")
        seq = vals[i + 2]
        if ps[1] != cur_gen or ps[2] + 1 != seq:
            raise OrderingError(f"failed to advance GoSyscallBegin: can't make sequence: {ps[2]} -> {seq}")
        if vals[i + 3] not in stacks:
            check_ids(spec.EV_GO_SYSCALL_BEGIN, vals, i)
        st[0] = G_SYSCALL
        st[ACC_RUN] += t - st[A_T]  # to_slot, inlined: it was running
        st[A_T] = t
        st[A_SLOT] = ACC_SYSCALL
        if st[A_SYS] >= 0:  # else A_PREV says "none" and the snapshot is not read
            st[A_PSNAP:A_PSNAP + NACC] = st[A_SNAP:A_SNAP + NACC]
        st[A_PREV] = st[A_SYS]
        ps[0] = P_SYSCALL
        ps[2] = seq
        if emit_all:
            push((spec.EV_GO_SYSCALL_BEGIN, t, g, p, m, vals, i))
        else:
            quiet[spec.EV_GO_SYSCALL_BEGIN] += 1
        return 1

    def go_syscall_end(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        g, p = ms[0], ms[1]
        if g == -1 or p == -1:
            need_g_p(spec.EV_GO_SYSCALL_END, ms)
        st = gstates.get(g)
        if st is None:
            raise OrderingError(f"event GoSyscallEnd for goroutine ({g}) that doesn't exist")
        if st[0] != G_SYSCALL:
            raise OrderingError("GoSyscallEnd event for goroutine that's not Syscall")
        ps = pstates.get(p)
        if ps is None:
            raise OrderingError(f"uninitialized proc {p} found during GoSyscallEnd")
        if ps[0] != P_SYSCALL:
            raise OrderingError(f"expected proc {p} in state Syscall, but got {ps[0]} instead")
        st[0] = G_RUNNING
        # syscall_done, inlined: in a syscall until now, running from now on
        st[ACC_SYSCALL] += t - st[A_T]
        st[A_T] = t
        st[A_SLOT] = ACC_RUN
        st[A_SYS] = t
        st[A_SNAP:A_SNAP + NACC] = st[ACC_RUN:ACC_RUN + NACC]
        ps[0] = P_RUNNING
        if emit_all:
            push((spec.EV_GO_SYSCALL_END, t, g, p, m, vals, i))
        else:
            quiet[spec.EV_GO_SYSCALL_END] += 1
        return 1

    def go_syscall_end_blocked(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        g, p = ms[0], ms[1]
        if p != -1:
            ps = pstates.get(p)
            if ps is None:
                raise OrderingError(f"uninitialized proc {p} found during GoSyscallEndBlocked")
            if ps[0] == P_SYSCALL:
                return 0
        if g == -1:
            raise OrderingError("GoSyscallEndBlocked: expected a goroutine but didn't have one")
        st = gstates.get(g)
        if st is None:
            raise OrderingError(f"event GoSyscallEndBlocked for goroutine ({g}) that doesn't exist")
        if st[0] != G_SYSCALL:
            raise OrderingError("GoSyscallEndBlocked event for goroutine that's not Syscall")
        st[0] = G_RUNNABLE
        st[3] = t
        syscall_done(st, t, ACC_RUNNABLE)
        push((spec.EV_GO_SYSCALL_END_BLOCKED, t, g, p, m, vals, i))
        ms[0] = -1
        return 1

    def go_destroy_syscall(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        g, p = ms[0], ms[1]
        if g == -1:
            raise OrderingError("GoDestroySyscall: expected a goroutine but didn't have one")
        st = gstates.get(g)
        if st is None:
            raise OrderingError(f"event GoDestroySyscall for goroutine ({g}) that doesn't exist")
        if st[0] != G_SYSCALL:
            raise OrderingError("GoDestroySyscall event for goroutine that's not Syscall")
        destroyed(g, st, t)
        del gstates[g]
        n = 1
        if p != -1:
            ps = pstates.get(p)
            if ps is None:
                raise OrderingError(f"found invalid proc {p} during GoDestroySyscall")
            if ps[0] != P_SYSCALL:
                raise OrderingError(f"proc {p} in unexpected state {ps[0]} during GoDestroySyscall")
            ps[0] = P_ABANDONED
            push((spec.EV_PROC_STEAL, t, g, p, m, [p, 0, 0, P_SYSCALL], -2))
            n = 2
        push((spec.EV_GO_DESTROY_SYSCALL, t + n - 1, g, p, m, vals, i))
        ms[0] = -1
        ms[1] = -1
        return n

    # -- ranges, GC, annotations --------------------------------------------------------

    def go_range_begin(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        code = vals[i]
        need_g_p(code, ms)
        desc = vals[i + 2] if code == spec.EV_STW_BEGIN else 0
        check_ids(code, vals, i)
        if ms[0] not in gstates:
            raise OrderingError(f"encountered event of type {code} without known state for current goroutine")
        ranges = g_ranges.setdefault(ms[0], [])
        if (code, desc) in ranges:
            raise OrderingError(f"discovered event already in-flight for when starting event {names[code]}")
        ranges.append((code, desc))
        push((code, t, ms[0], ms[1], m, vals, i))
        return 1

    def go_range_active(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        gid = vals[i + 2]
        if gid not in gstates:
            raise OrderingError(f"uninitialized goroutine {gid} found during GCMarkAssistActive")
        _active_range(g_ranges.setdefault(gid, []), spec.EV_GC_MARK_ASSIST_BEGIN)
        push((spec.EV_GC_MARK_ASSIST_ACTIVE, t, ms[0], ms[1], m, vals, i))
        return 1

    def _active_range(ranges: list[tuple[int, int]], begin: int) -> None:
        if cur_gen == o.initial_gen:
            if (begin, 0) in ranges:
                raise OrderingError(f"found named active range already in first gen: {names[begin]}")
            ranges.append((begin, 0))
        elif (begin, 0) not in ranges:
            raise OrderingError(f"resource is missing active range: {names[begin]}")

    def _end_range(ranges: list[tuple[int, int]] | None, begin: int) -> int:
        if ranges:
            for k, (typ, desc) in enumerate(ranges):
                if typ == begin:
                    ranges[k] = ranges[-1]
                    ranges.pop()
                    return desc
        raise OrderingError(f"tried to end event {names[begin]}, but not in-flight")

    def go_range_end(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        code = vals[i]
        need_g_p(code, ms)
        if ms[0] not in gstates:
            raise OrderingError(f"encountered event of type {code} without known state for current goroutine")
        if code == spec.EV_STW_END:
            desc = _end_range(g_ranges.get(ms[0]), spec.EV_STW_BEGIN)
            push((code, t, ms[0], ms[1], m, [desc], -2))
        else:
            _end_range(g_ranges.get(ms[0]), spec.EV_GC_MARK_ASSIST_BEGIN)
            push((code, t, ms[0], ms[1], m, vals, i))
        return 1

    def gc_active(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        seq = vals[i + 2]
        if cur_gen == o.initial_gen:
            if gc[1] != GC_UNDETERMINED:
                raise OrderingError("GCActive in the first generation isn't first GC event")
            gc[0], gc[1] = seq, GC_RUNNING
            push((spec.EV_GC_ACTIVE, t, ms[0], ms[1], m, vals, i))
            return 1
        if seq != gc[0] + 1:
            return 0
        if gc[1] != GC_RUNNING:
            raise OrderingError("encountered GCActive while GC was not in progress")
        gc[0] = seq
        need_g_p(spec.EV_GC_ACTIVE, ms)
        push((spec.EV_GC_ACTIVE, t, ms[0], ms[1], m, vals, i))
        return 1

    def gc_begin(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        seq = vals[i + 2]
        check_ids(spec.EV_GC_BEGIN, vals, i)
        if gc[1] == GC_UNDETERMINED:
            gc[0], gc[1] = seq, GC_RUNNING
            push((spec.EV_GC_BEGIN, t, ms[0], ms[1], m, vals, i))
            return 1
        if seq != gc[0] + 1:
            return 0
        if gc[1] == GC_RUNNING:
            raise OrderingError("encountered GCBegin while GC was already in progress")
        gc[0], gc[1] = seq, GC_RUNNING
        need_g_p(spec.EV_GC_BEGIN, ms)
        push((spec.EV_GC_BEGIN, t, ms[0], ms[1], m, vals, i))
        return 1

    def gc_end(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        seq = vals[i + 2]
        if seq != gc[0] + 1:
            return 0
        if gc[1] == GC_NOT_RUNNING:
            raise OrderingError("encountered GCEnd when GC was not in progress")
        if gc[1] == GC_UNDETERMINED:
            raise OrderingError("encountered GCEnd when GC was in an undetermined state")
        gc[0], gc[1] = seq, GC_NOT_RUNNING
        need_g_p(spec.EV_GC_END, ms)
        push((spec.EV_GC_END, t, ms[0], ms[1], m, vals, i))
        return 1

    def sweep_begin(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        if ms[1] == -1:
            raise OrderingError("GCSweepBegin: expected a proc but didn't have one")
        check_ids(spec.EV_GC_SWEEP_BEGIN, vals, i)
        ranges = p_ranges.setdefault(ms[1], [])
        if (spec.EV_GC_SWEEP_BEGIN, 0) in ranges:
            raise OrderingError("discovered event already in-flight for when starting event GCSweepBegin")
        ranges.append((spec.EV_GC_SWEEP_BEGIN, 0))
        push((spec.EV_GC_SWEEP_BEGIN, t, ms[0], ms[1], m, vals, i))
        return 1

    def sweep_active(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        pid = vals[i + 2]
        if pid not in pstates:
            raise OrderingError(f"encountered GCSweepActive for unknown proc {pid}")
        _active_range(p_ranges.setdefault(pid, []), spec.EV_GC_SWEEP_BEGIN)
        push((spec.EV_GC_SWEEP_ACTIVE, t, ms[0], ms[1], m, vals, i))
        return 1

    def sweep_end(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        if ms[1] == -1:
            raise OrderingError("GCSweepEnd: expected a proc but didn't have one")
        _end_range(p_ranges.get(ms[1]), spec.EV_GC_SWEEP_BEGIN)
        push((spec.EV_GC_SWEEP_END, t, ms[0], ms[1], m, vals, i))
        return 1

    def heap_metric(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        if ms[1] == -1:
            raise OrderingError(f"{names[vals[i]]}: expected a proc but didn't have one")
        push((vals[i], t, ms[0], ms[1], m, vals, i))
        return 1

    def annotation(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        code = vals[i]
        need_g_p(code, ms)
        check_ids(code, vals, i)
        push((code, t, ms[0], ms[1], m, vals, i))
        return 1

    def task_begin(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        tid, parent, name_id = vals[i + 2], vals[i + 3], vals[i + 4]
        if tid in active_tasks:
            raise OrderingError(f"task ID conflict: {tid}")
        if parent == 0:
            parent = NO_TASK  # 0 means "no parent" here, not the background task
        name = strings.get(name_id)
        if name is None:
            raise OrderingError(f"invalid string ID {name_id} for UserTaskBegin event")
        active_tasks[tid] = (name, parent)
        need_g_p(spec.EV_USER_TASK_BEGIN, ms)
        check_ids(spec.EV_USER_TASK_BEGIN, vals, i)
        push((spec.EV_USER_TASK_BEGIN, t, ms[0], ms[1], m, [tid, parent, name_id, vals[i + 5]], -2))
        return 1

    def task_end(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        tid = vals[i + 2]
        ts = active_tasks.pop(tid, None)
        parent, name = (NO_TASK, "") if ts is None else (ts[1], ts[0])
        need_g_p(spec.EV_USER_TASK_END, ms)
        check_ids(spec.EV_USER_TASK_END, vals, i)
        push((spec.EV_USER_TASK_END, t, ms[0], ms[1], m, [tid, vals[i + 3], parent, extra_string(name)], -2))
        return 1

    def region(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        code = vals[i]
        need_g_p(code, ms)
        name = strings.get(vals[i + 3])
        if name is None:
            raise OrderingError(f"invalid string ID {vals[i + 3]} for {names[code]} event")
        if ms[0] not in gstates:
            raise OrderingError(f"encountered {names[code]} without known state for current goroutine {ms[0]}")
        check_ids(code, vals, i)
        key = (vals[i + 2], name)
        if code == spec.EV_USER_REGION_BEGIN:
            g_regions.setdefault(ms[0], []).append(key)
        else:
            regions = g_regions.get(ms[0])
            if regions:  # regions begun before tracing started are unknown
                if regions[-1] != key:
                    raise OrderingError(f"misuse of region in goroutine {ms[0]}: region end {key} when the "
                                        f"inner-most active region start event is {regions[-1]}")
                regions.pop()
        # A region's edges are boundaries too: its time accounting is then exact.
        st = gstates[ms[0]]
        st[st[A_SLOT]] += t - st[A_T]
        st[A_T] = t
        acct.close(ms[0], st, t, CLOSE_REGION_BEGIN if code == spec.EV_USER_REGION_BEGIN else CLOSE_REGION_END)
        st[A_SEG] = t
        st[A_QUEUED] = 0
        push((code, t, ms[0], ms[1], m, vals, i))
        return 1

    def experimental(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        need_m(vals[i], m)
        push((vals[i], t, ms[0], ms[1], m, vals, i))
        return 1

    def bad_event(vals: list[int], i: int, t: int, m: int, ms: list[int]) -> int:
        raise OrderingError(f"bad event type found while ordering: {names[vals[i]] or vals[i]}")

    handlers: list[Handler] = [bad_event] * 256
    table = {
        spec.EV_PROCS_CHANGE: annotation,
        spec.EV_PROC_START: proc_start,
        spec.EV_PROC_STOP: proc_stop,
        spec.EV_PROC_STEAL: proc_steal,
        spec.EV_PROC_STATUS: proc_status,
        spec.EV_GO_CREATE: go_create,
        spec.EV_GO_CREATE_SYSCALL: go_create_syscall,
        spec.EV_GO_START: go_start,
        spec.EV_GO_DESTROY: go_destroy,
        spec.EV_GO_DESTROY_SYSCALL: go_destroy_syscall,
        spec.EV_GO_STOP: go_stop,
        spec.EV_GO_BLOCK: go_block,
        spec.EV_GO_UNBLOCK: go_unblock,
        spec.EV_GO_SYSCALL_BEGIN: go_syscall_begin,
        spec.EV_GO_SYSCALL_END: go_syscall_end,
        spec.EV_GO_SYSCALL_END_BLOCKED: go_syscall_end_blocked,
        spec.EV_GO_STATUS: go_status,
        spec.EV_STW_BEGIN: go_range_begin,
        spec.EV_STW_END: go_range_end,
        spec.EV_GC_ACTIVE: gc_active,
        spec.EV_GC_BEGIN: gc_begin,
        spec.EV_GC_END: gc_end,
        spec.EV_GC_SWEEP_ACTIVE: sweep_active,
        spec.EV_GC_SWEEP_BEGIN: sweep_begin,
        spec.EV_GC_SWEEP_END: sweep_end,
        spec.EV_GC_MARK_ASSIST_ACTIVE: go_range_active,
        spec.EV_GC_MARK_ASSIST_BEGIN: go_range_begin,
        spec.EV_GC_MARK_ASSIST_END: go_range_end,
        spec.EV_HEAP_ALLOC: heap_metric,
        spec.EV_HEAP_GOAL: heap_metric,
        spec.EV_GO_LABEL: annotation,
        spec.EV_USER_TASK_BEGIN: task_begin,
        spec.EV_USER_TASK_END: task_end,
        spec.EV_USER_REGION_BEGIN: region,
        spec.EV_USER_REGION_END: region,
        spec.EV_USER_LOG: annotation,
        spec.EV_GO_SWITCH: go_switch,
        spec.EV_GO_SWITCH_DESTROY: go_switch,
        spec.EV_GO_CREATE_BLOCKED: go_create,
        spec.EV_GO_STATUS_STACK: go_status,
    }
    for code, h in table.items():
        if o.table.specs[code] is not None:
            handlers[code] = h
    for code in range(spec.EV_FIRST_EXPERIMENTAL, 256):
        if o.table.specs[code] is not None:
            handlers[code] = experimental
    return handlers, set_gen
