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
// when a request is about to be written after the re-authentication time, as Java's
// KafkaChannel does it lazily from NetworkClient's send: no timer, and an idle
// connection does not re-authenticate (the broker closes it on its next request only
// if the client sends one on an expired session, which this never does). The write
// loop runs the SaslHandshake and SaslAuthenticate exchange itself and writes nothing
// else until it ends (librdkafka#4301). Requests written before it keep going and
// complete in order (the broker answers them before it reads the handshake); the
// request that triggered it and those queued meanwhile wait and are written after.
// A re-authentication the broker refuses closes the connection with that
// authentication error (ErrAuthentication), failing in-flight requests as any lost
// connection does (maybe written, retriable); the next dial authenticates anew and
// reports the refusal if the broker still refuses.

// maxSessionLifetime bounds the session lifetime taken from a broker.
const maxSessionLifetime = 365 * 24 * time.Hour

// sessionLifetime turns SaslAuthenticate's session_lifetime_ms, which is broker input,
// into the lifetime to plan with: 0 (no re-authentication) for zero or a negative
// value, at most maxSessionLifetime, so that neither the conversion to a Duration nor
// the schedule's time arithmetic can overflow into the past.
func sessionLifetime(ms int64) time.Duration {
	if ms <= 0 {
		return 0
	}
	if ms >= maxSessionLifetime.Milliseconds() {
		return maxSessionLifetime
	}
	return time.Duration(ms) * time.Millisecond
}

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
	// running is when the write loop started holding queued requests back for a
	// re-authentication (unix nanos), 0 when it is not: a Do whose ctx ends meanwhile
	// says so (waitedError).
	running atomic.Int64

	// ack lets the read loop go on after it completed a re-authentication request: it
	// waits for the write loop to judge the response first, so that a broker closing
	// the connection right after refusing (as Kafka does) cannot make the close, not
	// the refusal, the connection's error. Capacity 1.
	ack chan struct{}
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

// Reauthentications returns how many times the connection re-authenticated (KIP-368).
func (c *Conn) Reauthentications() int64 { return c.reauth.count.Load() }

// maybeReauthenticate runs on the write loop before it takes queued requests: when
// one is waiting and the session is due for re-authentication, it re-authenticates
// first; when the session has expired but a re-authentication would come too soon
// after the last one (a lifetime under minReauthInterval), it waits for that rather
// than write on an expired session. With nothing queued it does nothing: an idle
// connection does not re-authenticate. An error means the connection has closed.
func (c *Conn) maybeReauthenticate() error {
	due := c.reauth.due.Load()
	if due == 0 {
		return nil
	}
	c.mu.Lock()
	waiting := len(c.queue) > 0
	c.mu.Unlock()
	if !waiting {
		return nil
	}
	now := time.Now().UnixNano()
	if now < due && now < c.reauth.expires.Load() {
		return nil
	}
	c.reauth.running.Store(now)
	defer c.reauth.running.Store(0)
	if now < due {
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
	// Runs last: the read loop goes on only once the outcome is recorded.
	defer c.w.release()
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
		c.shutdown(err)
		return err
	}
	c.reauth.scheduled(start, time.Now(), lifetime)
	c.reauth.count.Add(1)
	return nil
}

// release lets the read loop read past the last re-authentication response.
func (w *writeLoop) release() {
	if w.held {
		w.held = false
		select {
		case w.c.reauth.ack <- struct{}{}:
		default: // the read loop went on because the connection is dying
		}
	}
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
	w.release()
	w.batch = append(w.batch[:0], r)
	err = w.writeBatch()
	clear(w.batch)
	w.batch = w.batch[:0]
	if err != nil {
		return nil, c.requestError(r.key, false, err)
	}
	select {
	case res := <-ch:
		w.held = res.err == nil // the read loop waits for release
		return res.resp, res.err
	case <-c.dying:
		select {
		case res := <-ch: // answered just before the close: the answer counts
			w.held = res.err == nil
			return res.resp, res.err
		default:
		}
		return nil, c.requestError(r.key, true, c.closeErr)
	case <-ctx.Done():
		return nil, c.requestError(r.key, true, fmt.Errorf("%w: re-authentication: %w", ErrTimeout, ctx.Err()))
	}
}
