package main

import "strconv"

// smallmaps: a JSON-style handler that turns every row into a two-entry map
// literal before encoding it. Each map is small: no size hint changes
// anything (hint <= 8 allocates lazily), yet every one allocates a header and,
// on its first insert, its first bucket (Go <= 1.23) or group (Swiss
// (*Map).growToSmall). The cost is map creation, not map growth.

const smallRecordsPerReq = 20000

var recordIDs []string

func init() {
	register(&scenario{
		name:  "smallmaps",
		about: "JSON-style rows as two-entry map literals: small-map creation (growToSmall), not growth",
		setup: makeRecordIDs,
		unit:  handleRecordRows,
	})
}

func makeRecordIDs() {
	recordIDs = make([]string, 4096)
	for i := range recordIDs {
		recordIDs[i] = "rec-" + strconv.Itoa(i)
	}
}

func handleRecordRows() {
	rows := make([]map[string]string, 0, smallRecordsPerReq)
	for i := 0; i < smallRecordsPerReq; i++ {
		row := map[string]string{"id": recordIDs[i%len(recordIDs)], "status": "ok"}
		rows = append(rows, row)
	}
	checksum.Add(int64(encodedLength(rows)))
}

// encodedLength stands for the encoder: it reads every entry back.
func encodedLength(rows []map[string]string) int {
	n := 2
	for _, row := range rows {
		n += len(row["id"]) + len(row["status"]) + 24
	}
	return n
}
