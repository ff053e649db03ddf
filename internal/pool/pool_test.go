package pool

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/broker"
)

// newTestPool returns a pool that dials fb through d for every node, closed when the
// test ends.
func newTestPool(t *testing.T, fb *fakeBroker, d *testDialer, mod func(*Config)) *Pool {
	t.Helper()
	cfg := Config{Conn: broker.Options{Dialer: d.dial}, Resolve: func(int32) (string, bool) { return fb.addr(), true }}
	if mod != nil {
		mod(&cfg)
	}
	p := New(cfg)
	t.Cleanup(p.Close)
	return p
}

// TestOneDialPerNode: concurrent users of one node's connection share one dial, and
// all of them get its connection, or all its failure.
func TestOneDialPerNode(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(map[bool]string{false: "success", true: "failure"}[fail], func(t *testing.T) {
			fb := newFakeBroker(t)
			d := newTestDialer()
			d.gate = make(chan struct{})
			d.fail.Store(fail)
			p := newTestPool(t, fb, d, nil)
			const users = 16
			type got struct {
				c   *broker.Conn
				err error
			}
			results := make(chan got, users)
			for range users {
				go func() {
					c, err := p.Get(context.Background(), Control, Target{Node: 1})
					results <- got{c, err}
				}()
			}
			<-d.entered
			waitFor(t, "every user waiting on the dial", func() bool {
				p.mu.Lock()
				defer p.mu.Unlock()
				e := p.conns[Control][1]
				return e != nil && e.call != nil && e.call.waiters == users
			})
			if p.TryGet(Control, 1) != nil {
				t.Fatal("TryGet returned a connection while the dial ran")
			}
			close(d.gate)
			var first got
			for i := range users {
				r := <-results
				if i == 0 {
					first = r
				}
				if r.c != first.c || r.err != first.err {
					t.Fatalf("user %d got (%p, %v), another (%p, %v): not one dial's outcome", i, r.c, r.err, first.c, first.err)
				}
			}
			if fail != (first.err != nil) || !fail && first.c == nil {
				t.Fatalf("got (%v, %v), want failure %v", first.c, first.err, fail)
			}
			if fail && !errors.Is(first.err, errInjected) {
				t.Fatalf("shared failure %v, want the dial's error", first.err)
			}
			if n := d.dials.Load(); n != 1 {
				t.Fatalf("%d dials for %d concurrent users of one node, want 1", n, users)
			}
			if fail {
				return
			}
			// Another purpose to the same node is another connection; the same purpose
			// by address (a bootstrap server) is keyed by that address.
			if c, err := p.Get(context.Background(), Produce, Target{Node: 1}); err != nil || c == first.c {
				t.Fatalf("Produce connection: (%p, %v), want a connection of its own", c, err)
			}
			b1, err := p.Get(context.Background(), Control, Target{Node: -1, Addr: fb.addr()})
			if err != nil {
				t.Fatal(err)
			}
			b2, err := p.Get(context.Background(), Control, Target{Node: -1, Addr: fb.addr()})
			if err != nil || b1 != b2 {
				t.Fatalf("second Get of a bootstrap server: (%p, %v), want the first's %p", b2, err, b1)
			}
			if n := d.dials.Load(); n != 3 {
				t.Fatalf("%d dials, want 3 (node 1 control and produce, one bootstrap)", n)
			}
		})
	}
}

