"""GC cycles and scavenger work as ``GODEBUG=gctrace=1,scavtrace=1`` reports them.

Units follow the runtime's own text: times in milliseconds, heap sizes in MB (MiB,
truncated by the runtime), scavenger amounts in KiB. A value the runtime did not print is
None, never 0, so "absent" and "zero" stay distinguishable.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class GCClockTimes:
    """Wall-clock milliseconds of the three GC phases (``#+#+# ms clock``)."""

    sweep_term: float  # stop-the-world sweep termination
    mark: float  # concurrent mark
    mark_term: float  # stop-the-world mark termination


@dataclass(frozen=True, slots=True)
class GCCpuTimes:
    """CPU milliseconds of the GC phases (``#+#/#/#+# ms cpu``)."""

    sweep_term: float
    assist: float  # mark work charged to allocating goroutines
    background: float  # dedicated + fractional mark workers
    idle: float  # idle-priority mark workers
    mark_term: float

    @property
    def mark_total(self) -> float:
        return self.assist + self.background + self.idle


@dataclass(frozen=True, slots=True)
class GCCycle:
    """One ``gc N @Ts P%: ...`` line."""

    number: int
    at_seconds: float  # since program start
    gc_cpu_percent: int  # share of CPU spent in GC since program start
    clock_ms: GCClockTimes
    cpu_ms: GCCpuTimes
    heap_start_mb: int  # heap size when the cycle started
    heap_end_mb: int  # heap size when marking ended
    heap_live_mb: int  # heap marked live
    heap_goal_mb: int
    stacks_mb: int | None  # scannable stacks; None on runtimes that do not print it
    globals_mb: int | None  # scannable globals; None on runtimes that do not print it
    procs: int  # GOMAXPROCS
    forced: bool  # runtime.GC() / debug.FreeOSMemory()
    line_no: int  # 1-based line in the input
    leak_check: bool = False  # Go 1.26+ cycle run for the goroutine-leak detector

    @property
    def stw_pause_ms(self) -> float:
        """Stop-the-world time of this cycle: sweep termination + mark termination."""
        return self.clock_ms.sweep_term + self.clock_ms.mark_term

    @property
    def assist_share(self) -> float | None:
        """Fraction of this cycle's mark CPU done by assists, or None when no mark CPU was spent."""
        total = self.cpu_ms.mark_total
        return self.cpu_ms.assist / total if total > 0 else None


@dataclass(frozen=True, slots=True)
class ScavengeRecord:
    """One ``scav # KiB work (bg), # KiB work (eager), # KiB now, #% util`` line."""

    background_kib: int  # released by the background scavenger since the last line
    eager_kib: int  # released eagerly (allocation path, memory limit) since the last line
    released_kib: int  # heap memory currently returned to the OS ("now")
    util_percent: int  # heap in use / heap retained
    forced: bool  # debug.FreeOSMemory()
    controller_reset: bool  # the scavenger's rate controller was reset
    line_no: int


@dataclass(slots=True)
class GCTrace:
    """Everything recognised in a GODEBUG GC trace log, plus what was skipped and why."""

    cycles: list[GCCycle] = field(default_factory=list)
    scavenges: list[ScavengeRecord] = field(default_factory=list)
    pacer_lines: int = 0  # gcpacertrace=1 lines (recognised, not modelled)
    scan_stat_lines: int = 0  # gctrace=2 "scan: ..." lines (recognised, not modelled)
    junk_lines: int = 0  # non-empty lines that are not runtime trace output (application logs)
    junk_line_numbers: list[int] = field(default_factory=list)  # the first few of them
    malformed_lines: int = 0  # lines that start like a trace line but do not parse
    truncated: bool = False  # input ended mid-line, or was longer than the size cap
    notes: list[str] = field(default_factory=list)

    def total_stw_ms(self) -> float:
        return sum(c.stw_pause_ms for c in self.cycles)

    def max_stw_ms(self) -> float:
        return max((c.stw_pause_ms for c in self.cycles), default=0.0)

    def assist_cpu_share(self) -> float | None:
        """Fraction of all mark CPU done by assists over the whole trace, or None without mark CPU."""
        assist = sum(c.cpu_ms.assist for c in self.cycles)
        total = sum(c.cpu_ms.mark_total for c in self.cycles)
        return assist / total if total > 0 else None

    def forced_cycles(self) -> int:
        return sum(1 for c in self.cycles if c.forced)
