package broker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Re-authentication (KIP-368). A broker with connections.max.reauth.ms (or an
// OAUTHBEARER token's expiry) gives each SASL session a lifetime in the
// SaslAuthenticate response and closes a connection whose session has expired on its
// next request. The connection therefore authenticates again, on the same socket,
// before then: the write loop runs the SaslHandshake and SaslAuthenticate exchange
// itself and writes nothing else until it ends (librdkafka#4301). Requests written
// before it keep going and complete in order (the broker answers them before it reads
// the handshake); requests queued meanwhile wait and are written after. A failed
// re-authentication closes the connection, failing in-flight requests as any lost
// connection does (maybe written, retriable); the next dial authenticates anew.

// minReauthInterval is the least time between two re-authentications of a connection:
// the broker treats an earlier SaslHandshake as an ordinary, failing request
// (KafkaChannel.MIN_REAUTH_INTERVAL_ONE_SECOND_NANOS).
const minReauthInterval = time.Second

// reauthPlan says when to re-authenticate a session whose authentication started at
// start and ended at end, with the broker's lifetime and u uniform in [0,1):
//
//   - due: as Java's SaslClientAuthenticator, at a random 85% to 95% of the lifetime
//     after end, but no later than the session's end counted from start (a slow
//     exchange must not push it past expiry) and no sooner than minReauthInterval
//     after start, so a short lifetime cannot cause a re-authentication loop
//     (twmb/franz-go#249, #250);
//   - expires: the session's end counted from start, which is never later than the
//     broker's. Nothing may be written from then until the re-authentication: with a
//     lifetime under a second, requests wait for due rather than reach the broker on
//     an expired session, which closes the connection.
func reauthPlan(start, end time.Time, lifetime time.Duration, u float64) (due, expires time.Time) {
	expires = start.Add(lifetime)
	due = end.Add(time.Duration(float64(lifetime) * (0.85 + 0.10*u)))
	if due.After(expires) {
		due = expires
	}
	if floor := start.Add(minReauthInterval); due.Before(floor) {
		due = floor
	}
	return due, expires
}

// reauthState is a connection's re-authentication schedule: written when an
// authentication ends (by Dial, then by the write loop), read by the write loop.
type reauthState struct {
	due, expires atomic.Int64 // unix nanos; 0: no re-authentication
	count        atomic.Int64 // re-authentications that succeeded

	// Write loop only.
	timer   *time.Timer
	timerAt int64
}

// scheduled records a finished authentication and its session lifetime (0: none).
func (r *reauthState) scheduled(start, end time.Time, lifetime time.Duration) {
	if lifetime <= 0 {
		r.due.Store(0)
		r.expires.Store(0)
		return
	}
	due, expires := reauthPlan(start, end, lifetime, rand.Float64())
	r.expires.Store(expires.UnixNano())
	r.due.Store(due.UnixNano())
}

// timerC returns a channel that fires when the re-authentication is due, arming the
// timer for the current schedule; nil when none is scheduled.
func (r *reauthState) timerC() <-chan time.Time {
	due := r.due.Load()
	if due == 0 {
		return nil
	}
	if r.timer == nil {
		r.timer = time.NewTimer(time.Until(time.Unix(0, due)))
	} else if due != r.timerAt {
		r.timer.Reset(time.Until(time.Unix(0, due)))
	}
	r.timerAt = due
	return r.timer.C
}

func (r *reauthState) stop() {
	if r.timer != nil {
		r.timer.Stop()
	}
}

// Reauthentications returns how many times the connection re-authenticated (KIP-368).
func (c *Conn) Reauthentications() int64 { return c.reauth.count.Load() }

// maybeReauthenticate re-authenticates on the write loop when the session needs it
// before anything more is written: when it is due, or when the session has expired
// and a re-authentication would come too soon after the last one (then it waits).
// An error means the connection must close.
func (c *Conn) maybeReauthenticate() error {
	due := c.reauth.due.Load()
	if due == 0 {
		return nil
	}
	now := time.Now().UnixNano()
	if now < due {
		expires := c.reauth.expires.Load()
		c.mu.Lock()
		waiting := len(c.queue) > 0
		c.mu.Unlock()
		if now < expires || !waiting {
			return nil
		}
		t := time.NewTimer(time.Duration(due - now))
		select {
		case <-t.C:
		case <-c.dying:
			t.Stop()
			return c.closeErr
		}
	}
	return c.reauthenticate()
}

func (c *Conn) reauthenticate() error {
	// The exchange, token fetch included, is bounded by request.timeout.ms, and ends
	// when the connection dies (Close waits for the write loop).
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.RequestTimeout)
	defer cancel()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-c.dying:
			cancel()
		case <-finished:
		}
	}()
	start := time.Now()
	lifetime, err := authenticate(ctx, c.addr, c.versions, c.opts.SASL, true, c.w.roundTrip)
	if err != nil {
		return err
	}
	c.reauth.scheduled(start, time.Now(), lifetime)
	c.reauth.count.Add(1)
	return nil
}

// roundTrip writes one request at once, ahead of anything queued, and waits for its
// response: the write loop's own Do, for the re-authentication exchange. The request
// holds no in-flight slot, which may all be held by queued requests.
func (w *writeLoop) roundTrip(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	c := w.c
	r, ch, err := c.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	r.slotless = true
	w.batch = append(w.batch[:0], r)
	err = w.writeBatch()
	clear(w.batch)
	w.batch = w.batch[:0]
	if err != nil {
		return nil, c.requestError(r.key, false, err)
	}
	select {
	case res := <-ch:
		return res.resp, res.err
	case <-c.dying:
		return nil, c.requestError(r.key, true, c.closeErr)
	case <-ctx.Done():
		return nil, c.requestError(r.key, true, fmt.Errorf("%w: re-authentication: %w", ErrTimeout, ctx.Err()))
	}
}
