// Package cluster is the producer's view of the cluster: brokers, topics, partition
// leaders. One goroutine refreshes it from Metadata requests every metadata.max.age.ms,
// when someone asks (a retriable produce error, an unknown topic, a dial failure;
// requests arriving while one is running are coalesced into one more), and publishes
// immutable snapshots that Send and the sender read without locking.
package cluster

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/logsum"
	"github.com/kprod-io/kprod/internal/partition"
	"github.com/kprod-io/kprod/internal/pool"
)

// Config configures the cluster view.
type Config struct {
	Bootstrap []string
	// Pool is the producer's connection pool; Metadata requests use its Control
	// connections. Required.
	Pool *pool.Pool
	// MaxAge is metadata.max.age.ms; MaxIdle is metadata.max.idle.ms.
	MaxAge, MaxIdle time.Duration
	// RetryBackoff and RetryBackoffMax pace refreshes after failures.
	RetryBackoff, RetryBackoffMax time.Duration
	// LimitsTimeout bounds the wait for the topics' max.message.bytes before a snapshot
	// is published (limits.go). Default 5s.
	LimitsTimeout time.Duration
	// OnUpdate runs after every new snapshot (the sender wakes up); must not block.
	OnUpdate func()
	// Logger receives failed refreshes, summarised (logsum): the first, then a count a
	// minute. Default discards.
	Logger *slog.Logger
	Now    func() time.Time
}

// Partition is one partition's state in a snapshot.
type Partition struct {
	ID          int32
	Leader      int32 // -1: none
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32
	Offline     []int32
	ErrorCode   int16
}

// Topic is one topic's state in a snapshot.
type Topic struct {
	Name string
	// ID is the topic id (KIP-516), zero when the broker does not send one.
	ID [16]byte
	// ErrorCode is the topic-level error (UNKNOWN_TOPIC_OR_PARTITION, ...), 0 if none.
	ErrorCode  int16
	Partitions []Partition
	// Parts is what the partitioners read: count and partitions with a leader.
	Parts partition.Partitions
	// MaxMessageBytes is the topic's max.message.bytes from DescribeConfigs, asked when
	// the topic is first seen and again every metadata.max.age.ms (limits.go); 0 while
	// unknown.
	MaxMessageBytes int32

	used atomic.Bool // set by Send, cleared by each refresh: drives metadata.max.idle.ms
}

// Cluster is the refreshed view. Close stops its goroutine.
type Cluster struct {
	cfg  Config
	log  *logsum.Logger
	snap atomic.Pointer[snapshot]

	refreshCh chan struct{} // capacity 1
	lastOK    atomic.Int64  // Unix ms of the last successful refresh, 0 before any
	gen       atomic.Uint64 // bumped after every snapshot published
	hintMu    sync.Mutex    // serialises HintLeader's copy-on-write updates

	mu      sync.Mutex           // guards want, updated, lastErr
	want    map[string]time.Time // topics to ask for -> last time they were used
	updated chan struct{}        // closed and replaced after every refresh attempt
	lastErr error

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	last  pool.Target // refresher goroutine only: the broker that answered last, asked first
	asked bool        // refresher goroutine only: last is set
	lim   limits      // refresher goroutine only
}

// ErrClosed is returned by waits on a closed cluster view.
var ErrClosed = errors.New("kprod: cluster view closed")

// New starts the cluster view's refresher and asks for a first refresh.
func New(cfg Config) *Cluster {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LimitsTimeout <= 0 {
		cfg.LimitsTimeout = 5 * time.Second
	}
	if cfg.OnUpdate == nil {
		cfg.OnUpdate = func() {}
	}
	c := &Cluster{cfg: cfg, log: logsum.New(cfg.Logger, 0, cfg.Now), refreshCh: make(chan struct{}, 1), want: map[string]time.Time{},
		updated: make(chan struct{}), done: make(chan struct{}),
		lim: limits{asked: map[string]time.Time{}, logged: map[string]bool{}}}
	c.snap.Store(&snapshot{brokers: map[int32]string{}, topics: map[string]*Topic{}})
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.run()
	c.Refresh()
	return c
}

// Close stops the refresher and waits for it.
func (c *Cluster) Close() {
	c.cancel()
	<-c.done
}

// Refresh asks for a metadata refresh soon. It never blocks.
func (c *Cluster) Refresh() {
	select {
	case c.refreshCh <- struct{}{}:
	default:
	}
}

// Generation counts snapshots: it changes whenever a new one is published, so a caller
// may cache a *Topic together with the generation it came from.
func (c *Cluster) Generation() uint64 { return c.gen.Load() }

// Touch marks the topic as produced to, for metadata.max.idle.ms.
func (t *Topic) Touch() {
	if !t.used.Load() {
		t.used.Store(true)
	}
}

// Lookup returns the topic's state from the current snapshot, without waiting.
func (c *Cluster) Lookup(name string) (*Topic, bool) {
	t, ok := c.snap.Load().topics[name]
	if ok && !t.used.Load() {
		t.used.Store(true)
	}
	return t, ok
}

