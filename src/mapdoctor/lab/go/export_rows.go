package main

// http-slicegrow: most requests are quick, but every 50th exports 400000 rows
// by appending to a slice made without capacity: it is copied to a new,
// larger array again and again.

import (
	"sync/atomic"
	"time"
)

type ledgerRow struct {
	id, account, amount, fee, tax, flags int64
}

var ledgerSink atomic.Int64

func init() {
	registerHTTP("http-slicegrow",
		"HTTP service; every 50th request appends 400000 rows to a slice without capacity (slice growth)",
		nil, &httpService{handle: handleLedgerExport, clients: 6, think: 30 * time.Millisecond})
}

func handleLedgerExport(n uint64) {
	spin(250)
	if n%50 == 25 {
		ledgerSink.Add(int64(len(ledgerRows(400000))))
	}
}

func ledgerRows(n int) []ledgerRow {
	var rows []ledgerRow
	for i := 0; i < n; i++ {
		rows = append(rows, ledgerRow{id: int64(i), account: int64(i % 97), amount: int64(i) * 3}) // no capacity
	}
	return rows
}
