package chaos

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoServer answers every line with the same line; it counts connections it saw end.
type echoServer struct {
	ln     net.Listener
	mu     sync.Mutex
	errs   []error // how each server-side connection ended
	wg     sync.WaitGroup
	closed chan struct{}
}

func newEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln, closed: make(chan struct{})}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				defer c.Close()
				_, err := io.Copy(c, c)
				e.mu.Lock()
				e.errs = append(e.errs, err)
				e.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); e.wg.Wait() })
	return e
}

func (e *echoServer) ended() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

func newTestProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := NewProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dialProxy(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// roundTrip sends a line and returns the echo and how long it took.
func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, line string, timeout time.Duration) (string, time.Duration, error) {
	t.Helper()
	start := time.Now()
	c.SetDeadline(start.Add(timeout))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", 0, err
	}
	got, err := r.ReadString('\n')
	return got, time.Since(start), err
}

// waitFor polls cond (state of sockets and goroutines no hook reports) until it holds;
// the deadline only ends a test that is already broken.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestProxyForwards(t *testing.T) {
	e := newEcho(t)
	p := newTestProxy(t, e.ln.Addr().String())
	c, r := dialProxy(t, p)
	for _, line := range []string{"a", "hello", string(make([]byte, 100000))} {
		got, _, err := roundTrip(t, c, r, line, 5*time.Second)
		if err != nil || got != line+"\n" {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(line), len(got), err)
		}
	}
	if p.Accepted() != 1 || p.Active() != 1 {
		t.Fatalf("accepted %d, active %d", p.Accepted(), p.Active())
	}
	c.Close()
	waitFor(t, "the link to close", func() bool { return p.Active() == 0 })
}

func TestProxyResetSendsRSTBothWays(t *testing.T) {
	e := newEcho(t)
	p := newTestProxy(t, e.ln.Addr().String())
	c, r := dialProxy(t, p)
	if _, _, err := roundTrip(t, c, r, "x", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := p.Reset(); n != 1 {
		t.Fatalf("Reset() = %d, want 1", n)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err := r.ReadString('\n')
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read after reset: %v, want ECONNRESET", err)
	}
	waitFor(t, "the broker side to see the reset", func() bool { return len(e.ended()) == 1 })
	if err := e.ended()[0]; !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("server side ended with %v, want ECONNRESET", err)
	}
	// New connections work again.
	c2, r2 := dialProxy(t, p)
	if got, _, err := roundTrip(t, c2, r2, "y", 5*time.Second); err != nil || got != "y\n" {
		t.Fatalf("after reset: %q %v", got, err)
	}
}

func TestProxyBlackholeHoldsThenDelivers(t *testing.T) {
	e := newEcho(t)
	p := newTestProxy(t, e.ln.Addr().String())
	c, r := dialProxy(t, p)
	if _, _, err := roundTrip(t, c, r, "before", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.SetBlackhole(true)
	p.SetBlackhole(true) // idempotent
	_, _, err := roundTrip(t, c, r, "held", 300*time.Millisecond)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("round trip while blackholed: %v, want a timeout", err)
	}
	// A new connection is accepted but gets nothing either.
	c2, r2 := dialProxy(t, p)
	if _, _, err := roundTrip(t, c2, r2, "new", 200*time.Millisecond); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("new connection while blackholed: %v, want a timeout", err)
	}
	if p.Active() != 2 {
		t.Fatalf("active = %d, want 2 (blackholed connections stay open)", p.Active())
	}
	p.SetBlackhole(false)
	p.SetBlackhole(false)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "held\n" {
		t.Fatalf("held data after the blackhole: %q %v", got, err)
	}
	c2.SetDeadline(time.Now().Add(5 * time.Second))
	if got, err := r2.ReadString('\n'); err != nil || got != "new\n" {
		t.Fatalf("new connection after the blackhole: %q %v", got, err)
	}
}

func TestProxyDelayAddsLatencyKeepsOrder(t *testing.T) {
	e := newEcho(t)
	p := newTestProxy(t, e.ln.Addr().String())
	c, r := dialProxy(t, p)
	_, fast, err := roundTrip(t, c, r, "fast", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy's feature is time itself, so this test measures it: d is large enough
	// that a loaded machine's scheduling delays stay well inside the bounds below
	// (serialised pipelined trips would take 10d, overlapped ones about 2d).
	const d = 300 * time.Millisecond
	p.SetDelay(d)
	_, slow, err := roundTrip(t, c, r, "slow", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Both directions are delayed: at least 2d per round trip.
	if slow < 2*d {
		t.Fatalf("round trip with %s delay took %s (without: %s), want >= %s", d, slow, fast, 2*d)
	}
	// Pipelined writes come back in order and overlap their delays.
	c.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	for i := 0; i < 5; i++ {
		io.WriteString(c, string(rune('a'+i))+"\n")
		time.Sleep(10 * time.Millisecond) // separate writes, so each is delayed on its own
	}
	for i := 0; i < 5; i++ {
		got, err := r.ReadString('\n')
		if err != nil || got != string(rune('a'+i))+"\n" {
			t.Fatalf("pipelined reply %d: %q %v", i, got, err)
		}
	}
	if el := time.Since(start); el > 5*d {
		t.Fatalf("5 pipelined round trips took %s: the delay is serialising them", el)
	}
	p.SetDelay(0)
	if _, quick, err := roundTrip(t, c, r, "quick", 5*time.Second); err != nil || quick > d {
		t.Fatalf("after removing the delay: %s %v", quick, err)
	}
}

func TestProxyBrokerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := newTestProxy(t, addr)
	// The proxy resets the client at once: the dial itself may see the reset.
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
		t.Fatal("read through a proxy to a dead broker succeeded")
	}
}

func TestProxyCloseEndsEverything(t *testing.T) {
	e := newEcho(t)
	p, err := NewProxy(e.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, r := dialProxy(t, p)
	roundTrip(t, c, r, "x", 5*time.Second)
	p.SetBlackhole(true)
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung on a blackholed connection")
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Fatal("proxy still accepts after Close")
	}
}
