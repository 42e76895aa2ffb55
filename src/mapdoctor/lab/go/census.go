package main

// census: package-level maps of known shape for `mapdoctor census`, with the
// program's own account of them at /census/expect: len(m) for every map, the
// capacity its runtime header implies (read with unsafe, census_header_*.go),
// and, for maps built alone, the heap bytes they hold as runtime.MemStats
// measured before and after building them.
//
//   censusIndex     a growing index: 1,000 new keys every 50 ms up to 120,000
//   censusCache     grown to 1,000,000 entries, then deleted down to 1,000
//   censusMidGrowth 6,657 inserts: a classic map's growth has just started
//   censusSized     made with its final size as hint (no waste)
//   censusTenants   a map of maps
//   censusRegistry  maps in struct fields behind a pointer, and in map values
//   censusShards    maps in a slice of pointers to structs
//   censusRing      maps in an array
//   censusAny, censusStore, censusBoxed   maps behind interfaces

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	register(&scenario{
		name:       "census",
		about:      "package-level maps of known len, capacity and bytes for the map census",
		setup:      setupCensus,
		noSelfLoad: true,
		background: growCensusIndex,
	})
}

type item struct {
	id    int64
	name  string
	attrs map[string]string
}

type registry struct {
	mu     sync.Mutex
	byID   map[int64]*item
	byName map[string]*item
}

type shard struct {
	id int
	m  map[uint64]uint64
}

// Store is satisfied by *memStore: a map behind an interface holding a pointer.
type Store interface{ Len() int }

type memStore struct{ data map[string][]byte }

func (s *memStore) Len() int { return len(s.data) }

// holder is stored by value in an interface: the interface points at a copy.
type holder struct {
	name string
	m    map[int32]int32
}

const (
	cacheFull       = 1_000_000
	cacheKept       = 1_000
	midGrowthLen    = 6_657 // one past 6.5 x 1024: the insert that starts growth to 2048 buckets
	sizedLen        = 5_000
	indexStep       = 1_000
	indexFinal      = 120_000
	indexStepPeriod = 50 * time.Millisecond
)

var (
	censusIndexMu   sync.Mutex
	censusIndex     = map[string]int32{}
	censusIndexDone atomic.Bool

	censusCache     map[int64]int64
	censusMidGrowth map[int64]int64
	censusSized     map[int64]int64
	censusTenants   map[string]map[string]int
	censusRegistry  *registry
	censusShards    []*shard
	censusRing      [4]map[int]bool
	censusAny       any
	censusStore     Store
	censusBoxed     any

	// heap bytes each isolated map holds, measured with runtime.MemStats
	censusMeasured = map[string]uint64{}
)

// measure builds one map alone and returns it with the growth of the live heap it caused.
//
// The runtime allocates on the heap too: a new thread (M) and its goroutines take about 5 KB,
// and one started during a build was counted as the map's (4,992 bytes on a 161 KB map, seen
// on a busy machine). A build during which a thread was created is measured again; the map of
// the discarded attempt is garbage by the next attempt's first GC.
func measure[M any](build func() M) (M, uint64) {
	threads := pprof.Lookup("threadcreate")
	for attempt := 1; ; attempt++ {
		var before, after runtime.MemStats
		runtime.GC()
		created := threads.Count()
		runtime.ReadMemStats(&before)
		m := build()
		runtime.GC()
		runtime.ReadMemStats(&after)
		if threads.Count() == created || attempt == 10 {
			return m, after.HeapAlloc - before.HeapAlloc
		}
	}
}