// TestReconnectBackoff: reconnect.backoff.ms doubles per failed dial up to
// reconnect.backoff.max.ms, per node, with Java's jitter; while it runs no dial starts
// (Get fails at once with the last failure, TryGet returns nil and the pool wakes its
// owner when it ends); a success resets it.
func TestReconnectBackoff(t *testing.T) {
	fb := newFakeBroker(t)
	d := newTestDialer()
	d.fail.Store(true)
	clock := &testClock{now: time.Unix(1000, 0)}
	woken := make(chan struct{}, 16)
	p := newTestPool(t, fb, d, func(c *Config) {
		c.ReconnectBackoff, c.ReconnectBackoffMax = 50*time.Millisecond, time.Second
		c.Now = clock.Now
		c.OnReady = func() { woken <- struct{}{} }
	})
	p.rand = func() float64 { return 0.5 } // jitter factor 1: TestExpBackoff checks the jitter
	ctx := context.Background()
	wait := func() time.Duration {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.nodes[1].retryAt.Sub(clock.Now())
	}
	want := []time.Duration{50, 100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if _, err := p.Get(ctx, Control, Target{Node: 1}); !errors.Is(err, errInjected) {
			t.Fatalf("dial %d: %v, want the injected failure", i, err)
		}
		if got := wait(); got != w*time.Millisecond {
			t.Fatalf("backoff after %d failures: %v, want %v", i+1, got, w*time.Millisecond)
		}
		dials := d.dials.Load()
		if _, err := p.Get(ctx, Control, Target{Node: 1}); !errors.Is(err, errInjected) {
			t.Fatalf("Get during the backoff: %v, want the last failure at once", err)
		}
		if p.TryGet(Produce, 1) != nil || d.dials.Load() != dials {
			t.Fatalf("a dial started during the backoff (%d dials, was %d)", d.dials.Load(), dials)
		}
		clock.add(wait())
	}
	// The backoff is the node's: another node dials at once.
	if _, err := p.Get(ctx, Control, Target{Node: 2}); !errors.Is(err, errInjected) {
		t.Fatalf("node 2: %v", err)
	}
	if got := wait(); got != 0 {
		t.Fatalf("node 2's failure moved node 1's backoff to %v", got)
	}
	// The TryGet above found node 1 backing off; its owner is woken when it ends
	// (the timer runs on the real clock, for the backoff's length).
	select {
	case <-woken:
	case <-time.After(waitLong):
		t.Fatal("TryGet's owner was not woken when the backoff ended")
	}
	d.fail.Store(false)
	if _, err := p.Get(ctx, Control, Target{Node: 1}); err != nil {
		t.Fatalf("dial after the backoff: %v", err)
	}
	p.mu.Lock()
	n := *p.nodes[1]
	p.mu.Unlock()
	if n.attempts != 0 || n.setupFailures != 0 || n.lastErr != nil {
		t.Fatalf("after a success the node keeps %+v, want its backoff reset", n)
	}
	d.fail.Store(true)
	if _, err := p.Get(ctx, Produce, Target{Node: 1}); !errors.Is(err, errInjected) {
		t.Fatal(err)
	}
	if got := wait(); got != 50*time.Millisecond {
		t.Fatalf("first backoff after a success: %v, want reconnect.backoff.ms again", got)
	}
}

// TestSetupTimeoutGrows: socket.connection.setup.timeout.ms doubles per consecutive
// failed dial of a node up to socket.connection.setup.timeout.max.ms (KIP-601) and
// resets on a success.
func TestSetupTimeoutGrows(t *testing.T) {
	fb := newFakeBroker(t)
	d := newTestDialer()
	d.fail.Store(true)
	clock := &testClock{now: time.Unix(1000, 0)}
	p := newTestPool(t, fb, d, func(c *Config) {
		c.Conn.ConnectionSetupTimeout, c.SetupTimeoutMax = time.Second, 5*time.Second
		c.Now = clock.Now
	})
	p.rand = func() float64 { return 0.5 }
	check := func(what string, want time.Duration) {
		t.Helper()
		// The bound is measured inside the dial, a little after it was set.
		if got := d.lastBound(); got > want || got < want-time.Second/2 {
			t.Fatalf("%s: setup timeout %v, want %v", what, got, want)
		}
	}
	for i, w := range []time.Duration{1, 2, 4, 5, 5} {
		if _, err := p.Get(context.Background(), Control, Target{Node: 1}); !errors.Is(err, errInjected) {
			t.Fatal(err)
		}
		check("dial "+string(rune('1'+i)), w*time.Second)
		clock.add(time.Hour) // past any backoff
	}
	d.fail.Store(false)
	if _, err := p.Get(context.Background(), Control, Target{Node: 1}); err != nil {
		t.Fatal(err)
	}
	check("the dial that succeeded", 5*time.Second)
	d.fail.Store(true)
	if _, err := p.Get(context.Background(), Produce, Target{Node: 1}); !errors.Is(err, errInjected) {
		t.Fatal(err)
	}
	check("the first dial after a success", time.Second)
}

