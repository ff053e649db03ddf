package sasl

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRefreshAt follows ExpiringCredentialRefreshingLogin.refreshMs on Java's defaults
// (factor 0.8, jitter 0.05, min period 60s, buffer 300s).
func TestRefreshAt(t *testing.T) {
	def := Refresh{}.resolved()
	t0 := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name     string
		r        Refresh
		lifetime time.Duration
		jitter   float64
		want     time.Duration // after t0
	}{
		{"one hour, no jitter", def, time.Hour, 0, 48 * time.Minute},
		{"one hour, full jitter", def, time.Hour, 1, 51 * time.Minute},
		{"ten minutes: the 300s buffer wins", def, 10 * time.Minute, 0, 5 * time.Minute},
		{"six minutes: exactly 60s + 300s, the buffer wins", def, 6 * time.Minute, 0, time.Minute},
		{"five minutes: no room for 60s + 300s", def, 5 * time.Minute, 0, 4 * time.Minute},
		{"two minutes", def, 2 * time.Minute, 0.5, time.Duration(0.825 * float64(2*time.Minute))},
		{"min period wins", Refresh{WindowFactor: 0.5, MinPeriod: 10 * time.Minute, Buffer: -1}.resolved(), 15 * time.Minute, 0, 10 * time.Minute},
		{"zero buffer and period", Refresh{WindowFactor: 1, WindowJitter: -1, MinPeriod: -1, Buffer: -1}.resolved(), time.Hour, 0.9, time.Hour},
	}
	for _, c := range cases {
		got := c.r.refreshAt(t0, t0.Add(c.lifetime), c.jitter).Sub(t0)
		if got != c.want {
			t.Errorf("%s: refresh after %v, want %v", c.name, got, c.want)
		}
	}
	if def != (Refresh{WindowFactor: 0.8, WindowJitter: 0.05, MinPeriod: time.Minute, Buffer: 5 * time.Minute}) {
		t.Errorf("defaults %+v", def)
	}
}

// fakeSource counts fetches and hands out tokens expiring lifetime after its clock.
type fakeSource struct {
	now      *time.Time
	lifetime time.Duration
	fetches  int
	fail     error
}

func (f *fakeSource) Token(context.Context) (Token, error) {
	f.fetches++
	if f.fail != nil {
		return Token{}, f.fail
	}
	return Token{Value: "t" + string(rune('0'+f.fetches)), Expiry: f.now.Add(f.lifetime)}, nil
}

// TestRefreshingToken: the token is cached until its refresh time, then replaced; a
// failed refresh keeps the still valid token and tries again 10 seconds later; an
// expired one is not handed out.
func TestRefreshingToken(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	src := &fakeSource{now: &now, lifetime: time.Hour}
	c := RefreshingToken(src, Refresh{WindowJitter: -1}).(*refreshing)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	get := func() string {
		t.Helper()
		tok, err := c.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Value
	}
	if v := get(); v != "t1" {
		t.Fatalf("first token %s", v)
	}
	now = now.Add(47 * time.Minute)
	if v := get(); v != "t1" || src.fetches != 1 {
		t.Fatalf("before the refresh time: %s after %d fetches", v, src.fetches)
	}
	now = now.Add(time.Minute) // 48 minutes: 0.8 of the hour
	if v := get(); v != "t2" || src.fetches != 2 {
		t.Fatalf("at the refresh time: %s after %d fetches", v, src.fetches)
	}

	now = now.Add(48 * time.Minute)
	src.fail = errors.New("endpoint down")
	if v := get(); v != "t2" || src.fetches != 3 {
		t.Fatalf("failed refresh: %s after %d fetches", v, src.fetches)
	}
	now = now.Add(9 * time.Second)
	if v := get(); v != "t2" || src.fetches != 3 {
		t.Fatalf("retried before 10s: %s after %d fetches", v, src.fetches)
	}
	now = now.Add(time.Second)
	get()
	if src.fetches != 4 {
		t.Fatalf("no retry after 10s: %d fetches", src.fetches)
	}
	now = now.Add(13 * time.Minute) // past t2's expiry
	if _, err := c.Token(ctx); !errors.Is(err, src.fail) {
		t.Fatalf("expired token handed out: %v", err)
	}
	src.fail = nil
	if v := get(); v != "t6" {
		t.Fatalf("recovery: %s", v)
	}
}

// TestRefreshingTokenUnknownExpiry: a token without expiry is kept.
func TestRefreshingTokenUnknownExpiry(t *testing.T) {
	n := 0
	c := RefreshingToken(TokenSourceFunc(func(context.Context) (Token, error) {
		n++
		return Token{Value: "t"}, nil
	}), Refresh{})
	for range 3 {
		c.Token(context.Background())
	}
	if n != 1 {
		t.Errorf("%d fetches", n)
	}
}
