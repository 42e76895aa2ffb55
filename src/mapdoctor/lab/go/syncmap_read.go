package main

import (
	"strconv"
	"sync"
)

// syncmap-read: a sync.Map used the way it is built for. The keys (feature
// flags per tenant) are stored once at start-up; every request only reads
// them. The CPU goes into sync.(*Map).Load hits, which never lock: a healthy
// use that must not be called churn.

const (
	flagKeys      = 50000
	lookupsPerReq = 40000
)

var (
	tenantFlags sync.Map
	flagNames   []string
)

func init() {
	register(&scenario{
		name:  "syncmap-read",
		about: "read-mostly sync.Map: keys stored once at start-up, requests only Load them (healthy control)",
		setup: loadTenantFlags,
		unit:  handleFlagLookups,
	})
}

func loadTenantFlags() {
	flagNames = make([]string, flagKeys)
	for i := range flagNames {
		flagNames[i] = "tenant-" + strconv.Itoa(i) + "/beta-ui"
		tenantFlags.Store(flagNames[i], i%3 == 0)
	}
}

func handleFlagLookups() {
	var on int64
	for i := 0; i < lookupsPerReq; i++ {
		if v, ok := tenantFlags.Load(flagNames[(i*7919)%flagKeys]); ok && v.(bool) {
			on++
		}
	}
	checksum.Add(on)
}
