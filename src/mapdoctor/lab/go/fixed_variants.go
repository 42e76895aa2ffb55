package main

// The "fixed" variants: each situation with the change the runbook names applied, so
// `mapdoctor compare` can be checked on a real before/after. mapgrow-str's fix is presized.

func init() {
	register(&scenario{
		name:  "slicegrow-fixed",
		about: "slicegrow with the fix: the report slice made with its capacity (no slice growth)",
		setup: makeInventory,
		unit:  handleStockReportFixed,
	})
	register(&scenario{
		name:  "gcpressure-fixed",
		about: "gcpressure with the fix: scratch nodes from one reused arena per worker, not fresh garbage",
		setup: buildCatalog,
		unit:  handleScratchWorkFixed,
	})
}

func handleStockReportFixed() {
	out := make([]ReportLine, 0, len(inventory)*len(Item{}.Bins))
	for id, it := range inventory {
		for _, b := range it.Bins {
			out = append(out, ReportLine{ItemID: id, SKU: it.SKU, Location: b.Location, Qty: b.Qty, Value: b.Qty * 100})
		}
	}
	checksum.Add(int64(len(out)))
}

// scratchArenas hands each unit a reused block of nodes: the same work, no garbage per unit.
var scratchArenas = make(chan []scratchNode, 8)

func handleScratchWorkFixed() {
	var arena []scratchNode
	select {
	case arena = <-scratchArenas:
	default:
		arena = make([]scratchNode, scratchPerUnit)
	}
	var head *scratchNode
	for i := range arena {
		n := &arena[i]
		*n = scratchNode{next: head, owner: catalog[(i*131)%len(catalog)], label: "scratch", n: int64(i)}
		if head != nil {
			head.prev = n
		}
		head = n
	}
	var sum int64
	for n := head; n != nil; n = n.next {
		sum += n.n + n.owner.weight
	}
	checksum.Add(sum)
	for i := range arena {
		arena[i] = scratchNode{}
	}
	select {
	case scratchArenas <- arena:
	default:
	}
}
