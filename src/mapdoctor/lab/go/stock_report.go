package main

import "fmt"

// slicegrow: every request walks a long-lived, presized inventory map and
// appends one report line per bin to a slice made without capacity, so the
// cost is slice growth (runtime.growslice), not the map.

type Item struct {
	SKU  string
	Bins [6]Bin
}

type Bin struct {
	Location string
	Qty      int64
}

type ReportLine struct {
	ItemID   int64
	SKU      string
	Location string
	Qty      int64
	Value    int64
}

const inventoryItems = 8000

var inventory map[int64]*Item

func init() {
	register(&scenario{
		name:  "slicegrow",
		about: "per-request report: range over a presized map, append to a slice without capacity (slice growth)",
		setup: makeInventory,
		unit:  handleStockReport,
	})
}

func makeInventory() {
	inventory = make(map[int64]*Item, inventoryItems)
	for i := int64(0); i < inventoryItems; i++ {
		it := &Item{SKU: fmt.Sprintf("sku-%06d", i)}
		for b := range it.Bins {
			it.Bins[b] = Bin{Location: fmt.Sprintf("aisle-%02d", (int(i)+b)%40), Qty: i%97 + int64(b)}
		}
		inventory[i] = it
	}
}

func handleStockReport() {
	lines := buildStockReport()
	checksum.Add(int64(len(lines)))
}

func buildStockReport() []ReportLine {
	var out []ReportLine
	for id, it := range inventory {
		for _, b := range it.Bins {
			out = append(out, ReportLine{ItemID: id, SKU: it.SKU, Location: b.Location, Qty: b.Qty, Value: b.Qty * 100})
		}
	}
	return out
}
