package mapdoctoraccuracy

import (
	"strings"
	"testing"
)

// BenchmarkBuilderGrown renders 2000 lines into a strings.Builder given its final size with
// Grow first: one allocation, no growth (the presized-builder trap, at a size where the
// writes, not the one allocation, are the work).
func BenchmarkBuilderGrown(b *testing.B) {
	lines := fillKeys[:2000]
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	for i := 0; i < b.N; i++ {
		var sb strings.Builder
		sb.Grow(size)
		for _, l := range lines {
			sb.WriteString(l)
			sb.WriteByte('\n')
		}
		sink += sb.Len()
	}
}
