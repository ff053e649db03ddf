package pool

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/broker"
)

// TestIdleCloseNeverFailsWrittenRequest: a caller already holding a connection (the
// sender from TryGet, metadata or the coordinator from Get) may send on it while the
// idle reaper closes it. The request must then either keep the connection open or fail
// unwritten; failed written (maybe written) a non-idempotent producer's retry would
// duplicate. Java's Selector expires idle connections on the poll thread, which never
// races a send.
func TestIdleCloseNeverFailsWrittenRequest(t *testing.T) {
	fb := newFakeBroker(t)
	d := newTestDialer()
	clock := &testClock{now: time.Now()}
	p := newTestPool(t, fb, d, func(c *Config) {
		c.MaxIdle = time.Hour
		c.Now = clock.Now
		c.Conn.Dialer = (&net.Dialer{}).DialContext // testDialer's entered channel holds 64 dials
	})
	var writtenKilled, unwrittenKilled int
	for i := int32(1); i <= 400; i++ {
		c, err := p.Get(context.Background(), Control, Target{Node: i})
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		var doErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			_, doErr = c.Do(ctx, kmsg.NewPtrMetadataRequest())
		}()
		go func() {
			defer wg.Done()
			<-start
			p.closeIdle(clock.Now().Add(2 * time.Hour))
		}()
		close(start)
		wg.Wait()
		var re *broker.RequestError
		if errors.As(doErr, &re) && errors.Is(doErr, broker.ErrConnClosed) {
			if re.Written {
				writtenKilled++
			} else {
				unwrittenKilled++
			}
		}
		c.Close()
	}
	t.Logf("idle close killed %d written and %d unwritten requests", writtenKilled, unwrittenKilled)
	if writtenKilled > 0 {
		t.Fatalf("the idle reaper closed a connection with a request written on it %d times (maybe written)", writtenKilled)
	}
}

// TestGetMovedNodeWaitsOutOldDial: a Get naming a node's new address while a dial to
// its old one is under way must not join that dial: it returns a connection to the new
// address (the txn coordinator's FindCoordinator answer or fresh metadata honoured).
func TestGetMovedNodeWaitsOutOldDial(t *testing.T) {
	oldB, newB := newFakeBroker(t), newFakeBroker(t)
	gate := make(chan struct{})
	p := New(Config{Conn: broker.Options{Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == oldB.addr() {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}})
	t.Cleanup(p.Close)
	go p.Get(context.Background(), Control, Target{Node: 1, Addr: oldB.addr()})
	waitFor(t, "the dial to the old address", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		e := p.conns[Control][1]
		return e != nil && e.call != nil
	})
	go func() { time.Sleep(50 * time.Millisecond); close(gate) }()
	c, err := p.Get(context.Background(), Control, Target{Node: 1, Addr: newB.addr()})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr() != newB.addr() {
		t.Fatalf("Get(node 1 at %s) returned a connection to %s", newB.addr(), c.Addr())
	}
}
