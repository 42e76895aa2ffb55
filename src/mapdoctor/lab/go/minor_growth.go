package main

import (
	"strconv"
	"time"
)

// mapgrow-minor: a mostly idle service whose requests do a little hashing work
// and fill a small map without a size hint, then wait on a downstream call
// (a sleep). Map growth is a few percent of the little CPU there is, so a
// short profile holds only a handful of growth samples: the share sits near
// the threshold, and the verdict must not flip on it from run to run. The map
// is used between its make and the loop that fills it, as real code often is.

const (
	minorEntries  = 1500
	minorHashWork = 300000
	downstreamMs  = 10
)

var minorKeys []string

func init() {
	register(&scenario{
		name:  "mapgrow-minor",
		about: "mostly waiting; a little hashing and a small unhinted map per request (near-threshold growth)",
		setup: makeMinorKeys,
		unit:  handleMinorRequest,
	})
}

func makeMinorKeys() {
	minorKeys = make([]string, minorEntries)
	for i := range minorKeys {
		minorKeys[i] = "k" + strconv.Itoa(i*7)
	}
}

func handleMinorRequest() {
	seen := make(map[string]int)
	seen["(none)"] = -1 // a sentinel, set before the loop: the make is no longer right above it
	for i, k := range minorKeys {
		seen[k] = i
	}
	checksum.Add(int64(len(seen)) + digestWork(minorHashWork))
	time.Sleep(downstreamMs * time.Millisecond)
}

// digestWork is the request's own CPU work.
func digestWork(rounds int) int64 {
	x := uint64(88172645463325252)
	for i := 0; i < rounds; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		x += uint64(i)
	}
	return int64(x & 0xffff)
}