// TestExpBackoff: Java's ExponentialBackoff with multiplier 2 and jitter 0.2.
func TestExpBackoff(t *testing.T) {
	b := newExpBackoff(100*time.Millisecond, time.Second)
	for _, c := range []struct {
		attempts int
		u        float64
		want     time.Duration
	}{
		{0, 0, 80 * time.Millisecond}, {0, 0.5, 100 * time.Millisecond}, {0, 0.999, 119960 * time.Microsecond},
		{1, 0.5, 200 * time.Millisecond}, {3, 0, 640 * time.Millisecond}, {3, 0.999, 959680 * time.Microsecond}, {4, 0.5, time.Second},
		{4, 0, 800 * time.Millisecond}, {4, 0.999, time.Second}, {40, 0.5, time.Second},
	} {
		if got := b.at(c.attempts, c.u); got != c.want {
			t.Errorf("at(%d, %v) = %v, want %v", c.attempts, c.u, got, c.want)
		}
	}
	if got := newExpBackoff(time.Second, time.Second).at(5, 0); got != time.Second {
		t.Errorf("max = initial: %v, want no growth and no jitter", got)
	}
	if got := newExpBackoff(2*time.Second, time.Second).at(0, 0.5); got != time.Second {
		t.Errorf("initial above max: %v, want max", got)
	}
}

