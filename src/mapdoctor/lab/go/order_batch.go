package main

import (
	"fmt"
	"math/rand"
	"sync/atomic"
)

// Order is one incoming order. The batch is generated once and shared by the
// order scenarios, so a request costs mostly the map it builds.
type Order struct {
	ID          string
	Customer    string
	AmountCents int64
	Items       int
}

const ordersPerBatch = 60000

var orderBatch []*Order

func makeOrderBatch() {
	if orderBatch != nil {
		return
	}
	rng := rand.New(rand.NewSource(1))
	orderBatch = make([]*Order, ordersPerBatch)
	for i := range orderBatch {
		orderBatch[i] = &Order{
			ID:          fmt.Sprintf("ord-%08x-%06d", rng.Uint32(), i),
			Customer:    fmt.Sprintf("cust-%05d", rng.Intn(20000)),
			AmountCents: rng.Int63n(100000),
			Items:       1 + rng.Intn(9),
		}
	}
}

// checksum keeps the compiler from dropping the reads of each request.
var checksum atomic.Int64

// sampleOrderTotal reads a few orders back by ID, as the handler would before
// answering.
func sampleOrderTotal(orders map[string]*Order, batch []*Order) int64 {
	var total int64
	for i := 0; i < 16; i++ {
		if o, ok := orders[batch[(i*7919)%len(batch)].ID]; ok {
			total += o.AmountCents
		}
	}
	return total
}
