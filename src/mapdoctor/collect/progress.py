"""Progress of a collection, on stderr: live on a terminal, two lines otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TextIO

from mapdoctor.safetext import for_terminal

if TYPE_CHECKING:
    from rich.progress import Progress as RichBar
    from rich.progress import TaskID

    from mapdoctor.collect.collector import Collection, PartResult
    from mapdoctor.collect.plan import PartSpec


class Progress(Protocol):
    def start(self, target: str, duration_s: int, parts: Sequence[PartSpec]) -> None: ...

    def tick(self, active: Sequence[str], seconds_left: float) -> None: ...

    def part_done(self, result: PartResult) -> None: ...

    def finish(self, collection: Collection) -> None: ...

    def stop(self) -> None:
        """Leave the terminal clean after an interruption."""


class NullProgress:
    def start(self, target: str, duration_s: int, parts: Sequence[PartSpec]) -> None:
        pass

    def tick(self, active: Sequence[str], seconds_left: float) -> None:
        pass

    def part_done(self, result: PartResult) -> None:
        pass

    def finish(self, collection: Collection) -> None:
        pass

    def stop(self) -> None:
        pass


def summary(collection: Collection) -> str:
    evidence = [p for p in collection.parts if p.is_evidence]
    ok = [p for p in evidence if p.status == "ok"]
    size = sum(p.size for p in ok)
    line = (f"collected {len(ok)} of {len(evidence)} parts ({_human(size)}) "
            f"in {collection.elapsed_s:.1f} s")
    missing = [p.spec.label for p in evidence if p.status != "ok"]
    return line + (f"; missing: {', '.join(missing)}" if missing else "")


class LineProgress(NullProgress):
    """A start line and an end line: for logs and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def start(self, target: str, duration_s: int, parts: Sequence[PartSpec]) -> None:
        print(f"mapdoctor: collecting from {for_terminal(target)} for {duration_s} s", file=self.stream,
              flush=True)

    def finish(self, collection: Collection) -> None:
        print(f"mapdoctor: {summary(collection)}", file=self.stream, flush=True)


class LiveProgress(NullProgress):
    """A bar over the window with what is in flight, and one line per finished part."""

    def __init__(self, stream: TextIO) -> None:
        from mapdoctor.reports.console import make_console

        self.console = make_console(file=stream, stderr=True)
        self.bar: RichBar | None = None
        self.task: TaskID | None = None

    def start(self, target: str, duration_s: int, parts: Sequence[PartSpec]) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        self.console.print(f"mapdoctor: collecting from {for_terminal(target)} for {duration_s} s",
                           highlight=False, markup=False)
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                            TextColumn("{task.fields[left]}"), console=self.console, transient=True)
        self.task = self.bar.add_task("starting", total=float(duration_s), left=f"{duration_s} s left")
        self.bar.start()

    def tick(self, active: Sequence[str], seconds_left: float) -> None:
        if self.bar is None or self.task is None:
            return
        total = self.bar.tasks[0].total or 0.0
        what = ", ".join(active) if active else "finishing"
        left = f"{seconds_left:.0f} s left" if seconds_left > 0 else "waiting for answers"
        self.bar.update(self.task, completed=total - seconds_left, description=f"fetching {what}", left=left)

    def part_done(self, result: PartResult) -> None:
        if not result.is_evidence:
            return
        from rich.markup import escape

        # Errors quote the server's own words (HTTP bodies): escaped for the terminal, then for rich.
        label, error = escape(result.spec.label), escape(for_terminal(result.error or ""))
        if result.status == "ok":
            line = f"  [green]ok[/]    {label}: {_human(result.size)} in {result.elapsed_s:.1f} s"
        elif result.status == "skipped":
            line = f"  [yellow]skip[/]  {label}: {error}"
        else:
            line = f"  [red]fail[/]  {label}: {error}"
        self.console.print(line, markup=True, highlight=False)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def finish(self, collection: Collection) -> None:
        self.stop()
        self.console.print(f"mapdoctor: {summary(collection)}", highlight=False)


def make_progress(stream: TextIO, *, quiet: bool) -> Progress:
    if quiet:
        return NullProgress()
    if stream.isatty():
        return LiveProgress(stream)
    return LineProgress(stream)


def _human(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} KiB"
    return f"{n} B"
