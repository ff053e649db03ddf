package partition

import (
	"sync"
	"sync/atomic"
)

// cowMap is a copy-on-write map (Java's CopyOnWriteMap) for tables that are
// read on hot paths and written rarely: per-topic counters, per-broker
// latency. Reads are one atomic load and a map lookup, with no lock and no
// allocation; an insert copies the map.
type cowMap[K comparable, V any] struct {
	m  atomic.Pointer[map[K]V]
	mu sync.Mutex // serializes writers
}

func (c *cowMap[K, V]) load(k K) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// loadOrStore returns the value for k, storing mk() first if k is absent.
func (c *cowMap[K, V]) loadOrStore(k K, mk func() V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	next := make(map[K]V, 1+lenOf(old))
	if old != nil {
		for key, v := range *old {
			next[key] = v
		}
	}
	v := mk()
	next[k] = v
	c.m.Store(&next)
	return v
}

func lenOf[K comparable, V any](m *map[K]V) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
