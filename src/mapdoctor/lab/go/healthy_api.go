package main

// http-healthy: every request does the same 2.5 ms of work; nothing is slow.

import "time"

func init() {
	registerHTTP("http-healthy", "HTTP service; every request does the same small work (healthy control)",
		nil, &httpService{handle: handleHealthy, clients: 6, think: 30 * time.Millisecond})
}

func handleHealthy(n uint64) {
	spin(250)
}
