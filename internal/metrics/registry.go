package metrics

import (
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// Groups of the producer's metrics, Java's names.
const (
	GroupProducer = "producer-metrics"
	GroupTopic    = "producer-topic-metrics"
	GroupNode     = "producer-node-metrics"
)

// Value is one metric's reading.
type Value struct {
	Name, Group, Description string
	// Topic is the topic tag of a producer-topic-metrics value.
	Topic string
	// Node is the node-id tag of a producer-node-metrics value ("node-1").
	Node string
	// Counter marks a cumulative total (it only grows); the rest are gauges.
	Counter bool
	V       float64
}

// Registry holds the producer's stats. The sender records under mu, once per Produce
// request and once per batch that is retried or fails; connections record their
// traffic under netMu once per written request or read response; the rest are atomics
// or gauges read at Snapshot. Nothing here runs per record.
type Registry struct {
	cfg Config

	mu        sync.Mutex // guards everything down to nodeLat
	batchSize [2]SampledStat
	queueTime [2]SampledStat
	recSize   [2]SampledStat
	latency   [2]SampledStat
	throttle  [2]SampledStat
	compress  SampledStat
	perReq    SampledStat
	send      Meter
	retry     Meter
	errs      Meter
	split     Meter
	bufWait   Meter // ns; its rate is bufferpool-wait-ratio (Java's Rate in NANOSECONDS)
	exhausted Meter
	topics    map[string]*topicStats
	nodeLat   map[int32]*[2]SampledStat

	netMu  sync.Mutex // guards net and nodeIO
	net    ioStats
	nodeIO map[int32]*ioStats
	conns  Meter // connection-creation
	closes Meter // connection-close
	open   int

	// Cumulative nanosecond totals (KafkaProducerMetrics).
	FlushNs, MetadataWaitNs                                   atomic.Int64
	TxnInitNs, TxnBeginNs, TxnCommitNs, TxnAbortNs, TxnOffsNs atomic.Int64

	gauges []gauge
}

type topicStats struct {
	send, bytes, retry, errs Meter
	compress                 SampledStat
}

// ioStats is one node's (or all nodes') traffic: Java's Selector bytes-sent and
// bytes-received sensors.
type ioStats struct {
	out, in    Meter // bytes
	reqs, resp Meter // counts
	reqSize    [2]SampledStat
}

type gauge struct {
	name, desc string
	f          func() float64
}

// New returns a registry whose windows follow cfg.
func New(cfg Config) *Registry {
	cfg = cfg.withDefaults()
	r := &Registry{cfg: cfg, topics: map[string]*topicStats{}, nodeLat: map[int32]*[2]SampledStat{}, nodeIO: map[int32]*ioStats{}}
	pair := func(p *[2]SampledStat) { p[0], p[1] = newSampled(kindAvg, cfg), newSampled(kindMax, cfg) }
	pair(&r.batchSize)
	pair(&r.queueTime)
	pair(&r.recSize)
	pair(&r.latency)
	pair(&r.throttle)
	r.compress = newSampled(kindAvg, cfg)
	r.perReq = newSampled(kindAvg, cfg)
	for _, m := range []*Meter{&r.send, &r.retry, &r.errs, &r.split, &r.bufWait, &r.exhausted} {
		*m = *NewMeter(cfg)
	}
	r.net = newIO(cfg)
	r.conns, r.closes = *NewMeter(cfg), *NewMeter(cfg)
	return r
}

// Config returns the registry's window configuration.
func (r *Registry) Config() Config { return r.cfg }

func newIO(cfg Config) ioStats {
	s := ioStats{out: *NewMeter(cfg), in: *NewMeter(cfg), reqs: *NewCountMeter(cfg), resp: *NewCountMeter(cfg)}
	s.reqSize[0], s.reqSize[1] = newSampled(kindAvg, cfg), newSampled(kindMax, cfg)
	return s
}

// Gauge adds a producer-metrics value read at each Snapshot.
func (r *Registry) Gauge(name, desc string, f func() float64) {
	r.gauges = append(r.gauges, gauge{name, desc, f})
}

// Lock takes the sender's lock; DrainedLocked and RequestLocked record under it.
func (r *Registry) Lock() { r.mu.Lock() }

// Unlock releases the sender's lock.
func (r *Registry) Unlock() { r.mu.Unlock() }

func (r *Registry) topicLocked(topic string) *topicStats {
	t := r.topics[topic]
	if t == nil {
		c := r.cfg
		t = &topicStats{send: *NewMeter(c), bytes: *NewMeter(c), retry: *NewMeter(c), errs: *NewMeter(c), compress: newSampled(kindAvg, c)}
		r.topics[topic] = t
	}
	return t
}

// DrainedLocked records one batch put in a Produce request (Java's
// updateProduceRequestMetrics): its records (record-send, counting every attempt),
// its size in bytes, how long it waited since its first record (queueMs), its
// compression ratio and the upper bound of its largest record.
func (r *Registry) DrainedLocked(topic string, records, bytes int, queueMs int64, ratio float64, maxRecord int, now int64) {
	c := r.cfg
	t := r.topicLocked(topic)
	t.send.Record(c, float64(records), now)
	t.bytes.Record(c, float64(bytes), now)
	t.compress.Record(c, ratio, now)
	r.batchSize[0].Record(c, float64(bytes), now)
	r.batchSize[1].Record(c, float64(bytes), now)
	r.queueTime[0].Record(c, float64(queueMs), now)
	r.queueTime[1].Record(c, float64(queueMs), now)
	r.compress.Record(c, ratio, now)
	r.recSize[0].Record(c, float64(maxRecord), now)
	r.recSize[1].Record(c, float64(maxRecord), now)
}

// RequestLocked records a Produce request of records records (records-per-request-avg
// and the producer's record-send rate and total).
func (r *Registry) RequestLocked(records int, now int64) {
	r.send.Record(r.cfg, float64(records), now)
	r.perReq.Record(r.cfg, float64(records), now)
}

// Retried records a batch of records going back for another attempt.
func (r *Registry) Retried(topic string, records int, now int64) {
	r.mu.Lock()
	r.retry.Record(r.cfg, float64(records), now)
	r.topicLocked(topic).retry.Record(r.cfg, float64(records), now)
	r.mu.Unlock()
}

// Failed records a batch of records failing for good.
func (r *Registry) Failed(topic string, records int, now int64) {
	r.mu.Lock()
	r.errs.Record(r.cfg, float64(records), now)
	r.topicLocked(topic).errs.Record(r.cfg, float64(records), now)
	r.mu.Unlock()
}

// Answered records a Produce response: the request's latency from its send to its
// answer, on node, and the broker's throttle time.
func (r *Registry) Answered(node int32, latencyMs int64, throttleMs int32, now int64) {
	c := r.cfg
	r.mu.Lock()
	r.latency[0].Record(c, float64(latencyMs), now)
	r.latency[1].Record(c, float64(latencyMs), now)
	r.throttle[0].Record(c, float64(throttleMs), now)
	r.throttle[1].Record(c, float64(throttleMs), now)
	n := r.nodeLat[node]
	if n == nil {
		n = &[2]SampledStat{newSampled(kindAvg, c), newSampled(kindMax, c)}
		r.nodeLat[node] = n
	}
	n[0].Record(c, float64(latencyMs), now)
	n[1].Record(c, float64(latencyMs), now)
	r.mu.Unlock()
}

// Split records a batch split in two after MESSAGE_TOO_LARGE.
func (r *Registry) Split(now int64) {
	r.mu.Lock()
	r.split.Record(r.cfg, 1, now)
	r.mu.Unlock()
}

// BufferWait records a send that waited ns for buffer.memory; exhausted when it gave up
// at max.block.ms.
func (r *Registry) BufferWait(ns int64, exhausted bool, now int64) {
	r.mu.Lock()
	r.bufWait.Record(r.cfg, float64(ns), now)
	if exhausted {
		r.exhausted.Record(r.cfg, 1, now)
	}
	r.mu.Unlock()
}

// IO is one broker node's traffic recorder, handed to its connections.
type IO struct {
	r    *Registry
	node int32
}

// IO returns node's recorder; nil r gives nil, which records nothing.
func (r *Registry) IO(node int32) *IO {
	if r == nil {
		return nil
	}
	return &IO{r: r, node: node}
}

func (io *IO) nodeLocked() *ioStats {
	s := io.r.nodeIO[io.node]
	if s == nil {
		x := newIO(io.r.cfg)
		s = &x
		io.r.nodeIO[io.node] = s
	}
	return s
}

// Sent records requests written whole, of the given frame sizes.
func (io *IO) Sent(sizes []int64, now int64) {
	if io == nil || len(sizes) == 0 {
		return
	}
	c := io.r.cfg
	io.r.netMu.Lock()
	n := io.nodeLocked()
	for _, s := range sizes {
		for _, x := range [2]*ioStats{&io.r.net, n} {
			x.out.Record(c, float64(s), now)
			x.reqs.Record(c, float64(s), now)
			x.reqSize[0].Record(c, float64(s), now)
			x.reqSize[1].Record(c, float64(s), now)
		}
	}
	io.r.netMu.Unlock()
}

// Received records a response frame of size bytes.
func (io *IO) Received(size int64, now int64) {
	if io == nil {
		return
	}
	c := io.r.cfg
	io.r.netMu.Lock()
	n := io.nodeLocked()
	for _, x := range [2]*ioStats{&io.r.net, n} {
		x.in.Record(c, float64(size), now)
		x.resp.Record(c, float64(size), now)
	}
	io.r.netMu.Unlock()
}

// Opened records a connection established; Closed one closed.
func (io *IO) Opened(now int64) {
	if io == nil {
		return
	}
	io.r.netMu.Lock()
	io.r.conns.Record(io.r.cfg, 1, now)
	io.r.open++
	io.r.netMu.Unlock()
}

// Closed records a connection closed.
func (io *IO) Closed(now int64) {
	if io == nil {
		return
	}
	io.r.netMu.Lock()
	io.r.closes.Record(io.r.cfg, 1, now)
	io.r.open--
	io.r.netMu.Unlock()
}

// NodeName is Java's node-id tag value: "node-" and the connection id (negative for a
// bootstrap address: "node--1").
func NodeName(id int32) string { return "node-" + strconv.Itoa(int(id)) }

// Snapshot returns every metric's value at now, sorted by group, name and tags.
func (r *Registry) Snapshot(now int64) []Value {
	c := r.cfg
	var out []Value
	add := func(group, name, desc string, v float64) {
		out = append(out, Value{Name: name, Group: group, Description: desc, V: v})
	}
	total := func(group, name, desc string, v float64) {
		out = append(out, Value{Name: name, Group: group, Description: desc, V: v, Counter: true})
	}
	meter := func(group, base, what string, m *Meter) {
		add(group, base+"-rate", "The average per second number of "+what+".", m.Rate.Measure(c, now))
		total(group, base+"-total", "The total number of "+what+".", m.Total)
	}
	P := GroupProducer

	r.mu.Lock()
	add(P, "batch-size-avg", "The average bytes per batch sent, per partition per request.", r.batchSize[0].Measure(c, now))
	add(P, "batch-size-max", "The largest batch sent, in bytes.", r.batchSize[1].Measure(c, now))
	add(P, "compression-rate-avg", "The average ratio of compressed to uncompressed size of the batches sent.", r.compress.Measure(c, now))
	add(P, "record-queue-time-avg", "The average ms a batch waited in the accumulator before it was sent.", r.queueTime[0].Measure(c, now))
	add(P, "record-queue-time-max", "The longest ms a batch waited in the accumulator before it was sent.", r.queueTime[1].Measure(c, now))
	add(P, "request-latency-avg", "The average ms from a Produce request's send to its answer.", r.latency[0].Measure(c, now))
	add(P, "request-latency-max", "The longest ms from a Produce request's send to its answer.", r.latency[1].Measure(c, now))
	add(P, "produce-throttle-time-avg", "The average ms the brokers throttled Produce requests.", r.throttle[0].Measure(c, now))
	add(P, "produce-throttle-time-max", "The longest ms a broker throttled a Produce request.", r.throttle[1].Measure(c, now))
	add(P, "records-per-request-avg", "The average records per Produce request.", r.perReq.Measure(c, now))
	add(P, "record-size-avg", "The average, over batches, of the upper bound in bytes of a batch's largest record.", r.recSize[0].Measure(c, now))
	add(P, "record-size-max", "The upper bound in bytes of the largest record sent.", r.recSize[1].Measure(c, now))
	meter(P, "record-send", "records sent (each attempt counts)", &r.send)
	meter(P, "record-retry", "records retried", &r.retry)
	meter(P, "record-error", "records that failed for good", &r.errs)
	meter(P, "batch-split", "batches split after MESSAGE_TOO_LARGE", &r.split)
	meter(P, "buffer-exhausted", "sends that gave up waiting for buffer.memory", &r.exhausted)
	add(P, "bufferpool-wait-ratio", "The fraction of time appenders spent waiting for buffer.memory.", r.bufWait.Rate.Measure(c, now)/1e9)
	total(P, "bufferpool-wait-time-ns-total", "The total ns appenders waited for buffer.memory.", r.bufWait.Total)
	for name, t := range r.topics {
		n0 := len(out)
		meter(GroupTopic, "record-send", "records sent to the topic (each attempt counts)", &t.send)
		meter(GroupTopic, "byte", "bytes of batches sent to the topic", &t.bytes)
		meter(GroupTopic, "record-retry", "records of the topic retried", &t.retry)
		meter(GroupTopic, "record-error", "records of the topic that failed for good", &t.errs)
		add(GroupTopic, "compression-rate", "The average compression ratio of the topic's batches.", t.compress.Measure(c, now))
		for i := n0; i < len(out); i++ {
			out[i].Topic = name
		}
	}
	for id, l := range r.nodeLat {
		add(GroupNode, "request-latency-avg", "The average ms from a Produce request's send to its answer.", l[0].Measure(c, now))
		add(GroupNode, "request-latency-max", "The longest ms from a Produce request's send to its answer.", l[1].Measure(c, now))
		out[len(out)-1].Node, out[len(out)-2].Node = NodeName(id), NodeName(id)
	}
	r.mu.Unlock()

	r.netMu.Lock()
	io := func(group string, s *ioStats) {
		meter(group, "outgoing-byte", "bytes sent", &s.out)
		meter(group, "request", "requests sent", &s.reqs)
		meter(group, "incoming-byte", "bytes read", &s.in)
		meter(group, "response", "responses read", &s.resp)
		add(group, "request-size-avg", "The average size in bytes of the requests sent.", s.reqSize[0].Measure(c, now))
		add(group, "request-size-max", "The largest request sent, in bytes.", s.reqSize[1].Measure(c, now))
	}
	io(P, &r.net)
	meter(P, "connection-creation", "connections established", &r.conns)
	meter(P, "connection-close", "connections closed", &r.closes)
	add(P, "connection-count", "The connections open now.", float64(r.open))
	for id, s := range r.nodeIO {
		n0 := len(out)
		io(GroupNode, s)
		for i := n0; i < len(out); i++ {
			out[i].Node = NodeName(id)
		}
	}
	r.netMu.Unlock()

	ns := func(name, desc string, v *atomic.Int64) { total(P, name, desc, float64(v.Load())) }
	ns("flush-time-ns-total", "The total ns spent in Flush.", &r.FlushNs)
	ns("metadata-wait-time-ns-total", "The total ns sends waited for topic metadata.", &r.MetadataWaitNs)
	ns("txn-init-time-ns-total", "The total ns spent in InitTransactions.", &r.TxnInitNs)
	ns("txn-begin-time-ns-total", "The total ns spent in BeginTransaction.", &r.TxnBeginNs)
	ns("txn-commit-time-ns-total", "The total ns spent in CommitTransaction.", &r.TxnCommitNs)
	ns("txn-abort-time-ns-total", "The total ns spent in AbortTransaction.", &r.TxnAbortNs)
	ns("txn-send-offsets-time-ns-total", "The total ns spent in SendOffsetsToTransaction.", &r.TxnOffsNs)
	for _, g := range r.gauges {
		add(P, g.name, g.desc, g.f())
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		return a.Node < b.Node
	})
	return out
}
