package main

import (
	"sync"
	"sync/atomic"
)

// syncmap: a sync.Map used as a look-aside cache of ever-new keys: each
// request looks up tokens that are not cached yet (misses), then stores them;
// the cache is replaced by an empty one every cacheGeneration tokens to bound
// its size. Up to Go 1.23 every such miss counts towards promoting the dirty
// map, and the first new key after a promotion copies the whole read map
// (sync.(*Map).dirtyLocked), again and again.

const (
	cacheGeneration  = 40000
	tokensPerUnit    = 4000
	readsPerNewToken = 2
)

type cachedToken struct {
	user  int64
	scope string
}

var (
	tokenCache atomic.Pointer[sync.Map]
	nextToken  atomic.Int64
)

func init() {
	register(&scenario{
		name:  "syncmap",
		about: "sync.Map cache with ever-new keys: Load misses interleaved with Stores of new keys (dirty-map copies)",
		setup: func() { tokenCache.Store(new(sync.Map)) },
		unit:  handleTokenLookups,
	})
}

func handleTokenLookups() {
	var hits int64
	for i := 0; i < tokensPerUnit; i++ {
		key := nextToken.Add(1)
		if key%cacheGeneration == 0 {
			tokenCache.Store(new(sync.Map))
		}
		cache := tokenCache.Load()
		// The token itself and the next ones, which callers ask for before they are cached.
		for r := int64(0); r < readsPerNewToken; r++ {
			if _, ok := cache.Load(key + r); ok {
				hits++
			}
		}
		cache.Store(key, &cachedToken{user: key % 1000, scope: "read"})
	}
	checksum.Add(hits)
}
