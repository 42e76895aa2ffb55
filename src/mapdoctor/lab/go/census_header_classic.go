//go:build !go1.24 || (!go1.26 && !goexperiment.swissmap)

package main

// The classic runtime.hmap (runtime/map.go: Go <= 1.23, and 1.24/1.25 built
// with GOEXPERIMENT=noswissmap), read by the program
// itself: the census must find the same capacity and growth state.

import "unsafe"

const mapImpl = "classic"

type hmapHeader struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
	nevacuate  uintptr
	extra      unsafe.Pointer
}

type mapHeader struct {
	len      int
	capacity int
	growing  bool
}

func headerOf[K comparable, V any](m map[K]V) mapHeader {
	h := *(**hmapHeader)(unsafe.Pointer(&m))
	if h == nil {
		return mapHeader{}
	}
	out := mapHeader{len: h.count, growing: h.oldbuckets != nil}
	if h.buckets != nil {
		out.capacity = 8 << h.B
	}
	return out
}