// TestCloseDuringDial: Close stops dials under way (a connect, an ApiVersions the
// broker never answers), returns promptly, fails their waiters and leaves no goroutine.
func TestCloseDuringDial(t *testing.T) {
	fb := newFakeBroker(t)
	d := newTestDialer()
	d.gate = make(chan struct{}) // never opened: dials block until Close
	p := New(Config{Conn: broker.Options{Dialer: d.dial}, Resolve: func(int32) (string, bool) { return fb.addr(), true }})
	errs := make(chan error, 2)
	go func() {
		_, err := p.Get(context.Background(), Control, Target{Node: 1})
		errs <- err
	}()
	go func() {
		_, err := p.Get(context.Background(), Control, Target{Node: 1})
		errs <- err
	}()
	if p.TryGet(Produce, 2) != nil {
		t.Fatal("TryGet returned a connection")
	}
	<-d.entered
	<-d.entered
	start := time.Now()
	p.Close()
	if el := time.Since(start); el > time.Second {
		t.Fatalf("Close took %v with dials under way", el)
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrClosed) && !errors.Is(err, context.Canceled) {
			t.Fatalf("a waiter of the stopped dial got %v", err)
		}
	}
	if _, err := p.Get(context.Background(), Control, Target{Node: 1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	if p.TryGet(Produce, 1) != nil || d.dials.Load() != 2 {
		t.Fatalf("TryGet after Close dialed (%d dials)", d.dials.Load())
	}
	checkNoGoroutines(t)
}

// TestCloseDuringHandshake: Close while a dial waits for the broker's ApiVersions.
func TestCloseDuringHandshake(t *testing.T) {
	ln := newSilentListener(t)
	p := New(Config{Resolve: func(int32) (string, bool) { return ln, true }})
	errc := make(chan error, 1)
	go func() {
		_, err := p.Get(context.Background(), Control, Target{Node: 1})
		errc <- err
	}()
	waitFor(t, "the dial to reach the broker", func() bool { return silentAccepted.Load() > 0 })
	start := time.Now()
	p.Close()
	if el := time.Since(start); el > time.Second {
		t.Fatalf("Close took %v", el)
	}
	if err := <-errc; err == nil {
		t.Fatal("Get returned a connection from a closed pool")
	}
	checkNoGoroutines(t)
}

// TestCloseIdle: connections idle for connections.max.idle.ms close, not one with a
// request in flight; the node then backs off reconnect.backoff.ms, as after any lost
// connection (Java's ClusterConnectionStates.disconnected), and dials again after it.
func TestCloseIdle(t *testing.T) {
	fb := newFakeBroker(t)
	d := newTestDialer()
	clock := &testClock{now: time.Now()}
	p := newTestPool(t, fb, d, func(c *Config) { c.MaxIdle = time.Minute; c.Now = clock.Now })
	ctx := context.Background()
	idle, err := p.Get(ctx, Control, Target{Node: 1})
	if err != nil {
		t.Fatal(err)
	}
	busy, err := p.Get(ctx, Control, Target{Node: 2})
	if err != nil {
		t.Fatal(err)
	}
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go busy.Do(reqCtx, kmsg.NewPtrMetadataRequest()) // the broker never answers
	waitFor(t, "the request in flight", func() bool { return busy.InFlight() == 1 })
	p.closeIdle(clock.Now().Add(30 * time.Second))
	if idle.Err() != nil {
		t.Fatal("a connection idle for less than connections.max.idle.ms closed")
	}
	clock.add(2 * time.Minute)
	p.closeIdle(clock.Now())
	select {
	case <-idle.Done():
	default:
		t.Fatal("a connection idle past connections.max.idle.ms stayed open")
	}
	if busy.Err() != nil {
		t.Fatal("the connection with a request in flight was closed as idle")
	}
	if c := p.TryGet(Control, 1); c != nil || d.dials.Load() != 2 {
		t.Fatalf("TryGet right after the idle close: %p, %d dials; want nil, backing off", c, d.dials.Load())
	}
	clock.add(DefaultReconnectBackoffMax)
	again, err := p.Get(ctx, Control, Target{Node: 1})
	if err != nil || again == idle {
		t.Fatalf("Get after the idle close: (%p, %v), want a new connection", again, err)
	}
	if n := d.dials.Load(); n != 3 {
		t.Fatalf("%d dials, want 3", n)
	}
}

// TestIdleReaper: the pool's own goroutine closes idle connections.
func TestIdleReaper(t *testing.T) {
	fb := newFakeBroker(t)
	p := newTestPool(t, fb, newTestDialer(), func(c *Config) { c.MaxIdle = 20 * time.Millisecond })
	c, err := p.Get(context.Background(), Produce, Target{Node: 1})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(waitLong):
		t.Fatal("the idle connection was never closed")
	}
}

// TestLostConnectionBacksOff: a connection that dies is replaced after one
// reconnect.backoff.ms, as Java's disconnected() does.
func TestLostConnectionBacksOff(t *testing.T) {
	fb := newFakeBroker(t)
	d := newTestDialer()
	clock := &testClock{now: time.Unix(1000, 0)}
	p := newTestPool(t, fb, d, func(c *Config) { c.Now = clock.Now })
	p.rand = func() float64 { return 0.5 }
	c, err := p.Get(context.Background(), Produce, Target{Node: 1})
	if err != nil {
		t.Fatal(err)
	}
	c.Abort(errors.New("lost"))
	if p.TryGet(Produce, 1) != nil || d.dials.Load() != 1 {
		t.Fatal("a lost connection was redialed at once")
	}
	clock.add(DefaultReconnectBackoff)
	if p.TryGet(Produce, 1) != nil {
		t.Fatal("TryGet blocked on a dial")
	}
	waitFor(t, "the redial", func() bool { return p.TryGet(Produce, 1) != nil })
	p.CloseAll(Produce)
	if p.TryGet(Produce, 1) != nil {
		t.Fatal("TryGet after CloseAll returned a connection")
	}
}
