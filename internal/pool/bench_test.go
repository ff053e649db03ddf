package pool

import (
	"context"
	"testing"
)

// BenchmarkTryGet is the sender's cost of finding a broker's live connection, once per
// Produce request: it must not allocate.
func BenchmarkTryGet(b *testing.B) {
	fb := newFakeBroker(b)
	p := New(Config{Resolve: func(int32) (string, bool) { return fb.addr(), true }})
	defer p.Close()
	if _, err := p.Get(context.Background(), Produce, Target{Node: 1}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if p.TryGet(Produce, 1) == nil {
			b.Fatal("no connection")
		}
	}
}
