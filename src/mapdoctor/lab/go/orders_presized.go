package main

// presized: the healthy control for mapgrow-str. Same batch and same map, but
// made with len(batch) as the size hint, so no growth happens while filling.

func init() {
	register(&scenario{
		name:  "presized",
		about: "same as mapgrow-str but make(map[string]*Order, len(batch)): no growth (healthy control)",
		setup: makeOrderBatch,
		unit:  handlePresizedOrderBatch,
	})
}

func handlePresizedOrderBatch() {
	orders := indexOrdersPresized(orderBatch)
	checksum.Add(sampleOrderTotal(orders, orderBatch))
}

func indexOrdersPresized(batch []*Order) map[string]*Order {
	orders := make(map[string]*Order, len(batch))
	for _, o := range batch {
		orders[o.ID] = o
	}
	return orders
}
