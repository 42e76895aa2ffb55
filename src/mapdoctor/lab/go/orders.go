package main

// mapgrow-str: every request indexes a batch of orders by ID into a map made
// without a size hint, so the map grows (and rehashes/evacuates) from 8 slots
// to 60000 entries inside the request.

func init() {
	register(&scenario{
		name:  "mapgrow-str",
		about: "per-request map[string]*Order filled with 60000 entries without a size hint (map growth)",
		setup: makeOrderBatch,
		unit:  handleOrderBatch,
	})
}

func handleOrderBatch() {
	orders := indexOrders(orderBatch)
	checksum.Add(sampleOrderTotal(orders, orderBatch))
}

func indexOrders(batch []*Order) map[string]*Order {
	orders := make(map[string]*Order)
	for _, o := range batch {
		orders[o.ID] = o
	}
	return orders
}
