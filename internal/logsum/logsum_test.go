package logsum

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// capture is an slog.Handler keeping every record, for assertions.
type capture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r)
	return nil
}
func (c *capture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *capture) WithGroup(string) slog.Handler      { return c }

func (c *capture) messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.recs {
		out = append(out, r.Level.String()+" "+r.Message)
	}
	return out
}

func TestRepeatsAreCountedThenSummarised(t *testing.T) {
	var h capture
	now := time.Unix(1000, 0)
	l := New(slog.New(&h), time.Minute, func() time.Time { return now })

	l.Warn("dial a", "cannot connect to broker", "addr", "a")
	for range 56 { // one a second, as reconnect.backoff.max.ms paces dials
		now = now.Add(time.Second)
		l.Warn("dial a", "cannot connect to broker", "addr", "a")
	}
	l.Warn("dial b", "cannot connect to broker", "addr", "b") // another key: logged
	if got := h.messages(); len(got) != 2 {
		t.Fatalf("within the interval: %q, want the first of each key only", got)
	}
	now = now.Add(4 * time.Second) // 60s after the first
	l.Warn("dial a", "cannot connect to broker", "addr", "a")
	got := h.messages()
	want := "WARN cannot connect to broker (repeated 57 times in the last 1m0s)"
	if len(got) != 3 || got[2] != want {
		t.Fatalf("after the interval: %q, want last %q", got, want)
	}
	now = now.Add(2 * time.Minute) // a lone event after a quiet spell: no count
	l.Warn("dial a", "cannot connect to broker", "addr", "a")
	if got := h.messages(); got[3] != "WARN cannot connect to broker" {
		t.Fatalf("lone event: %q", got[3])
	}
}

func TestResolvedLogsTheEndOnlyAfterFailures(t *testing.T) {
	var h capture
	now := time.Unix(1000, 0)
	l := New(slog.New(&h), time.Minute, func() time.Time { return now })
	l.Resolved("dial a", "connected") // no failure before: nothing
	if got := h.messages(); len(got) != 0 {
		t.Fatalf("resolved without failures logged %q", got)
	}
	l.Warn("dial a", "cannot connect")
	l.Warn("dial a", "cannot connect")
	l.Warn("dial a", "cannot connect")
	l.Resolved("dial a", "connected")
	l.Warn("dial a", "cannot connect") // a new run: logged at once
	got := h.messages()
	want := []string{"WARN cannot connect", "INFO connected", "WARN cannot connect"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	h.mu.Lock()
	var unlogged int64
	h.recs[1].Attrs(func(a slog.Attr) bool {
		if a.Key == "unlogged_failures" {
			unlogged = a.Value.Int64()
		}
		return true
	})
	h.mu.Unlock()
	if unlogged != 2 {
		t.Fatalf("unlogged_failures = %d, want 2", unlogged)
	}
}

func TestDisabledLevelKeepsNoState(t *testing.T) {
	l := New(slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelInfo})), 0, nil)
	for range 10 {
		l.Debug("k", "retrying")
	}
	if len(l.kinds) != 0 {
		t.Fatalf("a disabled level kept %d keys", len(l.kinds))
	}
}

func TestKeysAreBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(slog.New(&capture{}), time.Minute, func() time.Time { return now })
	for i := range 3 * maxKinds {
		if i%maxKinds == 0 {
			now = now.Add(2 * time.Minute)
		}
		l.Warn(string(rune(i)), "x")
	}
	if len(l.kinds) == 0 || len(l.kinds) > maxKinds {
		t.Fatalf("%d keys remembered, bound %d", len(l.kinds), maxKinds)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
