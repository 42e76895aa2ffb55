package main

import (
	"errors"
	"strconv"
	"sync"
)

// mapgrow-field: the map is a struct field made in a constructor, and filled
// through a method called from the request's loop. The profile blames the
// insert line in the method; the make(...) to give a size hint is in another
// function. A price cache beside it only ever loses entries on an error path.

type product struct {
	SKU   string
	Price int64
}

type productIndex struct {
	bySKU map[string]*product
	count int
}

const indexedProducts = 40000

var (
	catalogProducts []*product
	priceCache      = map[string]int64{}
	priceMu         sync.Mutex
	errNoPrice      = errors.New("no price")
)

func init() {
	register(&scenario{
		name:  "mapgrow-field",
		about: "map field made in a constructor, filled through a method (growth site and make site apart)",
		setup: makeCatalogProducts,
		unit:  handleIndexRebuild,
	})
}

func makeCatalogProducts() {
	catalogProducts = make([]*product, indexedProducts)
	for i := range catalogProducts {
		catalogProducts[i] = &product{SKU: "sku-" + strconv.Itoa(i*13), Price: int64(100 + i%900)}
	}
}

func newProductIndex() *productIndex {
	return &productIndex{bySKU: make(map[string]*product)}
}

func (ix *productIndex) add(p *product) {
	ix.bySKU[p.SKU] = p
	ix.count++
}

func handleIndexRebuild() {
	ix := newProductIndex()
	for _, p := range catalogProducts {
		ix.add(p)
	}
	price, err := cachedPrice(ix, catalogProducts[ix.count/2].SKU)
	if err == nil {
		checksum.Add(price)
	}
}

// cachedPrice memoises prices; an entry is only dropped when looking it up failed.
func cachedPrice(ix *productIndex, sku string) (int64, error) {
	priceMu.Lock()
	defer priceMu.Unlock()
	if v, ok := priceCache[sku]; ok {
		return v, nil
	}
	p, ok := ix.bySKU[sku]
	if !ok {
		delete(priceCache, sku)
		return 0, errNoPrice
	}
	priceCache[sku] = p.Price
	return p.Price, nil
}
