package drivers

import (
	"math/rand/v2"
	"strconv"
)

var (
	events    = []string{"click", "view", "purchase", "signup", "logout", "search", "add_to_cart", "share"}
	countries = []string{"DE", "FR", "US", "JP", "BR", "IN", "NG", "SE", "CA", "AU", "MX", "KR"}
	words     = []string{"alpha", "bravo", "delta", "echo", "kilo", "lima", "oscar", "tango", "zulu",
		"order", "stream", "broker", "latency", "record", "batch", "topic", "offset", "replica",
		"leader", "commit", "cluster", "fetch", "index", "segment", "window", "session", "token"}
)

// Payloads returns n distinct JSON-like values of exactly size bytes, the same for a
// given seed on every client. Each has random ids, numbers and words, so codecs see data
// that compresses like real events rather than one value repeated. They share one
// backing array, which helps every client alike.
func Payloads(n, size int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	backing := make([]byte, n*size)
	out := make([][]byte, n)
	var b []byte
	for i := range n {
		b = b[:0]
		b = append(b, `{"id":`...)
		b = strconv.AppendUint(b, r.Uint64N(1e12), 10)
		b = append(b, `,"user":"u`...)
		b = strconv.AppendUint(b, r.Uint64N(1e7), 10)
		b = append(b, `","event":"`...)
		b = append(b, events[r.IntN(len(events))]...)
		b = append(b, `","ts":`...)
		b = strconv.AppendInt(b, 1_700_000_000_000+int64(r.Uint64N(1e10)), 10)
		b = append(b, `,"amount":`...)
		b = strconv.AppendUint(b, r.Uint64N(100000), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, 10+r.Uint64N(90), 10)
		b = append(b, `,"country":"`...)
		b = append(b, countries[r.IntN(len(countries))]...)
		b = append(b, `","note":"`...)
		for len(b) < size {
			b = append(b, words[r.IntN(len(words))]...)
			b = append(b, ' ')
		}
		v := backing[i*size : (i+1)*size : (i+1)*size]
		copy(v, b)
		if size >= 2 {
			v[size-2], v[size-1] = '"', '}'
		}
		out[i] = v
	}
	return out
}

// Keys returns n distinct record keys ("key-0" ...), or nil for n == 0.
func Keys(n int) [][]byte {
	if n <= 0 {
		return nil
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = strconv.AppendInt([]byte("key-"), int64(i), 10)
	}
	return out
}
