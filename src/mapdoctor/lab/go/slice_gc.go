package main

import "time"

// slicegc: the only garbage is slice growth. Each request collects pointers
// into a slice made without capacity, over a large long-lived pointer graph
// (the gcpressure catalog). Growing the slice abandons array after array; the
// GC cycles that garbage triggers must mark the whole graph, so background GC
// work outweighs growslice itself. The GC pressure is driven by the slice
// growth, and the fix is the slice's capacity. Requests also wait (the reply
// goes out over the network), so the collector's background workers do most of
// the marking on the idle processors instead of charging assists to growslice.

const refsPerReq = 50000

func init() {
	register(&scenario{
		name:  "slicegc",
		about: "append without capacity over a large pointer graph: GC pressure driven by slice growth",
		setup: buildCatalog,
		unit:  handleCatalogRefs,
	})
}

func handleCatalogRefs() {
	refs := collectCatalogRefs()
	var sum int64
	for _, n := range refs[:64] {
		sum += n.weight
	}
	checksum.Add(sum + int64(len(refs)))
	// The answer goes out over the network: the CPU is free meanwhile, and the GC's
	// background workers take it.
	time.Sleep(2 * time.Millisecond)
}

func collectCatalogRefs() []*catalogNode {
	var refs []*catalogNode
	for i := 0; i < refsPerReq; i++ {
		refs = append(refs, catalog[(i*7919)%len(catalog)])
	}
	return refs
}
