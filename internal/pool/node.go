package pool

import "time"

// node is one broker's dial policy state (Java's NodeConnectionState), shared by
// its connections of every purpose: a broker that refuses the sender's dial is not
// dialed at once for metadata either. Guarded by Pool.mu.
type node struct {
	// attempts is the reconnect.backoff.ms exponent: dials failed or connections lost
	// since the last dial that succeeded.
	attempts int
	// setupFailures is the socket.connection.setup.timeout.ms exponent: consecutive
	// failed dials (KIP-601); a lost connection resets it, as in Java.
	setupFailures int
	// retryAt ends the reconnect backoff: no dial to this node starts before it.
	retryAt time.Time
	// lastErr is why the last dial failed, nil after a success or a lost connection:
	// callers that cannot wait are given it until retryAt.
	lastErr error
	// waking: a goroutine wakes the pool's OnReady at retryAt.
	waking bool
}

// failed records a failed dial at now.
func (n *node) failed(now time.Time, err error, p *Pool) {
	n.retryAt = now.Add(p.reconnect.at(n.attempts, p.rand()))
	n.attempts++
	n.setupFailures++
	n.lastErr = err
}

// lost records that an established connection died at now: Java's disconnected()
// from a connected state backs off once and resets the setup timeout.
func (n *node) lost(now time.Time, p *Pool) {
	n.retryAt = now.Add(p.reconnect.at(n.attempts, p.rand()))
	n.attempts++
	n.setupFailures = 0
	n.lastErr = nil
}

// ready records a dial that succeeded: both exponents reset (Java's ready()).
func (n *node) ready() {
	n.attempts, n.setupFailures, n.retryAt, n.lastErr = 0, 0, time.Time{}, nil
}
