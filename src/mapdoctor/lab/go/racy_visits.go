package main

import "strconv"

// crash: two goroutines write the same plain map without a lock. The runtime
// detects it and aborts with "fatal error: concurrent map writes".

func init() {
	register(&scenario{
		name:       "crash",
		about:      "two goroutines write one plain map without a lock (fatal error: concurrent map writes)",
		noSelfLoad: true,
		background: startRacyVisitCounters,
	})
}

var visitKeys []string

func startRacyVisitCounters() {
	for i := 0; i < 4096; i++ {
		visitKeys = append(visitKeys, "/page/"+strconv.Itoa(i))
	}
	visits := make(map[string]int)
	go countVisits(visits, 1)
	countVisits(visits, 2)
}

func countVisits(visits map[string]int, worker int) {
	for i := 0; ; i++ {
		page := visitKeys[(i*worker)%len(visitKeys)]
		visits[page]++
	}
}
