package sasl

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Refresh says when RefreshingToken replaces a token: the sasl.login.refresh.*
// properties of Java's ExpiringCredentialRefreshingLogin. A zero field takes Java's
// default; a negative one means 0.
type Refresh struct {
	// WindowFactor is sasl.login.refresh.window.factor: refresh once this fraction of
	// the token's lifetime has passed, 0.5 to 1.0. Default 0.8.
	WindowFactor float64
	// WindowJitter is sasl.login.refresh.window.jitter: a random fraction of the
	// lifetime, up to this much, added to WindowFactor, 0 to 0.25. Default 0.05.
	WindowJitter float64
	// MinPeriod is sasl.login.refresh.min.period.seconds: never refresh sooner than
	// this after getting a token, 0 to 900s. Default 60s.
	MinPeriod time.Duration
	// Buffer is sasl.login.refresh.buffer.seconds: refresh at least this long before
	// the token expires, 0 to 3600s. Default 300s.
	Buffer time.Duration
}

// Java's defaults for the sasl.login.refresh.* properties.
const (
	DefaultRefreshWindowFactor = 0.8
	DefaultRefreshWindowJitter = 0.05
	DefaultRefreshMinPeriod    = 60 * time.Second
	DefaultRefreshBuffer       = 300 * time.Second
)

// retryAfterFailure is how long a token that failed to refresh is kept before trying
// again (ExpiringCredentialRefreshingLogin's DELAY_SECONDS_BEFORE_NEXT_RETRY_WHEN_RELOGIN_FAILS).
const retryAfterFailure = 10 * time.Second

func (r Refresh) resolved() Refresh {
	return Refresh{WindowFactor: orDefault(r.WindowFactor, DefaultRefreshWindowFactor),
		WindowJitter: orDefault(r.WindowJitter, DefaultRefreshWindowJitter),
		MinPeriod:    orDefault(r.MinPeriod, DefaultRefreshMinPeriod), Buffer: orDefault(r.Buffer, DefaultRefreshBuffer)}
}

// orDefault resolves a setting whose zero means the default and negative means 0.
func orDefault[T float64 | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// refreshAt is ExpiringCredentialRefreshingLogin.refreshMs for a token got at now that
// expires at expiry: at WindowFactor plus up to WindowJitter (jitter is in [0,1)) of
// its lifetime, but no later than Buffer before expiry and no sooner than MinPeriod
// after now; when the lifetime cannot hold both MinPeriod and Buffer, at that fraction
// of the remaining lifetime.
func (r Refresh) refreshAt(now, expiry time.Time, jitter float64) time.Time {
	pct := r.WindowFactor + r.WindowJitter*jitter
	if now.Add(r.MinPeriod + r.Buffer).After(expiry) {
		return now.Add(time.Duration(float64(expiry.Sub(now)) * pct))
	}
	at := now.Add(time.Duration(float64(expiry.Sub(now)) * pct))
	if bufferStart := expiry.Add(-r.Buffer); at.After(bufferStart) {
		return bufferStart
	}
	if minAt := now.Add(r.MinPeriod); at.Before(minAt) {
		return minAt
	}
	return at
}

// refreshing caches a TokenSource's token.
type refreshing struct {
	src    TokenSource
	cfg    Refresh
	now    func() time.Time
	jitter func() float64

	mu        sync.Mutex // guards the rest; held while fetching, so one fetch at a time
	tok       Token
	have      bool
	refreshAt time.Time // zero: keep the token (its expiry is unknown)
}

// RefreshingToken caches src's token and fetches a new one when the refresh window of
// r says so, as Java's refreshing login does for OAUTHBEARER. The fetch happens in the
// Token call that finds the cached token due (at most one at a time); if it fails
// while the cached token is still valid, the cached one is used and the fetch is tried
// again 10 seconds later.
func RefreshingToken(src TokenSource, r Refresh) TokenSource {
	return &refreshing{src: src, cfg: r.resolved(), now: time.Now, jitter: rand.Float64}
}

func (c *refreshing) Token(ctx context.Context) (Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.have && (c.refreshAt.IsZero() || now.Before(c.refreshAt)) {
		return c.tok, nil
	}
	t, err := c.src.Token(ctx)
	if err != nil {
		if c.have && (c.tok.Expiry.IsZero() || now.Before(c.tok.Expiry)) {
			c.refreshAt = now.Add(retryAfterFailure)
			return c.tok, nil
		}
		return Token{}, err
	}
	c.tok, c.have, c.refreshAt = t, true, time.Time{}
	if !t.Expiry.IsZero() {
		c.refreshAt = c.cfg.refreshAt(now, t.Expiry, c.jitter())
		if !c.refreshAt.After(now) {
			// Already expired (a clock skew?): Java retries 10 seconds later.
			c.refreshAt = now.Add(retryAfterFailure)
		}
	}
	return t, nil
}
