package kprod_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
)

// TestOneDialPolicy: the metadata refresher, the transaction manager and the sender reach
// brokers through one pool with one dial policy per broker (issue 11): with
// reconnect.backoff.ms an hour, a bootstrap server that refuses is dialed once, however
// often metadata is wanted (retry.backoff.ms is a millisecond here) and whoever wants it,
// as Java's NetworkClient skips a node in its reconnect backoff. The refresher used to
// dial on every refresh.
func TestOneDialPolicy(t *testing.T) {
	var dials atomic.Int32
	refused := errors.New("refused by the test")
	dialer := func(context.Context, string, string) (net.Conn, error) {
		dials.Add(1)
		return nil, refused
	}
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{"127.0.0.1:9"}, TransactionalID: "policy",
		ReconnectBackoff: time.Hour, ReconnectBackoffMax: time.Hour, RetryBackoff: time.Millisecond,
		RetryBackoffMax: time.Millisecond, MaxBlock: 300 * time.Millisecond}, kprod.WithDialer(dialer))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := p.InitTransactions(context.Background()); err == nil {
		t.Fatal("InitTransactions succeeded without a broker")
	}
	if _, err := p.PartitionsFor(context.Background(), "t"); err == nil {
		t.Fatal("PartitionsFor succeeded without a broker")
	}
	if n := dials.Load(); n != 1 {
		t.Fatalf("%d dials to a refusing bootstrap server within its reconnect backoff, want 1", n)
	}
}

// TestSetupTimeoutGrowsForMetadata: socket.connection.setup.timeout.ms doubles per failed
// dial of a broker up to socket.connection.setup.timeout.max.ms (KIP-601) for every
// connection, the metadata refresher's too (it used to dial with the first timeout
// always). Jitter is Java's 20%.
func TestSetupTimeoutGrowsForMetadata(t *testing.T) {
	var mu sync.Mutex
	var bounds []time.Duration
	dialer := func(ctx context.Context, _, _ string) (net.Conn, error) {
		if dl, ok := ctx.Deadline(); ok {
			mu.Lock()
			bounds = append(bounds, time.Until(dl))
			mu.Unlock()
		}
		return nil, errors.New("refused by the test")
	}
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{"127.0.0.1:9"},
		SocketConnectionSetupTimeout: time.Second, SocketConnectionSetupTimeoutMax: 8 * time.Second,
		ReconnectBackoff: time.Millisecond, ReconnectBackoffMax: time.Millisecond,
		RetryBackoff: time.Millisecond, RetryBackoffMax: time.Millisecond}, kprod.WithDialer(dialer))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	want := []time.Duration{1, 2, 4, 8, 8}
	var got []time.Duration
	for deadline := time.Now().Add(waitLong); len(got) < len(want); time.Sleep(time.Millisecond) {
		mu.Lock()
		got = append([]time.Duration(nil), bounds...)
		mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("%d dials within %v, want %d", len(got), waitLong, len(want))
		}
	}
	for i, w := range want {
		w *= time.Second
		lo, hi := w*8/10-100*time.Millisecond, min(w*12/10, 8*time.Second)
		if got[i] < lo || got[i] > hi {
			t.Errorf("dial %d: setup timeout %v, want %v +-20%%", i+1, got[i], w)
		}
	}
}
