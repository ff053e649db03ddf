// Package pool is the producer's one way to reach a broker (issue 11). The sender, the
// transaction manager and the metadata refresher take their connections from one Pool,
// owned by the producer, with one dial policy, as net/http's Transport and pgx's pool do:
//
//   - reconnect.backoff.ms doubling per failure up to reconnect.backoff.max.ms and
//     socket.connection.setup.timeout.ms doubling per consecutive failure up to
//     socket.connection.setup.timeout.max.ms (KIP-601), per node, with Java's 20%
//     jitter (ClusterConnectionStates);
//   - the TLS handshake, SASL authentication and ApiVersions, all run by broker.Dial
//     with the pool's broker.Options;
//   - concurrent requests for one connection collapse into one dial, whose failure
//     every waiter gets;
//   - connections idle for connections.max.idle.ms close, unless requests are in
//     flight on them.
//
// Connections are keyed by node id (bootstrap servers, before ids are known, by
// address) and by Purpose. Close stops every dial and closes every connection.
package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/logsum"
	"github.com/kprod-io/kprod/internal/metrics"
)

// Purpose separates connections to one node whose traffic must not mix.
type Purpose uint8

const (
	// Produce connections carry only the sender's Produce requests: the sender counts
	// their in-flight requests against max.in.flight.requests.per.connection, which
	// keeps per-partition order.
	Produce Purpose = iota
	// Control connections carry metadata and coordinator requests, which so never
	// wait behind a full Produce pipeline.
	Control
	numPurposes
)

// Defaults of zero Config fields: Kafka's producer defaults.
const (
	DefaultSetupTimeoutMax     = 30 * time.Second
	DefaultReconnectBackoff    = 50 * time.Millisecond
	DefaultReconnectBackoffMax = time.Second
	DefaultMaxIdle             = 540 * time.Second
)

// ErrClosed is returned for connections asked of a closed pool (or purpose).
var ErrClosed = errors.New("kprod: connection pool closed")

// Config configures a Pool. The zero value of every field means Kafka's default.
type Config struct {
	// Conn are the dial options of every connection: TLS, SASL, client id, buffers.
	// Conn.ConnectionSetupTimeout is socket.connection.setup.timeout.ms, the first
	// dial's bound. Default 10s.
	Conn broker.Options
	// SetupTimeoutMax is socket.connection.setup.timeout.max.ms. Default 30s.
	SetupTimeoutMax time.Duration
	// ReconnectBackoff is reconnect.backoff.ms. Default 50ms.
	ReconnectBackoff time.Duration
	// ReconnectBackoffMax is reconnect.backoff.max.ms. Default 1s.
	ReconnectBackoffMax time.Duration
	// MaxIdle is connections.max.idle.ms; negative never closes idle connections.
	// Default 9 minutes.
	MaxIdle time.Duration
	// Resolve returns a node's address (the cluster view's); required to dial by id
	// without an address.
	Resolve func(node int32) (string, bool)
	// OnReady runs when a connection TryGet asked for may be had: a dial ended or a
	// backoff passed. It must not block. Default none.
	OnReady func()
	// OnFailure runs after a dial failed or a node had no address: metadata may be
	// stale (Java's NetworkClient asks for an update then). It must not block.
	OnFailure func()
	// Logger receives a warning when dials to an address fail: the first failure, then
	// one line a minute counting the others (logsum), and an INFO line once a dial
	// succeeds again. Default discards.
	Logger *slog.Logger
	// Now is the clock of backoffs and idleness. Default time.Now.
	Now func() time.Time
	// Metrics, when set, counts every connection's traffic under its node id
	// (producer-node-metrics). Default none.
	Metrics *metrics.Registry
}

// key is a connection's: a node id (negative for a bootstrap address) and a purpose.
type key struct {
	id int32
	p  Purpose
}

// entry is one connection slot. Guarded by Pool.mu.
type entry struct {
	conn *broker.Conn
	call *call // the dial under way, nil if none
}

// call is one dial; done closes when conn or err is set.
type call struct {
	done  chan struct{}
	addr  string // dialed: a Get naming another waits this dial out rather than joining it
	conn  *broker.Conn
	err   error
	async bool // TryGet waits for it: OnReady runs after a failure's backoff
	// waiters counts the Gets that joined it (tests watch it to know the dial is shared).
	waiters int
}

