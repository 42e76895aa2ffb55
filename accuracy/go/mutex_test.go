package mapdoctoraccuracy

import (
	"sync"
	"testing"
)

type counters struct {
	mu     sync.Mutex
	counts map[int]int64
}

func (c *counters) add(k int) {
	c.mu.Lock()
	c.counts[k%64] += spin(k)
	c.mu.Unlock()
}

// spin is a little work done while holding the lock.
func spin(v int) int64 {
	x := uint64(v) | 1
	for i := 0; i < 2000; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return int64(x & 0xff)
}

// BenchmarkCountersContended: goroutines (4 per CPU) serialised on one mutex around a small
// map, as a service's shared counters are. Run with -mutexprofile: the profile go test writes
// has no duration of its own.
func BenchmarkCountersContended(b *testing.B) {
	c := &counters{counts: make(map[int]int64, 64)}
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		k := 0
		for pb.Next() {
			c.add(k)
			k++
		}
	})
}
