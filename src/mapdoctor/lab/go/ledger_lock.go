package main

// http-lock: every request updates a shared ledger under one sync.Mutex, held
// only briefly; but twice a second a background snapshot holds the same lock
// for 40 ms of work, and the requests that arrive meanwhile wait on it.

import (
	"sync"
	"time"
)

var ledger struct {
	mu       sync.Mutex
	balances [64]int64
	snapshot [64]int64
}

func init() {
	registerHTTP("http-lock",
		"HTTP service; requests take one sync.Mutex that a background snapshot holds for 40 ms twice a second (lock contention)",
		nil, &httpService{handle: handlePayment, clients: 6, think: 30 * time.Millisecond, background: snapshotLedger})
}

func handlePayment(n uint64) {
	spin(250)
	ledger.mu.Lock() // waits while the snapshot holds the lock
	ledger.balances[n%64]++
	ledger.mu.Unlock()
}

func snapshotLedger() {
	for {
		time.Sleep(500 * time.Millisecond)
		ledger.mu.Lock()
		spin(4000)
		ledger.snapshot = ledger.balances
		ledger.mu.Unlock()
	}
}
