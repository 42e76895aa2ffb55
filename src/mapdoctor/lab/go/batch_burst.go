package main

// http-starve: every request is quick, but every second a batch job starts eight
// CPU-bound goroutines on a two-P runtime: more runnable goroutines than
// cores, so requests that arrive meanwhile wait in the run queue.

import (
	"runtime"
	"sync"
	"time"
)

func init() {
	registerHTTP("http-starve",
		"HTTP service; a batch of eight CPU-bound goroutines every second on GOMAXPROCS=2 (CPU starvation)",
		nil, &httpService{handle: handleLookup, clients: 6, think: 30 * time.Millisecond, background: runBatches})
}

func handleLookup(n uint64) {
	spin(125)
	runtime.Gosched() // between two stages the request gives up its P and needs one again
	spin(125)
}

func runBatches() {
	for {
		time.Sleep(time.Second)
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				crunchBatch()
			}()
		}
		wg.Wait()
	}
}

// crunchBatch is 60 ms of plain CPU work per goroutine.
func crunchBatch() {
	x := uint64(88172645463325252)
	for i := 0; i < 6000*spinPerUnit; i++ {
		x ^= x << 13 // the batch's CPU-bound loop
		x ^= x >> 7
		x ^= x << 17
	}
	spinSink.Add(x)
}
