package main

// censusbig: a process the size the census must cope with, for perf/bench_census.py.
// About MAPDOCTOR_LAB_CENSUS_MB MiB (default 1024) held in five large maps,
// plus MAPDOCTOR_LAB_CENSUS_MAPS (default 100,000) small maps reachable
// through a map of pointers to structs. The self-load is a fixed CPU-bound work
// unit (its rate at /stats is the throughput a census must not dent), and a
// 1 ms ticker records the longest stall the process saw (/census/stall, reset
// on read): what --freeze costs it.

import (
	"encoding/json"
	"hash/crc32"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

func init() {
	register(&scenario{
		name:       "censusbig",
		about:      "benchmarks only: ~1 GiB in maps and 100,000 small maps, CPU-bound self-load, stall monitor",
		setup:      setupCensusBig,
		unit:       censusBigUnit,
		background: watchStalls,
	})
}

type payload [96]byte

type user struct {
	id    int64
	attrs map[string]int
}

var (
	bigMaps    [5]map[int64]payload
	bigUsers   map[int64]*user
	bigScratch [4096]byte
	maxStallNs atomic.Int64
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

func setupCensusBig() {
	mb := envInt("MAPDOCTOR_LAB_CENSUS_MB", 1024)
	// Five maps of about 1.2 M [96]byte entries each (for the default 1024): both map
	// implementations then sit in the size step that holds about 230 MB per map.
	perMap := int64(mb) << 20 / int64(len(bigMaps)) / 180
	for i := range bigMaps {
		m := make(map[int64]payload)
		for k := int64(0); k < perMap; k++ {
			m[k] = payload{byte(k)}
		}
		bigMaps[i] = m
	}
	n := envInt("MAPDOCTOR_LAB_CENSUS_MAPS", 100_000)
	bigUsers = make(map[int64]*user, n)
	for i := 0; i < n; i++ {
		bigUsers[int64(i)] = &user{id: int64(i), attrs: map[string]int{"visits": i, "plan": i % 3}}
	}
	http.HandleFunc("/census/stall", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]float64{"max_stall_ms": float64(maxStallNs.Swap(0)) / 1e6})
	})
}

// censusBigUnit is a fixed amount of CPU work that touches no shared state.
func censusBigUnit() {
	sum := uint32(0)
	for i := 0; i < 64; i++ {
		sum += crc32.ChecksumIEEE(bigScratch[:])
	}
	checksum.Add(int64(sum & 1))
}

// watchStalls ticks every millisecond and keeps the longest gap between ticks.
func watchStalls() {
	last := time.Now()
	for {
		time.Sleep(time.Millisecond)
		now := time.Now()
		if gap := now.Sub(last).Nanoseconds(); gap > maxStallNs.Load() {
			maxStallNs.Store(gap)
		}
		last = now
	}
}
