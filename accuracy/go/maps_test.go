package mapdoctoraccuracy

import (
	"strconv"
	"testing"
)

const fillEntries = 50000

var fillKeys = func() []string {
	keys := make([]string, fillEntries)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i*7919)
	}
	return keys
}()

var sink int

// BenchmarkFillHinted fills a map made with its final size: no growth (the hinted-make trap).
func BenchmarkFillHinted(b *testing.B) {
	for i := 0; i < b.N; i++ {
		m := make(map[string]int, len(fillKeys))
		for j, k := range fillKeys {
			m[k] = j
		}
		sink += len(m)
	}
}

// BenchmarkFillClear refills one map after clear(m): its storage is kept, nothing grows.
func BenchmarkFillClear(b *testing.B) {
	m := make(map[string]int)
	for i := 0; i < b.N; i++ {
		clear(m)
		for j, k := range fillKeys {
			m[k] = j
		}
		sink += len(m)
	}
}

// hugeKey is larger than 128 bytes: the map stores keys indirectly, allocating each on insert.
type hugeKey struct {
	id   int
	name [30]string
}

// BenchmarkHugeKeys inserts huge keys into a presized map and reads them back eight times:
// per-insert key allocation and hashing of 248-byte keys, but no growth.
func BenchmarkHugeKeys(b *testing.B) {
	keys := make([]hugeKey, 2000)
	for i := range keys {
		keys[i].id = i
		keys[i].name[i%30] = fillKeys[i]
	}
	for i := 0; i < b.N; i++ {
		m := make(map[hugeKey]int, len(keys))
		for j := range keys {
			m[keys[j]] = j
		}
		for r := 0; r < 8; r++ {
			for j := range keys {
				sink += m[keys[j]]
			}
		}
	}
}
