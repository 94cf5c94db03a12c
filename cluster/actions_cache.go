package cluster

import (
	"container/list"
	"sync"
)

// codeCache keeps codes by digest, least recently used out first, within
// a bound in bytes, so an invoke finds the code without reading etcd once
// the process has it. A code larger than the bound is not kept.
type codeCache struct {
	mu    sync.Mutex
	max   int
	bytes int
	order *list.List // of *cachedCode, most recently used at the front
	byKey map[string]*list.Element
}

type cachedCode struct {
	digest string
	code   string
}

func newCodeCache(maxBytes int) *codeCache {
	return &codeCache{max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *codeCache) get(digest string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[digest]
	if !ok {
		return "", false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cachedCode).code, true
}

func (c *codeCache) add(digest, code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[digest]; ok {
		c.order.MoveToFront(e)
		return
	}
	if len(code) > c.max {
		return
	}
	c.byKey[digest] = c.order.PushFront(&cachedCode{digest: digest, code: code})
	c.bytes += len(code)
	for c.bytes > c.max {
		last := c.order.Back()
		cc := last.Value.(*cachedCode)
		c.order.Remove(last)
		delete(c.byKey, cc.digest)
		c.bytes -= len(cc.code)
	}
}

// size returns the codes held and their bytes.
func (c *codeCache) size() (count, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.bytes
}
