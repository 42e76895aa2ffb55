package main

// globalindex: a package-level index rebuilt in place, over and over, without
// a size hint: the map growing in the profiles is one the census can reach
// (main.orderIndex), so `diagnose --census PID` can name it.

func init() {
	register(&scenario{
		name:       "globalindex",
		about:      "a package-level map[string]*Order rebuilt from empty without a size hint, in a loop",
		setup:      makeOrderBatch,
		noSelfLoad: true,
		background: rebuildGlobalIndexForever,
	})
}

var orderIndex map[string]*Order

func rebuildGlobalIndexForever() {
	for {
		rebuildGlobalIndex()
	}
}

func rebuildGlobalIndex() {
	orderIndex = make(map[string]*Order)
	for _, o := range orderBatch {
		orderIndex[o.ID] = o
	}
}
