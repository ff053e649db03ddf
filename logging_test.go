package kprod_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// logCapture is an slog.Handler keeping every record the producer logs (issue 13 item 4).
type logCapture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r)
	return nil
}

// count returns how many records at level or above have a message starting with prefix.
func (c *logCapture) count(level slog.Level, prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.recs {
		if r.Level >= level && strings.HasPrefix(r.Message, prefix) {
			n++
		}
	}
	return n
}

// since returns the messages of the records from index i on at level or above.
func (c *logCapture) since(i int, level slog.Level) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.recs[i:] {
		if r.Level >= level {
			out = append(out, r.Level.String()+" "+r.Message)
		}
	}
	return out
}

func (c *logCapture) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.recs)
}

// refusingDialer fails every dial as an unreachable broker does, counting them.
type refusingDialer struct{ dials atomic.Int64 }

func (d *refusingDialer) dial(_ context.Context, network, addr string) (net.Conn, error) {
	d.dials.Add(1)
	return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
}

// TestUnreachableClusterLogsOnceNotPerDial: a Send to a cluster nobody answers for
// redials every reconnect.backoff.max.ms; the log gets the first failure of each kind
// (dial, metadata refresh), not a line per attempt, and Close adds nothing at WARN.
func TestUnreachableClusterLogsOnceNotPerDial(t *testing.T) {
	var logs logCapture
	var d refusingDialer
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{"127.0.0.1:1"},
		MaxBlock: 1500 * time.Millisecond, ReconnectBackoff: 10 * time.Millisecond, ReconnectBackoffMax: 20 * time.Millisecond,
		RetryBackoff: 10 * time.Millisecond, RetryBackoffMax: 20 * time.Millisecond},
		kprod.WithLogger(slog.New(&logs)), kprod.WithDialer(d.dial))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.SendSync(context.Background(), &kprod.Record{Topic: "t", Value: []byte("v")})
	if !errors.Is(err, kprod.ErrMetadataTimeout) {
		t.Fatalf("Send = %v, want ErrMetadataTimeout", err)
	}
	if n := d.dials.Load(); n < 5 {
		t.Fatalf("only %d dials in max.block.ms: the test proves nothing", n)
	}
	if n := logs.count(slog.LevelWarn, "kprod: cannot connect to broker"); n != 1 {
		t.Errorf("%d dial failures logged for %d dials, want 1 (the first; the rest counted)", n, d.dials.Load())
	}
	if n := logs.count(slog.LevelWarn, "kprod: metadata refresh failed"); n != 1 {
		t.Errorf("%d metadata refresh failures logged, want 1", n)
	}
	before := logs.len()
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := logs.since(before, slog.LevelWarn); len(got) > 0 {
		t.Errorf("Close logged %q", got)
	}
}

// TestNormalCloseLogsNothingAtWarn: a producer that delivered its records and closes
// logs nothing at WARN or above at any point (an operator pages on WARN).
func TestNormalCloseLogsNothingAtWarn(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("quiet", 3))
	var logs logCapture
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap()}, kprod.WithLogger(slog.New(&logs)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		p.Send(context.Background(), &kprod.Record{Topic: "quiet", Key: []byte{byte(i)}, Value: []byte("v")}, nil)
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := logs.since(0, slog.LevelWarn); len(got) > 0 {
		t.Errorf("a normal run and Close logged %q", got)
	}
}

// failingInterceptor fails every OnSend.
type failingInterceptor struct{}

func (failingInterceptor) OnSend(r kprod.Record) (kprod.Record, error) {
	return r, errors.New("no")
}
func (failingInterceptor) OnAcknowledgement(kprod.RecordMetadata, error) {}

// TestFailingInterceptorLogsOnceNotPerRecord: an interceptor whose OnSend fails for every
// record is logged once, not per record.
func TestFailingInterceptorLogsOnceNotPerRecord(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("icpt", 1))
	var logs logCapture
	p := newProducer(t, c.Bootstrap(), nil, kprod.WithLogger(slog.New(&logs)), kprod.WithInterceptors(failingInterceptor{}))
	for range 50 {
		if _, err := p.SendSync(context.Background(), &kprod.Record{Topic: "icpt", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	if n := logs.count(slog.LevelWarn, "kprod: interceptor OnSend failed"); n != 1 {
		t.Fatalf("%d lines for 50 failed OnSend calls, want 1", n)
	}
}

// TestWithLoggerNilIsSilent: WithLogger(nil) discards, rather than panicking.
func TestWithLoggerNilIsSilent(t *testing.T) {
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{"127.0.0.1:1"}}, kprod.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
