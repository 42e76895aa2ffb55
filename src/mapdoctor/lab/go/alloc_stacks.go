package main

import (
	"runtime"
	"sync/atomic"
	"time"
)

// manystacks (benchmarks only): records every allocation and allocates from
// a huge number of distinct call stacks, so the allocs profile gets large.
// Four mutually recursive functions each choose the next one from two bits
// of a scrambled counter, stackDepth levels deep, so every counter value is
// its own stack. After one pass over distinctStacks counters the service
// forces two GC cycles (allocation records are published by GC) and idles,
// so the profile is complete and stops changing.

const (
	stackDepth      = 32
	allocsPerUnit   = 20000
	distinctStacks  = 1 << 19
	stackChoiceBits = 2
	stackChoiceMask = 1<<stackChoiceBits - 1
	idleUnit        = 100 * time.Millisecond
)

type allocLeaf struct {
	path uint64
	pad  [2]uint64
}

var (
	stackCounter atomic.Uint64
	leafSink     atomic.Pointer[allocLeaf]
)

func init() {
	register(&scenario{
		name:  "manystacks",
		about: "benchmarks only: MemProfileRate=1 and allocations from 2^19 distinct stacks (large allocs profile)",
		setup: func() { runtime.MemProfileRate = 1 },
		unit:  handleDistinctStacks,
	})
}

func handleDistinctStacks() {
	base := stackCounter.Add(allocsPerUnit) - allocsPerUnit
	if base >= distinctStacks {
		time.Sleep(idleUnit)
		return
	}
	end := min(base+allocsPerUnit, distinctStacks)
	for path := base; path < end; path++ {
		leafSink.Store(descendA(path, scramble(path), stackDepth))
	}
	if end == distinctStacks {
		runtime.GC()
		runtime.GC()
	}
}

// scramble (splitmix64's finalizer, a bijection) spreads consecutive counters
// over the choice bits of all recursion levels.
func scramble(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func descendA(path, rest uint64, depth int) *allocLeaf {
	if depth == 0 {
		return &allocLeaf{path: path}
	}
	switch rest & stackChoiceMask {
	case 0:
		return descendA(path, rest>>stackChoiceBits, depth-1)
	case 1:
		return descendB(path, rest>>stackChoiceBits, depth-1)
	case 2:
		return descendC(path, rest>>stackChoiceBits, depth-1)
	default:
		return descendD(path, rest>>stackChoiceBits, depth-1)
	}
}

func descendB(path, rest uint64, depth int) *allocLeaf {
	if depth == 0 {
		return &allocLeaf{path: path}
	}
	switch rest & stackChoiceMask {
	case 0:
		return descendA(path, rest>>stackChoiceBits, depth-1)
	case 1:
		return descendB(path, rest>>stackChoiceBits, depth-1)
	case 2:
		return descendC(path, rest>>stackChoiceBits, depth-1)
	default:
		return descendD(path, rest>>stackChoiceBits, depth-1)
	}
}

func descendC(path, rest uint64, depth int) *allocLeaf {
	if depth == 0 {
		return &allocLeaf{path: path}
	}
	switch rest & stackChoiceMask {
	case 0:
		return descendA(path, rest>>stackChoiceBits, depth-1)
	case 1:
		return descendB(path, rest>>stackChoiceBits, depth-1)
	case 2:
		return descendC(path, rest>>stackChoiceBits, depth-1)
	default:
		return descendD(path, rest>>stackChoiceBits, depth-1)
	}
}

func descendD(path, rest uint64, depth int) *allocLeaf {
	if depth == 0 {
		return &allocLeaf{path: path}
	}
	switch rest & stackChoiceMask {
	case 0:
		return descendA(path, rest>>stackChoiceBits, depth-1)
	case 1:
		return descendB(path, rest>>stackChoiceBits, depth-1)
	case 2:
		return descendC(path, rest>>stackChoiceBits, depth-1)
	default:
		return descendD(path, rest>>stackChoiceBits, depth-1)
	}
}
