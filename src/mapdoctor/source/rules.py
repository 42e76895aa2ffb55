"""The lint rules' identities and texts, shared by the analyzers, the reports and the docs."""

from __future__ import annotations

from dataclasses import dataclass

from mapdoctor.source.findings import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str  # short kebab-case name (SARIF ``rule.name``)
    summary: str  # one line
    explanation: str  # a paragraph: why it costs, when it does not apply
    severity: Severity


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "MD001",
            "map-without-size-hint",
            "map made without a size hint, then filled in a loop whose trip count is known",
            "A map made with no hint starts empty and grows by doubling as it fills: about log2(n/8) times, "
            "each growth allocating a new bucket (Go <= 1.23) or table (Go >= 1.24) array and re-hashing "
            "every entry already in it. When the number of entries is known before the loop (len of the "
            "ranged slice, the loop bound), make(map[K]V, n) allocates the final size once. The hint is an "
            "upper bound when keys repeat or writes are conditional: the rule then lowers its confidence.",
            Severity.WARNING,
        ),
        Rule(
            "MD002",
            "slice-without-capacity",
            "slice built by append in a loop whose trip count is known, without a capacity",
            "append on a slice without spare capacity reallocates and copies it (runtime.growslice), "
            "about log2(n) times while a loop appends n elements. make([]T, 0, n) allocates once. Loops "
            "that may skip (continue, a conditional append) or exit early (break, return, goto) append "
            "fewer than n elements: those are reported with low confidence and no automatic fix. Loops "
            "whose trip count is unknown (range over a channel or over a function iterator) are not "
            "reported.",
            Severity.NOTE,
        ),
        Rule(
            "MD003",
            "concurrent-map-write",
            "map written from a goroutine with no visible synchronisation",
            "Go maps are not safe for concurrent writes: two goroutines writing one map (or one writing "
            "while another reads) corrupts it, and the runtime aborts the process with 'fatal error: "
            "concurrent map writes', which cannot be recovered. Guard the map with a sync.Mutex or "
            "sync.RWMutex held around every access, give it to a single owner goroutine that receives "
            "updates on a channel, or use sync.Map for disjoint keys.",
            Severity.ERROR,
        ),
        Rule(
            "MD004",
            "sync-map-write-heavy",
            "sync.Map used as a write-heavy store of ever-new keys",
            "sync.Map is built for keys written once and read many times, or for goroutines working on "
            "disjoint keys. Storing new keys in a loop defeats it: up to Go 1.23 each new key after a "
            "promotion copies the whole read map into a new dirty map (sync.(*Map).dirtyLocked), so a "
            "stream of new keys interleaved with misses costs O(n) per key; from Go 1.24 (HashTrieMap) "
            "every new key allocates trie nodes and boxes key and value in interfaces. A plain map "
            "guarded by a sync.Mutex, or sharded maps, are cheaper for write-heavy use.",
            Severity.WARNING,
        ),
        Rule(
            "MD005",
            "map-never-shrinks",
            "long-lived map with delete() that is never replaced: it never shrinks",
            "Deleting from a Go map never releases its buckets or tables, in any Go version: a package-"
            "level or struct-field map that once held a burst of entries keeps the memory of its peak "
            "size for the life of the process, even when nearly empty (clear(m) keeps it too). To give "
            "the memory back, copy the live entries into a new map from time to time (or after a burst) "
            "and replace the old one.",
            Severity.NOTE,
        ),
        Rule(
            "MD006",
            "map-remade-per-iteration",
            "map re-made in every loop iteration where clear(m) would reuse its storage",
            "Making a fresh map in each iteration throws away the storage the previous iteration grew "
            "and grows a new one: allocation and re-hashing every time, plus garbage for the GC. When "
            "the map does not outlive the iteration, make it once before the loop and clear(m) (Go >= "
            "1.21) at the start of each iteration: clear keeps the buckets or tables, so only the first "
            "iteration grows it.",
            Severity.NOTE,
        ),
    )
}
