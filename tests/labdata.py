"""Where the lab's committed captures live, and what each situation must be diagnosed as."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
LAB_GO = ROOT / "src" / "mapdoctor" / "lab" / "go"
#: Fixture folder per Go version: classic maps (1.23) and Swiss tables (1.27).
GO_DIRS = {"go1.23": "classic", "go1.27": "swiss"}


@dataclass(frozen=True)
class Expect:
    verdict: str
    primary: str | None  # kind of the first confirmed cause; None = no confirmed cause
    file: str | None = None  # Go file of the lab whose line is the top site
    marker: str | None = None  # unique text on that line
    #: A different top line on Swiss-map Go (1.24+), where the runtime underneath differs.
    swiss_marker: str | None = None

    def site(self, go_dir: str = "go1.23") -> tuple[str, int] | None:
        """(file as the profiles name it, line), found in the lab source so edits stay in step."""
        marker = self.swiss_marker if self.swiss_marker and GO_DIRS.get(go_dir) == "swiss" else self.marker
        if self.file is None or marker is None:
            return None
        lines = (LAB_GO / self.file).read_text().splitlines()
        hits = [n for n, text in enumerate(lines, 1) if marker in text]
        assert len(hits) == 1, f"marker {marker!r} must be on exactly one line of {self.file}"
        return f"mapdoctorlab/{self.file}", hits[0]


EXPECT: dict[str, Expect] = {
    "mapgrow-str": Expect("map_growth", "map_growth", "orders.go", "orders[o.ID] = o"),
    "mapgrow-int": Expect("map_growth", "map_growth", "sessions.go", "sessions[s.ID] = s"),
    "presized": Expect("not_map_growth", None),
    "slicegrow": Expect("not_map_growth", "slice_growth", "stock_report.go", "out = append(out"),
    # The Store of each new key is the churn: Go <= 1.23 copies the read map (dirtyLocked), Go >=
    # 1.24's hash-trie allocates entry nodes and expands; the Loads before it are reads.
    "syncmap": Expect("not_map_growth", "sync_map", "session_cache.go", "cache.Store(key"),
    "mutex": Expect("not_map_growth", "lock_contention", "counters_mutex.go", "c.mu.Lock()"),
    "gcpressure": Expect("not_map_growth", "gc_pressure", "garbage.go", "n := &scratchNode{"),
    "idle": Expect("not_map_growth", None),
    "crash": Expect("not_map_growth", "concurrent_map_writes", "racy_visits.go", "visits[page]++"),
    # Load hits only: what sync.Map is built for, not churn.
    "syncmap-read": Expect("not_map_growth", None),
    # Two-entry map literals: creation (Swiss growToSmall, classic first bucket), not growth.
    "smallmaps": Expect("not_map_growth", "map_creation", "small_maps.go", "row := map[string]string{"),
    # Background GC outweighs growslice, but only because of the slice's garbage.
    "slicegc": Expect("not_map_growth", "slice_growth", "slice_gc.go", "refs = append(refs"),
    # ~45 CPU samples, ~5 in growth: probable at most, never the verdict.
    "mapgrow-minor": Expect("not_map_growth", None),
    "builder": Expect("not_map_growth", "slice_growth", "csv_export.go", "sb.WriteString(r.line)"),
    "mapgrow-field": Expect("map_growth", "map_growth", "product_index.go", "ix.bySKU[p.SKU] = p"),
}


def scenario_dir(go_dir: str, scenario: str) -> Path:
    return FIXTURES / go_dir / scenario


@dataclass(frozen=True)
class RequestExpect:
    """What the slowest requests of a lab HTTP service must be found to spend their time in."""

    verdict: str
    cause: str | None  # the first cause; None = no cause at all
    category: str | None = None  # the slow requests' top breakdown category
    file: str | None = None  # lab file of the top site
    marker: str | None = None  # unique text on the top site's line
    #: Also accepted as the top category (then only the cause's site is checked): e.g. GC slows
    #: requests both through assists on their goroutine and by taking the CPUs from them.
    also: tuple[str, ...] = ()
    #: The site may be this many lines below the marker (samples spread over a loop's body).
    lines: int = 0

    def site(self) -> tuple[str, int] | None:
        return Expect(self.verdict, self.cause, self.file, self.marker).site()


HTTP_EXPECT: dict[str, RequestExpect] = {
    # A request that grows a map for 50 ms is also time-sliced with the others (runnable).
    "http-mapgrow": RequestExpect("map_growth", "map_growth", "map_growth", "tenant_index.go", "index[r.key] = r",
                                  ("runnable",)),
    "http-bgmapgrow": RequestExpect("map_growth", "map_growth", "runnable", "price_refresh.go",
                                    "table[k] = "),
    "http-gc": RequestExpect("not_map_growth", "gc_pressure", "gc_assist", "report_alloc.go",
                             "head = &reportLine{", ("runnable",)),
    "http-lock": RequestExpect("not_map_growth", "lock_contention", "lock_wait", "ledger_lock.go",
                               "waits while the snapshot holds"),
    "http-starve": RequestExpect("not_map_growth", "cpu_starvation", "runnable", "batch_burst.go",
                                 "the batch's CPU-bound loop", lines=2),
    "http-slicegrow": RequestExpect("not_map_growth", "slice_growth", "slice_growth", "export_rows.go",
                                    "rows = append(rows"),
    "http-healthy": RequestExpect("not_map_growth", None),
}