func setupCensus() {
	censusCache, censusMeasured["main.censusCache"] = measure(func() map[int64]int64 {
		m := make(map[int64]int64)
		for i := int64(0); i < cacheFull; i++ {
			m[i] = i
		}
		for i := int64(cacheKept); i < cacheFull; i++ {
			delete(m, i)
		}
		return m
	})
	censusMidGrowth, censusMeasured["main.censusMidGrowth"] = measure(func() map[int64]int64 {
		m := make(map[int64]int64)
		for i := int64(0); i < midGrowthLen; i++ {
			m[i] = i
		}
		return m
	})
	censusSized, censusMeasured["main.censusSized"] = measure(func() map[int64]int64 {
		m := make(map[int64]int64, sizedLen)
		for i := int64(0); i < sizedLen; i++ {
			m[i] = i * 3
		}
		return m
	})

	censusTenants = make(map[string]map[string]int)
	for t := 0; t < 50; t++ {
		inner := make(map[string]int)
		for k := 0; k < t*20; k++ {
			inner[fmt.Sprintf("key-%d", k)] = k
		}
		censusTenants[fmt.Sprintf("tenant-%02d", t)] = inner
	}

	censusRegistry = &registry{byID: map[int64]*item{}, byName: map[string]*item{}}
	for i := int64(0); i < 3000; i++ {
		it := &item{id: i, name: fmt.Sprintf("item-%d", i), attrs: map[string]string{"a": "1", "b": "2"}}
		if i%3 == 0 {
			it.attrs["c"] = "3"
		}
		censusRegistry.byID[i] = it
		censusRegistry.byName[it.name] = it
	}

	for s := 0; s < 8; s++ {
		sh := &shard{id: s, m: map[uint64]uint64{}}
		for k := 0; k < (s+1)*300; k++ {
			sh.m[uint64(k)] = uint64(k)
		}
		censusShards = append(censusShards, sh)
	}
	for r := range censusRing {
		censusRing[r] = map[int]bool{}
		for k := 0; k < r*7; k++ {
			censusRing[r][k] = true
		}
	}

	anyMap := map[int]string{}
	for k := 0; k < 100; k++ {
		anyMap[k] = "v"
	}
	censusAny = anyMap
	store := &memStore{data: map[string][]byte{}}
	for k := 0; k < 40; k++ {
		store.data[fmt.Sprintf("blob-%d", k)] = []byte("x")
	}
	censusStore = store
	boxed := holder{name: "boxed", m: map[int32]int32{}}
	for k := int32(0); k < 25; k++ {
		boxed.m[k] = k
	}
	censusBoxed = boxed

	http.HandleFunc("/census/expect", serveCensusExpect)
}

// growCensusIndex adds indexStep keys every indexStepPeriod until indexFinal.
func growCensusIndex() {
	for n := 0; n < indexFinal; {
		censusIndexMu.Lock()
		for i := 0; i < indexStep; i++ {
			censusIndex[fmt.Sprintf("order-%07d", n)] = int32(n)
			n++
		}
		censusIndexMu.Unlock()
		time.Sleep(indexStepPeriod)
	}
	censusIndexDone.Store(true)
}

// expectation is what the program knows about the maps at one path.
type expectation struct {
	Count    int    `json:"count"`
	Len      int    `json:"len"`
	Capacity int    `json:"capacity"`
	Growing  int    `json:"growing"`
	Bytes    uint64 `json:"bytes,omitempty"` // MemStats delta (isolated maps only)
}

func (e *expectation) add(h mapHeader) {
	e.Count++
	e.Len += h.len
	e.Capacity += h.capacity
	if h.growing {
		e.Growing++
	}
}

func one(h mapHeader) *expectation {
	e := &expectation{}
	e.add(h)
	return e
}

func serveCensusExpect(w http.ResponseWriter, r *http.Request) {
	out := map[string]*expectation{}
	censusIndexMu.Lock()
	out["main.censusIndex"] = one(headerOf(censusIndex))
	censusIndexMu.Unlock()
	for name, m := range map[string]map[int64]int64{
		"main.censusCache": censusCache, "main.censusMidGrowth": censusMidGrowth, "main.censusSized": censusSized,
	} {
		e := one(headerOf(m))
		e.Bytes = censusMeasured[name]
		out[name] = e
	}
	out["main.censusTenants"] = one(headerOf(censusTenants))
	tenants := &expectation{}
	for _, inner := range censusTenants {
		tenants.add(headerOf(inner))
	}
	out["main.censusTenants[*]"] = tenants
	out["main.censusRegistry.byID"] = one(headerOf(censusRegistry.byID))
	out["main.censusRegistry.byName"] = one(headerOf(censusRegistry.byName))
	attrs := &expectation{}
	for _, it := range censusRegistry.byID {
		attrs.add(headerOf(it.attrs))
	}
	out["main.censusRegistry.byID[*].attrs"] = attrs
	shards := &expectation{}
	for _, sh := range censusShards {
		shards.add(headerOf(sh.m))
	}
	out["main.censusShards[*].m"] = shards
	ring := &expectation{}
	for _, m := range censusRing {
		ring.add(headerOf(m))
	}
	out["main.censusRing[*]"] = ring
	out["main.censusAny.(map[int]string)"] = one(headerOf(censusAny.(map[int]string)))
	out["main.censusStore.(*main.memStore).data"] = one(headerOf(censusStore.(*memStore).data))
	out["main.censusBoxed.(main.holder).m"] = one(headerOf(censusBoxed.(holder).m))

	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"go":         runtime.Version(),
		"impl":       mapImpl,
		"index_done": censusIndexDone.Load(),
		"maps":       out,
	})
}
