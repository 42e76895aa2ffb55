package main

// gcpressure: no maps at all. A large long-lived pointer graph makes every GC
// cycle expensive to mark, and each request allocates lots of short-lived
// linked nodes and pointer slices, so GC runs often and requests pay mark
// assists.

type catalogNode struct {
	next     *catalogNode
	children [4]*catalogNode
	name     string
	weight   int64
}

type scratchNode struct {
	next  *scratchNode
	prev  *scratchNode
	owner *catalogNode
	label string
	n     int64
}

const (
	catalogNodes     = 600000
	scratchPerUnit   = 20000
	scratchPtrsSlice = 64
)

var catalog []*catalogNode

func init() {
	register(&scenario{
		name:  "gcpressure",
		about: "short-lived pointer-rich garbage over a large long-lived pointer graph, no maps (GC marking/assists)",
		setup: buildCatalog,
		unit:  handleScratchWork,
	})
}

func buildCatalog() {
	catalog = make([]*catalogNode, catalogNodes)
	for i := range catalog {
		catalog[i] = &catalogNode{name: "node", weight: int64(i)}
	}
	for i, n := range catalog {
		n.next = catalog[(i+1)%len(catalog)]
		for c := range n.children {
			n.children[c] = catalog[(i*31+c*7919+1)%len(catalog)]
		}
	}
}

func handleScratchWork() {
	var head *scratchNode
	var batches [][]*scratchNode
	batch := make([]*scratchNode, 0, scratchPtrsSlice)
	for i := 0; i < scratchPerUnit; i++ {
		n := &scratchNode{next: head, owner: catalog[(i*131)%len(catalog)], label: "scratch", n: int64(i)}
		if head != nil {
			head.prev = n
		}
		head = n
		batch = append(batch, n)
		if len(batch) == cap(batch) {
			batches = append(batches, batch)
			batch = make([]*scratchNode, 0, scratchPtrsSlice)
		}
	}
	var sum int64
	for n := head; n != nil; n = n.next {
		sum += n.n + n.owner.weight
	}
	checksum.Add(sum + int64(len(batches)))
}
