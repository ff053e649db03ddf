package broker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Pool defaults; they are Kafka's producer defaults.
const (
	DefaultConnectionsMaxIdle  = 9 * time.Minute
	DefaultReconnectBackoff    = 50 * time.Millisecond
	DefaultReconnectBackoffMax = time.Second
)

// ErrPoolClosed is returned by Pool.Get after Pool.Close.
var ErrPoolClosed = errors.New("kprod: broker connection pool closed")

// PoolOptions configure a Pool. The zero value of every field means Kafka's
// default.
type PoolOptions struct {
	// Conn configures each connection.
	Conn Options
	// ConnectionsMaxIdle is connections.max.idle.ms: a connection with
	// nothing in flight that has not been used for this long is closed.
	// Default 9 minutes.
	ConnectionsMaxIdle time.Duration
	// ReconnectBackoff is reconnect.backoff.ms, the wait after a failed dial
	// before the same broker is dialed again; it doubles per failure up to
	// ReconnectBackoffMax (reconnect.backoff.max.ms), with 20% jitter as in
	// the Java client. Defaults 50ms and 1s.
	ReconnectBackoff, ReconnectBackoffMax time.Duration
}

func (o PoolOptions) withDefaults() PoolOptions {
	if o.ConnectionsMaxIdle <= 0 {
		o.ConnectionsMaxIdle = DefaultConnectionsMaxIdle
	}
	if o.ReconnectBackoff <= 0 {
		o.ReconnectBackoff = DefaultReconnectBackoff
	}
	if o.ReconnectBackoffMax <= 0 {
		o.ReconnectBackoffMax = DefaultReconnectBackoffMax
	}
	o.ReconnectBackoffMax = max(o.ReconnectBackoffMax, o.ReconnectBackoff)
	return o
}

// Pool keeps one connection per broker id, as the Java client keeps one per
// node: produce and metadata requests share it. Connections are dialed on
// first use (one dial per broker at a time; concurrent callers wait for it),
// redialed after they die, subject to reconnect backoff, and closed when idle
// longer than connections.max.idle.ms. Bootstrap servers, whose ids are not
// known yet, use negative ids as in the Java client.
type Pool struct {
	opts PoolOptions

	mu      sync.Mutex // guards entries and closed
	entries map[int32]*poolEntry
	closed  bool

	stop    chan struct{}
	stopped chan struct{}
}

type poolEntry struct {
	addr     string
	conn     *Conn
	dialing  chan struct{} // non-nil while a dial runs; closed when it ends
	err      error         // last dial error
	failures int
	retryAt  time.Time
}

// NewPool returns an empty pool and starts its idle-connection janitor, which
// Close stops.
func NewPool(opts PoolOptions) *Pool {
	p := &Pool{
		opts:    opts.withDefaults(),
		entries: make(map[int32]*poolEntry),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go p.janitor()
	return p
}

// Get returns the live connection to broker id at addr, dialing one if needed.
// If the broker's address changed, the old connection is closed. Within the
// reconnect backoff after a failed dial it fails at once with the last dial
// error, so callers can try another broker instead of waiting.
func (p *Pool) Get(ctx context.Context, id int32, addr string) (*Conn, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrPoolClosed
		}
		e := p.entries[id]
		var stale *Conn
		if e == nil || e.addr != addr {
			if e != nil {
				stale = e.conn
			}
			e = &poolEntry{addr: addr}
			p.entries[id] = e
		}
		if e.conn != nil && e.conn.Err() == nil {
			c := e.conn
			p.mu.Unlock()
			closeStale(stale)
			return c, nil
		}
		if ch := e.dialing; ch != nil {
			p.mu.Unlock()
			closeStale(stale)
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, &dialError{addr: addr, cause: ctx.Err()}
			}
		}
		if time.Now().Before(e.retryAt) {
			err := e.err
			p.mu.Unlock()
			closeStale(stale)
			return nil, fmt.Errorf("kprod: broker %d (%s) in reconnect backoff: %w", id, addr, err)
		}
		if e.conn != nil {
			stale, e.conn = e.conn, nil
		}
		ch := make(chan struct{})
		e.dialing = ch
		p.mu.Unlock()
		closeStale(stale)

		conn, err := Dial(ctx, addr, p.opts.Conn)

		p.mu.Lock()
		e.dialing = nil
		close(ch)
		if p.closed || p.entries[id] != e {
			p.mu.Unlock()
			if conn != nil {
				conn.Close()
			}
			if err == nil {
				err = &dialError{addr: addr, cause: ErrPoolClosed}
			}
			return nil, err
		}
		if err != nil {
			e.failures++
			e.err = err
			e.retryAt = time.Now().Add(p.backoff(e.failures))
		} else {
			e.conn, e.err, e.failures = conn, nil, 0
		}
		p.mu.Unlock()
		return conn, err
	}
}

// Peek returns broker id's connection if one is open, without dialing.
func (p *Pool) Peek(id int32) (*Conn, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.entries[id]; e != nil && e.conn != nil && e.conn.Err() == nil {
		return e.conn, true
	}
	return nil, false
}

// backoff is reconnect.backoff.ms doubled per consecutive failure, capped at
// reconnect.backoff.max.ms, with ±20% jitter so clients do not redial in step.
func (p *Pool) backoff(failures int) time.Duration {
	d := p.opts.ReconnectBackoff
	for i := 1; i < failures && d < p.opts.ReconnectBackoffMax; i++ {
		d *= 2
	}
	d = min(d, p.opts.ReconnectBackoffMax)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// CloseIdle closes connections with nothing in flight whose last use is older
// than connections.max.idle.ms; it returns how many it closed. The janitor
// calls it periodically.
func (p *Pool) CloseIdle() int {
	cutoff := time.Now().Add(-p.opts.ConnectionsMaxIdle)
	var idle []*Conn
	p.mu.Lock()
	for id, e := range p.entries {
		if e.conn != nil && e.conn.InFlight() == 0 && e.conn.LastUsed().Before(cutoff) {
			idle = append(idle, e.conn)
			delete(p.entries, id)
		}
	}
	p.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
	return len(idle)
}

func (p *Pool) janitor() {
	defer close(p.stopped)
	tick := time.NewTicker(max(p.opts.ConnectionsMaxIdle/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			p.CloseIdle()
		case <-p.stop:
			return
		}
	}
}

// Close closes every connection and stops the janitor. It is idempotent;
// later Gets fail with ErrPoolClosed.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.stopped
		return
	}
	p.closed = true
	var conns []*Conn
	for _, e := range p.entries {
		if e.conn != nil {
			conns = append(conns, e.conn)
		}
	}
	p.entries = nil
	p.mu.Unlock()
	close(p.stop)
	for _, c := range conns {
		c.Close()
	}
	<-p.stopped
}

// closeStale closes a replaced or dead connection. Close waits for its
// loops, which is quick once the socket is closed; callers do it outside the
// pool lock.
func closeStale(c *Conn) {
	if c != nil {
		c.Close()
	}
}
