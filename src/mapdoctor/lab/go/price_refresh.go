package main

// http-bgmapgrow: every request is quick, but once a second two background
// refreshers rebuild the price table into maps made without a size hint. The
// growth runs on both Ps, so requests that arrive meanwhile wait for a CPU:
// map growth hurts them without ever running on their goroutines.

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	priceKeys []string
	priceSink atomic.Int64
)

func init() {
	registerHTTP("http-bgmapgrow",
		"HTTP service; a background refresher regrows two 500000-entry maps each second and steals the CPUs (map growth, indirect)",
		makePriceKeys, &httpService{handle: handleQuote, clients: 6, think: 30 * time.Millisecond,
			background: refreshPrices})
}

func makePriceKeys() {
	priceKeys = make([]string, 500000)
	for i := range priceKeys {
		priceKeys[i] = "sku-" + strconv.Itoa(i*7919+1)
	}
}

func handleQuote(n uint64) {
	spin(250)
}

func refreshPrices() {
	for {
		time.Sleep(time.Second)
		var wg sync.WaitGroup
		for shard := 0; shard < 2; shard++ {
			wg.Add(1)
			go func(shard int) {
				defer wg.Done()
				priceSink.Add(int64(len(buildPriceTable(shard))))
			}(shard)
		}
		wg.Wait()
	}
}

func buildPriceTable(shard int) map[string]float64 {
	table := make(map[string]float64)
	for i, k := range priceKeys {
		table[k] = float64(i+shard) * 1.01 // grows: no size hint
	}
	return table
}
