package main

import (
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// latencyHistogram is a log-linear histogram (16 sub-buckets per power of
// two, about 6% precision) updated with atomics only: recording a request must
// not add lock contention of its own to the mutex and block profiles.
type latencyHistogram struct {
	start   time.Time
	count   atomic.Uint64
	maxNs   atomic.Int64
	buckets [1024]atomic.Uint64
}

const subBucketBits = 4

var requestStats = &latencyHistogram{start: time.Now()}

func bucketOf(ns uint64) int {
	if ns < 1<<subBucketBits {
		return int(ns)
	}
	exp := bits.Len64(ns) - 1
	sub := (ns >> (exp - subBucketBits)) & (1<<subBucketBits - 1)
	return (exp-subBucketBits+1)<<subBucketBits + int(sub)
}

// bucketMid is the middle of the value range of bucket i.
func bucketMid(i int) float64 {
	if i < 1<<subBucketBits {
		return float64(i)
	}
	exp := i>>subBucketBits + subBucketBits - 1
	sub := i & (1<<subBucketBits - 1)
	width := math.Ldexp(1, exp-subBucketBits)
	low := float64(1<<subBucketBits+sub) * width
	return low + width/2
}

func (h *latencyHistogram) record(d time.Duration) {
	ns := d.Nanoseconds()
	if ns < 0 {
		ns = 0
	}
	h.buckets[bucketOf(uint64(ns))].Add(1)
	h.count.Add(1)
	for {
		cur := h.maxNs.Load()
		if ns <= cur || h.maxNs.CompareAndSwap(cur, ns) {
			return
		}
	}
}

// quantileNs reads the buckets without a global snapshot: concurrent
// recording may skew a quantile by a few requests, which is fine here.
func (h *latencyHistogram) quantileNs(q float64, total uint64) float64 {
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			return bucketMid(i)
		}
	}
	return float64(h.maxNs.Load())
}

func (h *latencyHistogram) snapshotJSON(scenario string) []byte {
	total := h.count.Load()
	return []byte(fmt.Sprintf(
		"{\"scenario\": %q, \"requests\": %d, \"p50_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f, \"uptime_s\": %.3f}\n",
		scenario, total, h.quantileNs(0.50, total)/1e3, h.quantileNs(0.99, total)/1e3,
		float64(h.maxNs.Load())/1e3, time.Since(h.start).Seconds()))
}
