package main

// http-bgmapgrow: every request is quick, but twice a second four background
// refreshers rebuild the price tables into maps made without a size hint. The
// rows are wide (growth copies each one again, while an insert only hashes a
// small integer key), and four CPU-bound goroutines on two Ps keep the run
// queues full: requests that need a CPU meanwhile wait behind them, so map
// growth hurts them without ever running on their goroutines.

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	priceShards = 4
	// Each refresher rebuilds its shard as many small per-region tables: the inserts
	// stay in cache, so the growth (copying every row into each larger table) is
	// what the refresher spends its CPU on.
	priceRegions = 200
	priceRows    = 1000
)

// priceRow is wide but stays stored inline in the map's slots (at most 128 bytes
// per key and per element in both map implementations).
type priceRow [16]int64

var (
	// priceTables holds the current tables of each shard, as a service keeps its
	// latest prices (the live heap also keeps the GC from running all the time).
	priceTables [priceShards][priceRegions]map[int64]priceRow
	priceSink   atomic.Int64
)

func init() {
	registerHTTP("http-bgmapgrow",
		"HTTP service; four background refreshers regrow 800 unsized maps of wide rows twice a second and steal the CPUs from requests that yield (map growth, indirect)",
		nil, &httpService{handle: handleQuote, clients: 6, think: 30 * time.Millisecond,
			background: refreshPrices})
}

// handleQuote prices a request in two chunks and yields between them, as code
// that works in chunks does to stay fair: the yield puts the request on the
// global run queue, and while the refreshers hold both Ps it waits there for a
// CPU (otherwise it runs again at once).
func handleQuote(n uint64) {
	spin(150)
	runtime.Gosched()
	spin(100)
}

func refreshPrices() {
	for {
		time.Sleep(500 * time.Millisecond)
		var wg sync.WaitGroup
		for shard := 0; shard < priceShards; shard++ {
			wg.Add(1)
			go func(shard int) {
				defer wg.Done()
				priceSink.Add(int64(buildPriceTable(shard)))
			}(shard)
		}
		wg.Wait()
	}
}

func buildPriceTable(shard int) int {
	rows := 0
	for region := 0; region < priceRegions; region++ {
		table := make(map[int64]priceRow)
		for i := int64(0); i < priceRows; i++ {
			k := i*priceShards + int64(shard)
			table[k] = priceRow{k, k + 1, k + 2} // grows: no size hint
		}
		rows += len(table)
		priceTables[shard][region] = table
	}
	return rows
}
