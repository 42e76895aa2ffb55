package main

import (
	"strconv"
	"strings"
)

// builder: each request renders a CSV export by concatenating the rows'
// pre-rendered lines into a strings.Builder that is never given its size (no
// Grow), so its buffer grows by append: the cost is slice growth
// (runtime.growslice) under strings.(*Builder).WriteString, at the line that
// writes.

type exportRow struct {
	Name  string
	Email string
	Plan  string
	Seats int
	line  string // the row as CSV, rendered once
}

const exportRows = 20000

var exportTable []exportRow

func init() {
	register(&scenario{
		name:  "builder",
		about: "CSV export into a strings.Builder without Grow: slice growth under WriteString",
		setup: makeExportTable,
		unit:  handleExport,
	})
}

func makeExportTable() {
	exportTable = make([]exportRow, exportRows)
	for i := range exportTable {
		r := exportRow{Name: "user-" + strconv.Itoa(i), Email: "u" + strconv.Itoa(i) + "@example.com",
			Plan: []string{"free", "team", "enterprise"}[i%3], Seats: i % 50}
		r.line = strings.Join([]string{r.Name, r.Email, r.Plan, strconv.Itoa(r.Seats)}, ",") + "\n"
		exportTable[i] = r
	}
}

func handleExport() {
	out := renderExport(exportTable)
	checksum.Add(int64(len(out)))
}

func renderExport(rows []exportRow) string {
	var sb strings.Builder
	for _, r := range rows {
		sb.WriteString(r.line)
	}
	return sb.String()
}
