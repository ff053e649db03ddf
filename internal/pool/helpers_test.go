package pool

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// waitLong bounds waits for state that arrives at once unless the code is broken.
const waitLong = 10 * time.Second

// fakeBroker answers ApiVersions and holds every other request unanswered, so a
// connection's in-flight count is the test's to set.
type fakeBroker struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newFakeBroker(t testing.TB) *fakeBroker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fb := &fakeBroker{ln: ln}
	fb.wg.Add(1)
	go func() {
		defer fb.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			fb.mu.Lock()
			fb.conns = append(fb.conns, nc)
			fb.mu.Unlock()
			fb.wg.Add(1)
			go func() { defer fb.wg.Done(); fb.serve(nc) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		fb.mu.Lock()
		for _, c := range fb.conns {
			c.Close()
		}
		fb.mu.Unlock()
		fb.wg.Wait()
	})
	return fb
}

func (fb *fakeBroker) addr() string { return fb.ln.Addr().String() }

func (fb *fakeBroker) serve(nc net.Conn) {
	var size [4]byte
	for {
		if _, err := io.ReadFull(nc, size[:]); err != nil {
			return
		}
		req := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(nc, req); err != nil || len(req) < 8 {
			return
		}
		key, version := int16(binary.BigEndian.Uint16(req)), int16(binary.BigEndian.Uint16(req[2:]))
		if key != int16(kmsg.ApiVersions) {
			continue // held: never answered
		}
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.Version = version
		for _, k := range []kmsg.ApiVersionsResponseApiKey{{ApiKey: 18, MaxVersion: 3}, {ApiKey: 3, MaxVersion: 12}} {
			resp.ApiKeys = append(resp.ApiKeys, k)
		}
		body := resp.AppendTo(nil)
		out := binary.BigEndian.AppendUint32(nil, uint32(4+len(body)))
		out = append(out, req[4:8]...) // the correlation id; ApiVersions answers with header v0
		if _, err := nc.Write(append(out, body...)); err != nil {
			return
		}
	}
}

var errInjected = errors.New("injected dial failure")

// testDialer counts dials, records each one's setup bound, and fails, blocks or
// connects as the test says.
type testDialer struct {
	dials   atomic.Int32
	fail    atomic.Bool
	gate    chan struct{} // non-nil: each dial waits for it (or its ctx) first
	entered chan struct{} // receives once per dial
	mu      sync.Mutex
	bounds  []time.Duration // socket.connection.setup.timeout.ms each dial had
}

func newTestDialer() *testDialer { return &testDialer{entered: make(chan struct{}, 64)} }

func (d *testDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.dials.Add(1)
	if dl, ok := ctx.Deadline(); ok {
		d.mu.Lock()
		d.bounds = append(d.bounds, time.Until(dl))
		d.mu.Unlock()
	}
	d.entered <- struct{}{}
	if d.gate != nil {
		select {
		case <-d.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if d.fail.Load() {
		return nil, errInjected
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func (d *testDialer) lastBound() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bounds[len(d.bounds)-1]
}

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// poolGoroutines counts goroutines running pool or broker code (a dial, a
// connection's loops), except the caller's.
func poolGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue
		}
		if strings.Contains(g, "github.com/kprod-io/kprod/internal/pool.(*Pool)") || strings.Contains(g, "github.com/kprod-io/kprod/internal/broker.") {
			n++
		}
	}
	return n
}

// checkNoGoroutines waits for the pool's and its connections' goroutines to end: only
// a leak uses up the deadline.
func checkNoGoroutines(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(waitLong); poolGoroutines() > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines left:\n%s", buf[:runtime.Stack(buf, true)])
		}
	}
}

// waitFor polls cond, which reads state another goroutine changes, until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitLong); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitLong)
		}
	}
}

// silentAccepted counts connections a silent listener accepted.
var silentAccepted atomic.Int32

// newSilentListener accepts connections and never answers: a dial waits in ApiVersions.
func newSilentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			silentAccepted.Add(1)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}
