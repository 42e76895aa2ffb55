"""Generate a Go benchmark for one finding.

A map-growth finding gets no hint vs hint vs ``clear`` reuse (and, for string keys, the same
map keyed by integers). A sync.Map finding gets the four ways to share a map between goroutines —
``sync.Map``, a ``Mutex``-guarded map, an ``RWMutex``-guarded map and a sharded map — run in
parallel on the operation mix the profile observed (reads that hit, reads that miss, updates of
existing keys, stores of new keys).

The map-growth benchmark fills a map of the finding's key and value types with the estimated number of
entries, three ways. Key types the standard library can make (strings, integers) are used as
they are; any other value type (the service's own ``*Order``) becomes a stand-in of the same
kind (a pointer to, or a struct of, 64 bytes), since the generated package cannot import the
service; ``--emit`` writes it for the user to point at their own types.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_MAP = re.compile(r"map\[([^\[\]]+)\](.+?)(?:,|\)|$)")
_INTS = {"int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr"}
_BUILTIN_VALUES = _INTS | {"string", "bool", "float32", "float64", "struct{}", "[]byte", "any", "interface{}"}
MAX_SIZE = 10_000_000


class BenchSpecError(ValueError):
    """The finding does not name a map type or a size a benchmark can use."""


@dataclass(frozen=True, slots=True)
class Mix:
    """Shares of the operations a shared map sees, summing to 1."""

    hits: float  # reads of keys that are there
    misses: float  # reads of keys that are not
    updates: float  # stores to keys that are there
    new_keys: float  # stores of keys never seen

    def per_mille(self) -> tuple[int, int, int]:
        """Cumulative thresholds out of 1000 for hits, misses and updates (the rest: new keys)."""
        total = self.hits + self.misses + self.updates + self.new_keys
        a = round(1000 * self.hits / total)
        b = a + round(1000 * self.misses / total)
        c = b + round(1000 * self.updates / total)
        return a, min(b, 1000), min(c, 1000)

    def text(self) -> str:
        parts = (("reads", self.hits), ("missed reads", self.misses), ("updates", self.updates),
                 ("new keys", self.new_keys))
        total = sum(v for _, v in parts) or 1.0
        return ", ".join(f"{100 * v / total:.0f}% {name}" for name, v in parts)


def parse_mix(text: str) -> Mix:
    """``HITS:MISSES:UPDATES:NEW`` in any unit (``90:0:5:5``)."""
    try:
        values = [float(x) for x in text.split(":")]
    except ValueError:
        values = []
    if len(values) != 4 or any(v < 0 for v in values) or sum(values) <= 0:
        raise BenchSpecError(f"mix {text!r}: expected HITS:MISSES:UPDATES:NEW, four non-negative numbers")
    return Mix(*values)


@dataclass(frozen=True, slots=True)
class BenchSpec:
    key: str  # Go key type used by the benchmark
    value: str  # Go value type used by the benchmark
    size: int  # entries
    original: str  # the map type as the finding names it
    implementation: str = "swiss"  # "classic" | "swiss": for the growth steps
    #: Set for a shared-map (sync.Map) benchmark: the operation mix to run in parallel.
    mix: Mix | None = None

    @property
    def baseline(self) -> str:
        """The benchmark of the code as it is, that every other is compared with."""
        return "SyncMap" if self.mix is not None else "NoHint"

    @property
    def growth_steps(self) -> int:
        """How many times an unhinted map doubles on its way to ``size`` entries."""
        if self.implementation == "classic":  # 8 entries per bucket, load factor 6.5
            buckets = max(1, math.ceil(self.size / 6.5))
            return max(0, math.ceil(math.log2(buckets)))
        # Swiss tables: 8-slot groups at 7/8 load; a small map of 8 slots first, then doubling tables.
        slots = max(8, math.ceil(self.size * 8 / 7))
        return max(0, math.ceil(math.log2(slots / 8)))


def parse_map_type(text: str, size: int, implementation: str = "swiss") -> BenchSpec:
    """The spec for ``map[K]V`` (or a fix text that contains one) with ``size`` entries."""
    m = _MAP.search(text)
    if m is None:
        raise BenchSpecError(f"no map type in {text!r} (expected e.g. map[string]*Order)")
    key, value = m.group(1).strip(), m.group(2).strip()
    if not 1 <= size <= MAX_SIZE:
        raise BenchSpecError(f"size {size} out of range (1..{MAX_SIZE})")
    if key not in _INTS and key != "string":
        raise BenchSpecError(f"key type {key}: the benchmark supports string and integer keys")
    if value in _BUILTIN_VALUES:
        bench_value = value
    elif value.startswith("*"):
        bench_value = "*benchValue"
    else:
        bench_value = "benchValue"
    return BenchSpec(key, bench_value, size, f"map[{key}]{value}", implementation)


def shared_map_spec(mix: Mix, size: int, key: str = "string", value: str = "any") -> BenchSpec:
    """The spec of a sync.Map benchmark: ``size`` keys present, then ``mix`` in parallel."""
    if not 1 <= size <= MAX_SIZE:
        raise BenchSpecError(f"size {size} out of range (1..{MAX_SIZE})")
    if key not in {"string", "int", "int64", "uint", "uint64"}:
        raise BenchSpecError(f"key type {key}: the shared-map benchmark supports string and 64-bit integer keys")
    bench_value = value if value in _BUILTIN_VALUES else ("*benchValue" if value.startswith("*") else "benchValue")
    return BenchSpec(key, bench_value, size, f"sync.Map ({key} keys)", mix=mix)


def _key_expr(key: str) -> str:
    if key == "string":
        return 'fmt.Sprintf("key-%08d", i)'
    return f"{key}(i)"


def _value_expr(value: str) -> str:
    return {"*benchValue": "&benchValue{}", "benchValue": "benchValue{}", "string": '"v"', "bool": "true",
            "struct{}": "struct{}{}", "[]byte": "nil", "any": "nil", "interface{}": "nil"}.get(value, f"{value}(1)")


def generate(spec: BenchSpec) -> dict[str, str]:
    """The files of a standalone Go module: ``go.mod`` and ``map_bench_test.go``."""
    if spec.mix is not None:
        return {"go.mod": "module mapbench\n\ngo 1.21\n", "map_bench_test.go": _shared_code(spec, spec.mix)}
    uses_fmt = spec.key == "string"
    code = f'''// Code generated by mapdoctor bench. Fills a {spec.original} of {spec.size} entries three ways.
// The value type stands in for the service's own; replace benchValue to measure with the real one.

package mapbench

import (
{'	"fmt"' + chr(10) if uses_fmt else ""}	"testing"
)

// benchValue stands in for the map's value type (64 bytes).
type benchValue struct{{ _ [64]byte }}

const size = {spec.size}

var keys = func() []{spec.key} {{
	out := make([]{spec.key}, size)
	for i := range out {{
		out[i] = {_key_expr(spec.key)}
	}}
	return out
}}()

var sink map[{spec.key}]{spec.value}

func fill(m map[{spec.key}]{spec.value}) map[{spec.key}]{spec.value} {{
	for _, k := range keys {{
		m[k] = {_value_expr(spec.value)}
	}}
	return m
}}

// BenchmarkNoHint is the code as it is: the map grows {spec.growth_steps} times on the way.
func BenchmarkNoHint(b *testing.B) {{
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {{
		sink = fill(make(map[{spec.key}]{spec.value}))
	}}
	b.ReportMetric({spec.growth_steps}, "growths/op")
}}

// BenchmarkHint is the fix: the size hint allocates the table once.
func BenchmarkHint(b *testing.B) {{
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {{
		sink = fill(make(map[{spec.key}]{spec.value}, size))
	}}
	b.ReportMetric(0, "growths/op")
}}

// BenchmarkClearReuse keeps one map and empties it with clear (Go 1.21+): no allocation per fill.
func BenchmarkClearReuse(b *testing.B) {{
	b.ReportAllocs()
	m := make(map[{spec.key}]{spec.value}, size)
	for i := 0; i < b.N; i++ {{
		clear(m)
		sink = fill(m)
	}}
	b.ReportMetric(0, "growths/op")
}}
{_int_key_bench(spec) if spec.key == "string" else ""}'''
    return {"go.mod": "module mapbench\n\ngo 1.21\n", "map_bench_test.go": code}


def _int_key_bench(spec: BenchSpec) -> str:
    """String keys cost hashing and comparing bytes: the hinted map keyed by integer IDs instead."""
    return f'''
var intKeys = func() []int64 {{
	out := make([]int64, size)
	for i := range out {{
		out[i] = int64(i)
	}}
	return out
}}()

var intSink map[int64]{spec.value}

// BenchmarkHintIntKey is the hinted map keyed by integers (if the service has an integer ID to key by).
func BenchmarkHintIntKey(b *testing.B) {{
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {{
		m := make(map[int64]{spec.value}, size)
		for _, k := range intKeys {{
			m[k] = {_value_expr(spec.value)}
		}}
		intSink = m
	}}
	b.ReportMetric(0, "growths/op")
}}
'''


def _shared_code(spec: BenchSpec, mix: Mix) -> str:
    hits, misses, updates = mix.per_mille()
    k, v = spec.key, spec.value
    if k == "string":
        key_of = 'func keyOf(i int64) string { return "key-" + strconv.FormatInt(i, 10) }'
        shard_of = "func shardOf(k string) uint64 { return maphash.String(seed, k) }"
        imports = '\t"hash/maphash"\n\t"strconv"\n'
        seed_decl = "var seed = maphash.MakeSeed()\n"
    else:
        key_of = f"func keyOf(i int64) {k} {{ return {k}(i) }}"
        shard_of = f"func shardOf(k {k}) uint64 {{ return uint64(k) * 0x9E3779B97F4A7C15 }}"
        imports, seed_decl = "", ""
    # The type assertion is part of what a sync.Map read costs the caller.
    load_body = "_, ok := s.m.Load(k)" if v in ("any", "interface{}") else \
        f"x, ok := s.m.Load(k)\n\tif ok {{\n\t\t_ = x.({v})\n\t}}"
    return f'''// Code generated by mapdoctor bench. A map shared by goroutines, four ways, on the mix
// {mix.text()} with {spec.size} keys present at the start.
// The value type stands in for the service's own; replace benchValue to measure with the real one.

package mapbench

import (
{imports}\t"sync"
\t"sync/atomic"
\t"testing"
)

// benchValue stands in for the map's value type (64 bytes).
type benchValue struct{{ _ [64]byte }}

const (
\tsize = {spec.size}
\t// Out of 1000 operations: reads that hit below hitsEnd, reads that miss below missesEnd,
\t// updates below updatesEnd, stores of new keys above.
\thitsEnd    = {hits}
\tmissesEnd  = {misses}
\tupdatesEnd = {updates}
\t// Keys that are never stored: far above any new key a run can make.
\tmissBase = int64(1) << 40
)

{seed_decl}{key_of}

{shard_of}

var present = func() []{k} {{
\tout := make([]{k}, size)
\tfor i := range out {{
\t\tout[i] = keyOf(int64(i))
\t}}
\treturn out
}}()

var absent = func() []{k} {{
\tout := make([]{k}, 1024)
\tfor i := range out {{
\t\tout[i] = keyOf(missBase + int64(i))
\t}}
\treturn out
}}()

type store interface {{
\tload(k {k}) bool
\tstore(k {k}, v {v})
}}

type syncMapStore struct{{ m sync.Map }}

func (s *syncMapStore) load(k {k}) bool {{
\t{load_body}
\treturn ok
}}
func (s *syncMapStore) store(k {k}, v {v}) {{ s.m.Store(k, v) }}

type mutexStore struct {{
\tmu sync.Mutex
\tm  map[{k}]{v}
}}

func (s *mutexStore) load(k {k}) bool {{
\ts.mu.Lock()
\t_, ok := s.m[k]
\ts.mu.Unlock()
\treturn ok
}}
func (s *mutexStore) store(k {k}, v {v}) {{ s.mu.Lock(); s.m[k] = v; s.mu.Unlock() }}

type rwStore struct {{
\tmu sync.RWMutex
\tm  map[{k}]{v}
}}

func (s *rwStore) load(k {k}) bool {{
\ts.mu.RLock()
\t_, ok := s.m[k]
\ts.mu.RUnlock()
\treturn ok
}}
func (s *rwStore) store(k {k}, v {v}) {{ s.mu.Lock(); s.m[k] = v; s.mu.Unlock() }}

// shards: a power of two well above the core count, so that goroutines rarely meet on one lock.
const shards = 64

type shard struct {{
\tmu sync.RWMutex
\tm  map[{k}]{v}
\t_  [40]byte // keep neighbouring shards' locks off one cache line
}}

type shardedStore struct{{ s [shards]shard }}

func (s *shardedStore) load(k {k}) bool {{
\tsh := &s.s[shardOf(k)>>58]
\tsh.mu.RLock()
\t_, ok := sh.m[k]
\tsh.mu.RUnlock()
\treturn ok
}}
func (s *shardedStore) store(k {k}, v {v}) {{
\tsh := &s.s[shardOf(k)>>58]
\tsh.mu.Lock()
\tsh.m[k] = v
\tsh.mu.Unlock()
}}

var goroutineSeed atomic.Uint64

func runMix(b *testing.B, s store) {{
\tfor _, k := range present {{
\t\ts.store(k, {_value_expr(v)})
\t}}
\tvar next atomic.Int64 // new keys: size, size+1, ...
\tnext.Store(size)
\tb.ReportAllocs()
\tb.ResetTimer()
\tvar missed, added atomic.Int64 // operations of each kind, to report the mix that ran
\tb.RunParallel(func(pb *testing.PB) {{
\t\tx := goroutineSeed.Add(1)*0x9E3779B97F4A7C15 | 1
\t\tvar misses, news int64
\t\tdefer func() {{ missed.Add(misses); added.Add(news) }}()
\t\tfor pb.Next() {{
\t\t\tx ^= x << 13
\t\t\tx ^= x >> 7
\t\t\tx ^= x << 17
\t\t\tswitch r := x % 1000; {{
\t\t\tcase r < hitsEnd:
\t\t\t\ts.load(present[(x>>20)%size])
\t\t\tcase r < missesEnd:
\t\t\t\tmisses++
\t\t\t\ts.load(absent[(x>>20)%1024])
\t\t\tcase r < updatesEnd:
\t\t\t\ts.store(present[(x>>20)%size], {_value_expr(v)})
\t\t\tdefault:
\t\t\t\tnews++
\t\t\t\ts.store(keyOf(next.Add(1)), {_value_expr(v)})
\t\t\t}}
\t\t}}
\t}})
\tb.ReportMetric(float64(missed.Load())/float64(b.N), "misses/op")
\tb.ReportMetric(float64(added.Load())/float64(b.N), "newkeys/op")
}}

// BenchmarkSyncMap is the code as it is.
func BenchmarkSyncMap(b *testing.B) {{ runMix(b, &syncMapStore{{}}) }}

// BenchmarkMutexMap: one lock around a plain map.
func BenchmarkMutexMap(b *testing.B) {{ runMix(b, &mutexStore{{m: make(map[{k}]{v}, size)}}) }}

// BenchmarkRWMutexMap: readers share the lock, writers take it alone.
func BenchmarkRWMutexMap(b *testing.B) {{ runMix(b, &rwStore{{m: make(map[{k}]{v}, size)}}) }}

// BenchmarkShardedMap: 64 RWMutex-guarded maps chosen by the key's hash.
func BenchmarkShardedMap(b *testing.B) {{
\ts := &shardedStore{{}}
\tfor i := range s.s {{
\t\ts.s[i].m = make(map[{k}]{v}, size/shards+1)
\t}}
\trunMix(b, s)
}}
'''
