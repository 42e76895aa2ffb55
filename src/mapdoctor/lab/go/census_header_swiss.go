//go:build go1.26 || (go1.24 && goexperiment.swissmap)

package main

// The Swiss-table internal/runtime/maps.Map and its tables (Go >= 1.24), read
// by the program itself: the census must find the same capacity.

import "unsafe"

const mapImpl = "swiss"

type swissMap struct {
	used        uint64
	seed        uintptr
	dirPtr      unsafe.Pointer
	dirLen      int
	globalDepth uint8
}

type swissTable struct {
	used       uint16
	capacity   uint16
	growthLeft uint16
	localDepth uint8
	index      int
}

type mapHeader struct {
	len      int
	capacity int
	growing  bool
}

func headerOf[K comparable, V any](m map[K]V) mapHeader {
	h := *(**swissMap)(unsafe.Pointer(&m))
	if h == nil {
		return mapHeader{}
	}
	out := mapHeader{len: int(h.used)}
	if h.dirLen == 0 {
		if h.dirPtr != nil {
			out.capacity = 8
		}
		// A full small map turns into a table on its next insert.
		out.growing = h.used >= 8
		return out
	}
	// Swiss tables grow all at once, never incrementally: "growing" means the
	// tables have spent 90% of their growth budget (used slots and tombstones
	// against 7/8 of capacity), so the next inserts rehash.
	var last *swissTable
	spent, budget := 0, 0
	for i := 0; i < h.dirLen; i++ {
		t := *(**swissTable)(unsafe.Add(h.dirPtr, i*int(unsafe.Sizeof(uintptr(0)))))
		if t != last {
			out.capacity += int(t.capacity)
			maxGrowth := int(t.capacity) * 7 / 8
			if t.capacity <= 8 {
				maxGrowth = int(t.capacity) - 1
			}
			spent += maxGrowth - int(t.growthLeft)
			budget += maxGrowth
			last = t
		}
	}
	out.growing = budget > 0 && spent*10 >= budget*9
	return out
}
