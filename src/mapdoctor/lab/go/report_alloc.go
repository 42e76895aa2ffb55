package main

// http-gc: a large long-lived pointer graph makes every GC cycle expensive to
// mark and GOGC is low; every 50th request builds a report out of 200000
// short-lived linked nodes, so it triggers GC cycles and pays mark assists.

import (
	"runtime/debug"
	"sync/atomic"
	"time"
)

type accountNode struct {
	next  *accountNode
	peers [3]*accountNode
	name  string
}

type reportLine struct {
	next  *reportLine
	owner *accountNode
	label string
	n     int64
}

var (
	accounts   []*accountNode
	reportSink atomic.Int64
)

func init() {
	registerHTTP("http-gc",
		"HTTP service; every 50th request allocates 200000 linked nodes over a large live pointer graph, GOGC=20 (GC pressure)",
		buildAccounts, &httpService{handle: handleReport, clients: 6, think: 30 * time.Millisecond})
}

func buildAccounts() {
	debug.SetGCPercent(20)
	accounts = make([]*accountNode, 400000)
	for i := range accounts {
		accounts[i] = &accountNode{name: "account"}
	}
	for i, a := range accounts {
		a.next = accounts[(i+1)%len(accounts)]
		for p := range a.peers {
			a.peers[p] = accounts[(i*31+p*7919+1)%len(accounts)]
		}
	}
}

func handleReport(n uint64) {
	spin(250)
	if n%50 == 25 {
		reportSink.Add(buildReport())
	}
}

func buildReport() int64 {
	var head *reportLine
	for i := 0; i < 200000; i++ {
		head = &reportLine{next: head, owner: accounts[(i*131)%len(accounts)], label: "line", n: int64(i)}
	}
	var total int64
	for l := head; l != nil; l = l.next {
		total += l.n
	}
	return total
}
