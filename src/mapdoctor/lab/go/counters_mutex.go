package main

import (
	"strconv"
	"sync"
)

// mutex: many goroutines update a shared map of counters under one
// sync.Mutex, so the mutex and block profiles are dominated by this lock.
// The work under the lock (about 10µs) keeps lock hand-offs, and so the
// execution trace's block/unblock events, to a few tens of thousands a
// second while the lock stays contended all the time.

type counterSet struct {
	mu     sync.Mutex
	counts map[string]int64
}

var (
	endpointCounters = &counterSet{counts: make(map[string]int64, 64)}
	endpointNames    []string
)

const (
	counterKeys     = 64
	updatesPerUnit  = 100
	goroutinesPerWk = 16
	lockedWorkRound = 4000
)

func init() {
	register(&scenario{
		name:                "mutex",
		about:               "32 goroutines contend on one sync.Mutex guarding a small map (mutex/block contention)",
		setup:               makeEndpointNames,
		unit:                handleCounterUpdates,
		goroutinesPerWorker: goroutinesPerWk,
	})
}

func makeEndpointNames() {
	for i := 0; i < counterKeys; i++ {
		name := "/api/v1/endpoint/" + strconv.Itoa(i)
		endpointNames = append(endpointNames, name)
		endpointCounters.counts[name] = 0
	}
}

func handleCounterUpdates() {
	for i := 0; i < updatesPerUnit; i++ {
		endpointCounters.add(endpointNames[i%counterKeys], int64(i))
	}
}

func (c *counterSet) add(name string, v int64) {
	c.mu.Lock()
	c.counts[name] += weigh(v)
	c.mu.Unlock()
}

// weigh is a little work done while holding the lock.
func weigh(v int64) int64 {
	x := uint64(v) | 1
	for i := 0; i < lockedWorkRound; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return int64(x & 0xff)
}
