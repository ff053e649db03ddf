package sender

import (
	"math/rand/v2"
	"sync"
	"time"

	"kprod/internal/broker"
)

// pool keeps one connection per broker for Produce requests, dialing in the background
// so that one unreachable broker never stalls requests to the others.
type pool struct {
	s  *Sender
	mu sync.Mutex // guards nodes
	// nodes by node id.
	nodes map[int32]*poolEntry
}

type poolEntry struct {
	conn     *broker.Conn
	dialing  bool
	failures int
	retryAt  time.Time
}

func newPool(s *Sender) *pool { return &pool{s: s, nodes: map[int32]*poolEntry{}} }

// get returns node's live connection, or nil after starting a dial (the sender is woken
// when it completes). It never blocks.
func (p *pool) get(node int32) *broker.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.nodes[node]
	if e == nil {
		e = &poolEntry{}
		p.nodes[node] = e
	}
	if e.conn != nil {
		select {
		case <-e.conn.Done():
			p.retire(e.conn)
			e.conn = nil // died: dial again below
		default:
			return e.conn
		}
	}
	if e.dialing || p.s.now().Before(e.retryAt) || p.s.ctx.Err() != nil {
		return nil
	}
	addr, ok := p.s.cfg.Meta.BrokerAddr(node)
	if !ok {
		p.s.cfg.Meta.Refresh()
		return nil
	}
	e.dialing = true
	p.s.wg.Add(1)
	go p.dial(node, addr, e)
	return nil
}

// retire waits in the background for a connection that started dying to finish: until
// then it may still fail requests, whose outcome (written or not) the sender must see.
// The goroutine is the sender's, so Shutdown waits for it before it takes the last
// answers: without it, Close could report a written request's records as not written
// and return while the connection's loops still ran.
func (p *pool) retire(c *broker.Conn) {
	p.s.wg.Add(1)
	go func() {
		defer p.s.wg.Done()
		c.Close()
	}()
}

// dial connects to a broker; its goroutine is owned by the sender (Shutdown waits).
func (p *pool) dial(node int32, addr string, e *poolEntry) {
	defer p.s.wg.Done()
	opts := p.s.cfg.Conn
	opts.ConnectionSetupTimeout = p.setupTimeout(e)
	conn, err := broker.Dial(p.s.ctx, addr, opts)
	p.mu.Lock()
	e.dialing = false
	if err != nil {
		e.failures++
		e.retryAt = p.s.now().Add(p.reconnectBackoff(e.failures))
		p.mu.Unlock()
		p.s.log.Warn("kprod: cannot connect to broker", "node", node, "addr", addr, "err", err)
		p.s.cfg.Meta.Refresh()
		p.s.wakeAt(e.retryAt)
		return
	}
	if p.s.ctx.Err() != nil {
		p.mu.Unlock()
		conn.Close()
		return
	}
	e.failures = 0
	e.conn = conn
	p.mu.Unlock()
	p.s.Wake()
}

// setupTimeout grows socket.connection.setup.timeout.ms exponentially with failures up
// to its max (KIP-601), with +-20% jitter.
func (p *pool) setupTimeout(e *poolEntry) time.Duration {
	d := p.s.set.SocketConnectionSetupTimeout
	for i := 0; i < e.failures && d < p.s.set.SocketConnectionSetupTimeoutMax; i++ {
		d *= 2
	}
	return min(d, p.s.set.SocketConnectionSetupTimeoutMax)
}

// reconnectBackoff is reconnect.backoff.ms doubled per failure with +-20% jitter, capped
// at reconnect.backoff.max.ms (Java's ClusterConnectionStates).
func (p *pool) reconnectBackoff(failures int) time.Duration {
	d := p.s.set.ReconnectBackoff
	for i := 1; i < failures && d < p.s.set.ReconnectBackoffMax; i++ {
		d *= 2
	}
	jitter := 0.8 + 0.4*rand.Float64() // the global source: dials run on their own goroutines
	return min(time.Duration(float64(d)*jitter), p.s.set.ReconnectBackoffMax)
}

// closeIdle closes connections unused for connections.max.idle.ms with nothing in flight;
// the next request to that broker dials again.
func (p *pool) closeIdle(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.nodes {
		if e.conn != nil && e.conn.InFlight() == 0 && now.Sub(e.conn.LastUsed()) > p.s.set.ConnectionsMaxIdle {
			e.conn.Close()
			e.conn = nil
		}
	}
}

func (p *pool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.nodes {
		if e.conn != nil {
			e.conn.Close()
			e.conn = nil
		}
	}
}

// wakeAt wakes the sender loop at t (a reconnect backoff ending).
func (s *Sender) wakeAt(t time.Time) {
	d := max(t.Sub(s.now()), 0)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			s.Wake()
		case <-s.ctx.Done():
		}
	}()
}