// Pool is the producer's set of broker connections. Its methods are safe for
// concurrent use.
type Pool struct {
	cfg       Config
	reconnect expBackoff
	setup     expBackoff
	rand      func() float64
	log       *logsum.Logger

	ctx    context.Context // ends at Close: every dial stops
	cancel context.CancelFunc

	mu       sync.Mutex // guards every field below
	nodes    map[int32]*node
	boot     map[string]int32              // bootstrap address -> its id, -1, -2, ... as Java numbers them
	conns    [numPurposes]map[int32]*entry // by purpose, then node id: TryGet's lookup stays a fast int32 map
	closed   [numPurposes]bool             // CloseAll ran for that purpose: nothing more is dialed
	shut     bool                          // Close ran
	retiring [numPurposes]sync.WaitGroup
	wg       sync.WaitGroup // dials, backoff wakes and the idle reaper
}

// New starts a pool (and its idle reaper).
func New(cfg Config) *Pool {
	if cfg.SetupTimeoutMax <= 0 {
		cfg.SetupTimeoutMax = DefaultSetupTimeoutMax
	}
	if cfg.Conn.ConnectionSetupTimeout <= 0 {
		cfg.Conn.ConnectionSetupTimeout = broker.DefaultConnectionSetupTimeout
	}
	if cfg.ReconnectBackoff <= 0 {
		cfg.ReconnectBackoff = DefaultReconnectBackoff
	}
	if cfg.ReconnectBackoffMax <= 0 {
		cfg.ReconnectBackoffMax = DefaultReconnectBackoffMax
	}
	if cfg.MaxIdle == 0 {
		cfg.MaxIdle = DefaultMaxIdle
	}
	if cfg.Resolve == nil {
		cfg.Resolve = func(int32) (string, bool) { return "", false }
	}
	if cfg.OnReady == nil {
		cfg.OnReady = func() {}
	}
	if cfg.OnFailure == nil {
		cfg.OnFailure = func() {}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Pool{cfg: cfg, rand: random, log: logsum.New(cfg.Logger, 0, cfg.Now),
		reconnect: newExpBackoff(cfg.ReconnectBackoff, cfg.ReconnectBackoffMax),
		setup:     newExpBackoff(cfg.Conn.ConnectionSetupTimeout, cfg.SetupTimeoutMax),
		nodes:     map[int32]*node{}, boot: map[string]int32{}}
	for i := range p.conns {
		p.conns[i] = map[int32]*entry{}
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if cfg.MaxIdle > 0 {
		p.wg.Add(1)
		go p.reapIdle()
	}
	return p
}

// TryGet returns node's live connection for purpose, or nil after starting a dial
// (OnReady runs when it ends) unless the node is backing off (OnReady runs when that
// ends). It never blocks: the sender calls it for every Produce request.
func (p *Pool) TryGet(purpose Purpose, node int32) *broker.Conn {
	p.mu.Lock()
	if e := p.conns[purpose][node]; e != nil && e.conn != nil {
		select {
		case <-e.conn.Done():
		default:
			c := e.conn
			p.mu.Unlock()
			return c
		}
	}
	p.startLocked(key{node, purpose}, "")
	p.mu.Unlock()
	return nil
}

// startLocked retires k's dead connection and starts a dial for TryGet unless one is
// under way or the node is backing off.
func (p *Pool) startLocked(k key, addr string) {
	if p.closed[k.p] {
		return
	}
	e := p.entryLocked(k)
	if e.conn != nil {
		p.retireLocked(k, e, true)
	}
	if e.call != nil {
		e.call.async = true
		return
	}
	n := p.nodeLocked(k.id)
	if p.cfg.Now().Before(n.retryAt) {
		p.wakeLocked(n)
		return
	}
	if addr == "" {
		var ok bool
		if addr, ok = p.cfg.Resolve(k.id); !ok {
			p.cfg.OnFailure()
			return
		}
	}
	p.dialLocked(k, e, n, addr).async = true
}

// Target names a broker to Get: by node id once metadata has named it, or by address
// alone (a bootstrap server) with Node < 0.
type Target struct {
	Node int32
	// Addr is host:port; "" resolves Node's. A live connection to another address (the
	// node moved) is replaced.
	Addr string
}

// Get returns a live connection to t for purpose, dialing if needed, until ctx ends.
// A node backing off after a failed dial fails at once with that dial's error, so a
// caller with other brokers to try moves on (Java's leastLoadedNode skips it); one
// whose connection was lost is waited for.
func (p *Pool) Get(ctx context.Context, purpose Purpose, t Target) (*broker.Conn, error) {
	for {
		p.mu.Lock()
		if p.closed[purpose] {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		k := key{t.Node, purpose}
		if t.Node < 0 {
			k.id = p.bootIDLocked(t.Addr)
		}
		e := p.entryLocked(k)
		if e.conn != nil {
			select {
			case <-e.conn.Done():
				p.retireLocked(k, e, true)
			default:
				if t.Addr == "" || e.conn.Addr() == t.Addr {
					c := e.conn
					p.mu.Unlock()
					return c, nil
				}
				p.retireLocked(k, e, false) // the node moved
			}
		}
		c := e.call
		if c == nil {
			n := p.nodeLocked(k.id)
			if wait := n.retryAt.Sub(p.cfg.Now()); wait > 0 {
				err := n.lastErr
				p.mu.Unlock()
				if err != nil {
					return nil, err
				}
				if err := p.sleep(ctx, wait); err != nil {
					return nil, err
				}
				continue
			}
			addr := t.Addr
			if addr == "" {
				var ok bool
				if addr, ok = p.cfg.Resolve(k.id); !ok {
					p.mu.Unlock()
					p.cfg.OnFailure()
					return nil, fmt.Errorf("kprod: no address for broker %d yet", t.Node)
				}
			}
			c = p.dialLocked(k, e, n, addr)
		} else if t.Addr != "" && c.addr != t.Addr {
			// The node moved while a dial to its old address runs: let it end, then
			// loop, where the node-moved branch retires what it opened.
			p.mu.Unlock()
			select {
			case <-c.done:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-p.ctx.Done():
				return nil, ErrClosed
			}
		}
		c.waiters++
		p.mu.Unlock()
		select {
		case <-c.done:
			return c.conn, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-p.ctx.Done():
			return nil, ErrClosed
		}
	}
}

// sleep waits d, or until ctx ends or the pool closes.
func (p *Pool) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.ctx.Done():
		return ErrClosed
	}
}

func (p *Pool) entryLocked(k key) *entry {
	e := p.conns[k.p][k.id]
	if e == nil {
		e = &entry{}
		p.conns[k.p][k.id] = e
	}
	return e
}

func (p *Pool) nodeLocked(id int32) *node {
	n := p.nodes[id]
	if n == nil {
		n = &node{}
		p.nodes[id] = n
	}
	return n
}

// bootIDLocked numbers a bootstrap address as Java does: -1, -2, ...
func (p *Pool) bootIDLocked(addr string) int32 {
	id, ok := p.boot[addr]
	if !ok {
		id = -int32(len(p.boot)) - 1
		p.boot[addr] = id
	}
	return id
}

// retireLocked takes e's connection out and closes it on a goroutine CloseAll waits
// for: a dying connection may still be failing requests, whose outcome (written or
// not) their owner must see before it takes its last answers. lost says it died
// rather than being replaced: the node backs off once, as in Java.
func (p *Pool) retireLocked(k key, e *entry, lost bool) {
	c := e.conn
	e.conn = nil
	if lost {
		p.nodeLocked(k.id).lost(p.cfg.Now(), p)
	}
	p.retiring[k.p].Add(1)
	go func() {
		defer p.retiring[k.p].Done()
		c.Close()
	}()
}

// wakeLocked runs OnReady when n's backoff ends, once however many ask.
func (p *Pool) wakeLocked(n *node) {
	if n.waking || p.shut {
		return
	}
	n.waking = true
	d := n.retryAt.Sub(p.cfg.Now())
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.ctx.Done():
			return
		}
		p.mu.Lock()
		n.waking = false
		p.mu.Unlock()
		p.cfg.OnReady()
	}()
}

// CloseAll closes purpose's connections and waits for them, and dials no more for it;
// dials under way close what they open. The sender calls it for Produce at shutdown,
// before taking its last answers.
func (p *Pool) CloseAll(purpose Purpose) {
	p.mu.Lock()
	p.closed[purpose] = true
	var cs []*broker.Conn
	for _, e := range p.conns[purpose] {
		if e.conn != nil {
			cs = append(cs, e.conn)
			e.conn = nil
		}
	}
	p.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
	p.retiring[purpose].Wait()
}

// Close stops every dial, closes every connection and waits for every goroutine of
// the pool. It is idempotent.
func (p *Pool) Close() {
	p.mu.Lock()
	p.shut = true
	for i := range p.closed {
		p.closed[i] = true
	}
	p.mu.Unlock()
	p.cancel()
	for purpose := range numPurposes {
		p.CloseAll(purpose)
	}
	p.wg.Wait()
}
