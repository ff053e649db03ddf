package kotel

import "github.com/kprod-io/kprod"

// headerCarrier lets a propagator read and write a record's headers. The headers it
// starts from are the caller's: Set never writes into them, it appends (the core hands
// the hook a clipped slice, so the append copies) or, to replace a key the record
// already carries (a record forwarded with its upstream traceparent), builds a new
// slice. Kafka header keys are case-sensitive; the W3C propagators use lower case.
type headerCarrier struct{ h *[]kprod.Header }

// Get returns the value of the last header named key, "" if none.
func (c headerCarrier) Get(key string) string {
	hs := *c.h
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Key == key {
			return string(hs[i].Value)
		}
	}
	return ""
}

// Set makes value the only header named key.
func (c headerCarrier) Set(key, value string) {
	hs := *c.h
	for i := range hs {
		if hs[i].Key == key {
			kept := make([]kprod.Header, 0, len(hs)+1)
			for _, h := range hs {
				if h.Key != key {
					kept = append(kept, h)
				}
			}
			hs = kept
			break
		}
	}
	*c.h = append(hs, kprod.Header{Key: key, Value: []byte(value)})
}

// Keys lists the header keys.
func (c headerCarrier) Keys() []string {
	keys := make([]string, len(*c.h))
	for i, h := range *c.h {
		keys[i] = h.Key
	}
	return keys
}
