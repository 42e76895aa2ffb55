package main

// http-mapgrow: most requests are quick, but every 50th rebuilds a tenant's
// index into a map made without a size hint, so that request spends its time
// growing the map (rehashing/evacuating) from 8 slots to 150000 entries.

import (
	"strconv"
	"sync/atomic"
	"time"
)

type tenantRow struct {
	key   string
	plan  int
	quota int64
}

var (
	tenantRows []*tenantRow
	tenantSink atomic.Int64
)

func init() {
	registerHTTP("http-mapgrow",
		"HTTP service; every 50th request rebuilds a 150000-entry tenant index in an unsized map (map growth)",
		makeTenantRows, &httpService{handle: handleTenantRequest, clients: 6, think: 30 * time.Millisecond})
}

func makeTenantRows() {
	tenantRows = make([]*tenantRow, 150000)
	for i := range tenantRows {
		tenantRows[i] = &tenantRow{key: "tenant-" + strconv.Itoa(i), plan: i % 4, quota: int64(i)}
	}
}

func handleTenantRequest(n uint64) {
	spin(250)
	if n%50 == 25 {
		index := rebuildTenantIndex(tenantRows)
		tenantSink.Add(int64(len(index)))
	}
}

func rebuildTenantIndex(rows []*tenantRow) map[string]*tenantRow {
	index := make(map[string]*tenantRow)
	for _, r := range rows {
		index[r.key] = r // grows: no size hint
	}
	return index
}