// Wait returns the topic's state once the topic is known with at least minPartitions
// partitions (so an explicit partition number exists), refreshing as needed, until ctx
// ends or a refresh fails to authenticate (broker.ErrAuthentication). The last topic
// state seen (nil if never) comes back with the error.
func (c *Cluster) Wait(ctx context.Context, name string, minPartitions int32) (*Topic, error) {
	for {
		c.mu.Lock()
		if _, ok := c.want[name]; !ok {
			c.want[name] = c.cfg.Now()
		}
		ch := c.updated
		c.mu.Unlock()
		t, ok := c.Lookup(name)
		if ok && t.ErrorCode == 0 && t.Parts.Count >= minPartitions && t.Parts.Count > 0 {
			return t, nil
		}
		if ok && isFatalTopicError(t.ErrorCode) {
			return t, kerr.ErrorForCode(t.ErrorCode)
		}
		// Java's Metadata.fatalError: an authentication failure ends the wait at
		// once; waiting longer cannot cure it. It is checked before waiting too: the
		// refresh that failed may have ended before this wait began (ch is then the
		// next refresh's, which comes only after the backoff).
		if err := c.LastError(); errors.Is(err, broker.ErrAuthentication) {
			return t, err
		}
		c.Refresh()
		select {
		case <-ch:
			if err := c.LastError(); errors.Is(err, broker.ErrAuthentication) {
				return t, err
			}
		case <-ctx.Done():
			return t, ctx.Err()
		case <-c.ctx.Done():
			return t, ErrClosed
		}
	}
}

// isFatalTopicError reports topic errors that waiting will not cure.
func isFatalTopicError(code int16) bool {
	switch code {
	case 17, 29: // INVALID_TOPIC_EXCEPTION, TOPIC_AUTHORIZATION_FAILED
		return true
	}
	return false
}

// Leader returns the node leading topic/partition in the current snapshot.
func (c *Cluster) Leader(topic string, p int32) (int32, bool) {
	t, ok := c.snap.Load().topics[topic]
	if !ok || p < 0 || int(p) >= len(t.Partitions) {
		return -1, false
	}
	l := t.Partitions[p].Leader
	return l, l >= 0
}

// HintLeader installs leader as partition p's leader when a Produce response names it
// with a newer leader epoch than the snapshot's (KIP-951) and the node is known; the next
// refresh confirms or corrects it.
func (c *Cluster) HintLeader(topic string, p, leader, leaderEpoch int32) {
	c.hintMu.Lock()
	defer c.hintMu.Unlock()
	old := c.snap.Load()
	t, ok := old.topics[topic]
	if !ok || p < 0 || int(p) >= len(t.Partitions) {
		return
	}
	cur := t.Partitions[p]
	if _, known := old.brokers[leader]; !known || leaderEpoch <= cur.LeaderEpoch || cur.Leader == leader {
		return
	}
	nt := &Topic{Name: t.Name, ID: t.ID, ErrorCode: t.ErrorCode, Parts: t.Parts, Partitions: slices.Clone(t.Partitions),
		MaxMessageBytes: t.MaxMessageBytes}
	nt.used.Store(t.used.Load())
	nt.Partitions[p].Leader, nt.Partitions[p].LeaderEpoch = leader, leaderEpoch
	ns := &snapshot{brokers: old.brokers, nodes: old.nodes, topics: make(map[string]*Topic, len(old.topics))}
	for k, v := range old.topics {
		ns.topics[k] = v
	}
	ns.topics[topic] = nt
	if c.snap.CompareAndSwap(old, ns) { // a concurrent refresh wins: it is newer anyway
		c.gen.Add(1)
	}
	c.cfg.OnUpdate()
}

// PartitionCount returns the topic's partition count, 0 when unknown.
func (c *Cluster) PartitionCount(topic string) int32 {
	if t, ok := c.snap.Load().topics[topic]; ok {
		return t.Parts.Count
	}
	return 0
}

// BrokerAddr returns a node's address.
func (c *Cluster) BrokerAddr(node int32) (string, bool) {
	a, ok := c.snap.Load().brokers[node]
	return a, ok
}

// AnyBroker returns a random known broker.
func (c *Cluster) AnyBroker() (int32, string, bool) {
	s := c.snap.Load()
	if len(s.nodes) == 0 {
		return -1, "", false
	}
	n := s.nodes[rand.IntN(len(s.nodes))]
	return n, s.brokers[n], true
}

// Topics returns every topic in the current snapshot.
func (c *Cluster) Topics() map[string]*Topic { return c.snap.Load().topics }

// LastError returns the last refresh error, nil after a success.
func (c *Cluster) LastError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

