package broker

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

func TestPoolReuseRedialAndIdle(t *testing.T) {
	checkLeaks(t)
	fb := newFakeBroker(t, func(fc *fakeConn) { fc.answerAll([]byte{0, 0, 0, 0}) })
	p := NewPool(PoolOptions{ConnectionsMaxIdle: 150 * time.Millisecond})
	defer p.Close()
	ctx := context.Background()

	// Concurrent first Gets share one dial.
	var wg sync.WaitGroup
	conns := make([]*Conn, 8)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.Get(ctx, 1, fb.addr())
			if err != nil {
				t.Error(err)
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	for _, c := range conns {
		if c != conns[0] {
			t.Fatal("concurrent Gets dialed more than one connection")
		}
	}
	if c, ok := p.Peek(1); !ok || c != conns[0] {
		t.Fatal("Peek")
	}

	// A dead connection is replaced.
	conns[0].Abort(errors.New("test"))
	c2, err := p.Get(ctx, 1, fb.addr())
	if err != nil || c2 == conns[0] {
		t.Fatalf("redial: %v", err)
	}

	// Idle past connections.max.idle.ms: closed by the janitor.
	select {
	case <-c2.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("idle connection not closed")
	}
	if _, ok := p.Peek(1); ok {
		t.Fatal("idle connection still pooled")
	}
}

func TestPoolBackoffAndClose(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	p := NewPool(PoolOptions{ReconnectBackoff: time.Hour})
	ctx := context.Background()
	if _, err := p.Get(ctx, 2, dead); !errors.Is(err, ErrDial) {
		t.Fatalf("first dial: %v", err)
	}
	start := time.Now()
	if _, err := p.Get(ctx, 2, dead); !errors.Is(err, ErrDial) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("in backoff: %v after %v", err, time.Since(start))
	}
	p.Close()
	p.Close()
	if _, err := p.Get(ctx, 2, dead); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestPoolBackoffGrowth(t *testing.T) {
	p := &Pool{opts: PoolOptions{}.withDefaults()}
	for _, tt := range []struct {
		failures int
		lo, hi   time.Duration
	}{{1, 40 * time.Millisecond, 60 * time.Millisecond}, {2, 80 * time.Millisecond, 120 * time.Millisecond}, {10, 800 * time.Millisecond, 1200 * time.Millisecond}} {
		if d := p.backoff(tt.failures); d < tt.lo || d > tt.hi {
			t.Errorf("backoff(%d) = %v", tt.failures, d)
		}
	}
}