func (c *Cluster) run() {
	defer close(c.done)
	failures := 0
	timer := time.NewTimer(c.cfg.MaxAge)
	defer timer.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.refreshCh:
		case <-timer.C:
		}
		err := c.refresh()
		c.mu.Lock()
		c.lastErr = err
		close(c.updated)
		c.updated = make(chan struct{})
		c.mu.Unlock()
		if err != nil && c.ctx.Err() != nil {
			return // Close interrupted the refresh: a normal Close logs nothing
		}
		next := c.cfg.MaxAge
		if err != nil {
			failures++
			c.log.Warn("refresh", "kprod: metadata refresh failed", "err", err)
			next = c.backoff(failures)
			c.Refresh() // try again after the backoff
		} else {
			failures = 0
			c.log.Resolved("refresh", "kprod: metadata refresh succeeded after failures")
			c.cfg.OnUpdate()
		}
		// Pace refreshes: wait at least retry.backoff.ms between two (Java's
		// metadata refresh backoff), so a storm of requests costs one per backoff.
		pause := time.NewTimer(c.backoff(max(failures, 1)))
		select {
		case <-c.ctx.Done():
			pause.Stop()
			return
		case <-pause.C:
		}
		timer.Reset(next)
	}
}

func (c *Cluster) backoff(failures int) time.Duration {
	d := c.cfg.RetryBackoff
	for i := 1; i < failures && d < c.cfg.RetryBackoffMax; i++ {
		d *= 2
	}
	return min(d, c.cfg.RetryBackoffMax)
}

// refresh sends one Metadata request for the wanted topics and publishes the snapshot.
func (c *Cluster) refresh() error {
	c.mu.Lock()
	now := c.cfg.Now()
	old := c.snap.Load()
	var names []string
	for name, last := range c.want {
		if t, ok := old.topics[name]; ok && t.used.Swap(false) {
			c.want[name] = now
			last = now
		}
		if now.Sub(last) > c.cfg.MaxIdle {
			delete(c.want, name) // metadata.max.idle.ms: forget topics not produced to
			continue
		}
		names = append(names, name)
	}
	c.mu.Unlock()
	slices.Sort(names)

	resp, err := c.request(names)
	if err != nil {
		return err
	}
	requested := make(map[string]bool, len(names))
	for _, n := range names {
		requested[n] = true
	}
	s, odd := buildSnapshot(resp, requested, old)
	if odd.any() {
		c.log.Warn("odd answer", "kprod: metadata answer lists entries that cannot be right; they are left out", odd.attrs()...)
	}
	c.describeLimits(s, old)
	c.snap.Store(s)
	c.gen.Add(1)
	c.lastOK.Store(c.cfg.Now().UnixMilli())
	return nil
}

// LastSuccess returns when metadata was last refreshed successfully (Java's
// Metadata.lastSuccessfulUpdate, behind the metadata-age metric); zero before any.
func (c *Cluster) LastSuccess() time.Time {
	ms := c.lastOK.Load()
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// request sends a Metadata request to a known broker, or to the bootstrap servers
// (shuffled) before any is known or when all known ones fail.
func (c *Cluster) request(topics []string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = true // as Java's producer: brokers with auto.create.topics.enable create them
	req.Topics = []kmsg.MetadataRequestTopic{}
	for _, name := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, rt)
	}
	var lastErr error
	for _, t := range c.candidates() {
		conn, err := c.cfg.Pool.Get(c.ctx, pool.Control, t)
		if err != nil {
			if c.ctx.Err() != nil {
				return nil, err
			}
			if !errors.Is(lastErr, broker.ErrAuthentication) {
				lastErr = err // an authentication failure is the one to report
			}
			continue
		}
		resp, err := conn.Do(c.ctx, req)
		if err != nil {
			if c.ctx.Err() != nil {
				return nil, err
			}
			lastErr = err
			conn.Abort(err) // a connection that cannot answer Metadata is not kept
			continue
		}
		c.last, c.asked = t, true
		return resp.(*kmsg.MetadataResponse), nil
	}
	if lastErr == nil {
		lastErr = errors.New("kprod: no broker to ask for metadata")
	}
	return nil, lastErr
}

// candidates lists brokers to try: the one that answered last first, then known
// brokers, then the bootstrap servers, each group shuffled. A bootstrap server that
// answered is not preferred once brokers are known: its connection is left to idle out
// (connections.max.idle.ms) while metadata shares the brokers' connections with the
// coordinator requests, as Java's producer moves to its least loaded known node.
func (c *Cluster) candidates() []pool.Target {
	var out []pool.Target
	s := c.snap.Load()
	if c.asked && (c.last.Node >= 0 || len(s.brokers) == 0) {
		out = append(out, c.last)
	}
	known := make([]pool.Target, 0, len(s.brokers))
	for id, a := range s.brokers {
		known = append(known, pool.Target{Node: id, Addr: a})
	}
	rand.Shuffle(len(known), func(i, j int) { known[i], known[j] = known[j], known[i] })
	out = append(out, known...)
	boot := make([]pool.Target, 0, len(c.cfg.Bootstrap))
	for _, a := range c.cfg.Bootstrap {
		boot = append(boot, pool.Target{Node: -1, Addr: a})
	}
	rand.Shuffle(len(boot), func(i, j int) { boot[i], boot[j] = boot[j], boot[i] })
	return append(out, boot...)
}
