package partition

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// LoadStats gathers, during one ready pass of the sender, the queue sizes of
// one topic's partitions and turns them into the weights of adaptive
// partitioning (KIP-794, partitioner.adaptive.partitioning.enable, default
// true). It reproduces the bookkeeping Java's RecordAccumulator.partitionReady
// does for BuiltInPartitioner.updatePartitionLoadStats.
//
// Usage per topic and pass: Reset, then Add for every partition that has a
// batch queue and a known leader, then Sticky.UpdateLoadStats. A LoadStats
// belongs to one goroutine (the sender's ready pass) and may be reused for
// every topic and every pass; its buffers grow to the largest topic and then
// stop allocating.
type LoadStats struct {
	queueSizes []int32
	ids        []int32
	// queues is the number of partitions that have a batch queue: Java's
	// queueSizes.length, which counts leaderless partitions too.
	queues int
	// collecting is false when this pass produces no statistics (adaptive
	// partitioning off, or not every partition has a queue yet).
	collecting bool
}

// Reset starts a pass for one topic. adaptive is
// partitioner.adaptive.partitioning.enable; queues is how many partitions of
// the topic currently have a batch queue in the accumulator; numPartitions is
// the topic's partition count.
//
// As in Java, statistics are only gathered once every partition has a queue:
// the table is built from the queues, and a partition missing from it could
// never be drawn. Until then, and whenever adaptive is false, UpdateLoadStats
// turns the weighting off and the sticky partitioner draws uniformly.
func (l *LoadStats) Reset(adaptive bool, queues, numPartitions int) {
	l.queueSizes = l.queueSizes[:0]
	l.ids = l.ids[:0]
	l.queues = queues
	l.collecting = adaptive && queues > 0 && queues >= numPartitions
}

// Add records one partition's queue size, in batches waiting to be sent.
// Call it only for partitions that have a queue and a known leader: Java
// leaves leaderless partitions out of the table.
//
// unavailable is true when the partition's leader has had data ready but
// could not be drained for longer than partitioner.availability.timeout.ms
// (see NodeLatency.Unavailable); such a partition is left out of the table so
// the partitioner stops choosing it. Java only evaluates this for partitions
// whose queue is not empty, an empty queue always counting as available with
// size 0; Add does the same so the weights match Java's.
func (l *LoadStats) Add(partition int32, queueSize int, unavailable bool) {
	if !l.collecting {
		return
	}
	if queueSize > 0 && unavailable {
		return
	}
	l.ids = append(l.ids, partition)
	// Clamped so that maxQueue+1 below fits an int32.
	l.queueSizes = append(l.queueSizes, int32(min(max(queueSize, 0), math.MaxInt32-1)))
}

// UpdateLoadStats publishes the weights gathered in l for this topic's
// sticky partitioner (Java's BuiltInPartitioner.updatePartitionLoadStats).
// It consumes l: the queue sizes are turned into the cumulative frequency
// table in place, so Reset l before reusing it.
//
// The table gives partition i the weight maxQueue+1-queue[i]: with queue
// sizes 0 3 1 the weights are 4 1 3 and the running sums 4 5 8, and a uniform
// draw r in [0,8) picks the first partition whose sum exceeds r. Weighting is
// turned off (uniform choice among partitions with a leader) when there is no
// data, when the topic has fewer than two partitions with queues, or when all
// queues are equal and none was left out.
func (s *Sticky) UpdateLoadStats(l *LoadStats) {
	length := len(l.queueSizes)
	if !l.collecting || length < 1 || l.queues < 2 {
		s.table.set(nil, nil)
		return
	}
	q := l.queueSizes
	maxSizePlus1 := q[0]
	allEqual := true
	for _, v := range q[1:] {
		if v != maxSizePlus1 {
			allEqual = false
		}
		if v > maxSizePlus1 {
			maxSizePlus1 = v
		}
	}
	maxSizePlus1++
	if allEqual && length == l.queues {
		s.table.set(nil, nil)
		return
	}
	// Java sums in int and would wrap around past 2^31; that takes
	// thousands of partitions with hundreds of thousands of queued batches
	// each. Rather than a garbage (non-increasing) table, weighting is
	// turned off there.
	var sum int64
	for i, v := range q {
		sum += int64(maxSizePlus1 - v)
		if sum > math.MaxInt32 {
			s.table.set(nil, nil)
			return
		}
		q[i] = int32(sum)
	}
	s.table.set(q, l.ids)
}

// loadTable is the published cumulative frequency table of one topic. The
// sender replaces it once per ready pass and appenders read it only when the
// sticky partition switches, so a mutex held for a copy or a binary search
// costs less than the allocation an immutable, atomically swapped table
// would need on every pass.
type loadTable struct {
	mu sync.Mutex
	// cft is strictly increasing (every weight is at least 1); ids[i] is the
	// partition drawn for values in [cft[i-1], cft[i]). Guarded by mu; empty
	// means no weighting.
	cft []int32
	ids []int32
}

func (t *loadTable) set(cft, ids []int32) {
	t.mu.Lock()
	t.cft = append(t.cft[:0], cft...)
	t.ids = append(t.ids[:0], ids...)
	t.mu.Unlock()
}

// pick maps the non-negative random to a partition with the table's weights,
// or reports false when there is no table.
func (t *loadTable) pick(random int32) (int32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.cft)
	if n == 0 {
		return 0, false
	}
	weighted := random % t.cft[n-1]
	i := sort.Search(n, func(i int) bool { return t.cft[i] > weighted })
	return t.ids[i], true
}

// appendIDs appends the table's partitions to buf and reports whether there is a table.
func (t *loadTable) appendIDs(buf []int32) ([]int32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.cft) == 0 {
		return buf, false
	}
	return append(buf, t.ids...), true
}

// rangeEnd returns the sum of all weights, 0 without a table (Java's
// test-only loadStatsRangeEnd).
func (t *loadTable) rangeEnd() int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.cft) == 0 {
		return 0
	}
	return t.cft[len(t.cft)-1]
}

// NodeLatency tracks, per broker, how long data for it has been waiting
// without the connection being able to take it, for
// partitioner.availability.timeout.ms (KIP-794; Java's
// RecordAccumulator.NodeLatencyStats). Partitions led by a broker that had
// ready data but could not be drained for longer than the timeout are left
// out of the adaptive weights, so keyless records avoid it. The setting only
// acts through LoadStats, so like in Java it has no effect when adaptive
// partitioning is off.
//
// Time is passed in by the caller. Safe for concurrent use; lookups take no
// lock and allocate nothing once a broker was seen.
type NodeLatency struct {
	timeout time.Duration
	// start is the origin of the stored instants, so that differences use
	// the monotonic clock when the caller's times carry one.
	start time.Time
	nodes cowMap[int32, *nodeLatency]
}

type nodeLatency struct {
	// readyNanos: last time the node had batches ready to send.
	readyNanos atomic.Int64
	// drainNanos: last time the node could be drained.
	drainNanos atomic.Int64
}

// NewNodeLatency returns a tracker for partitioner.availability.timeout.ms =
// timeout (default 0: disabled). start is any instant from the caller's clock
// no later than the first observation, typically the producer's creation.
func NewNodeLatency(timeout time.Duration, start time.Time) *NodeLatency {
	return &NodeLatency{timeout: timeout, start: start}
}

// Update records that the sender found batches ready for node at now;
// canDrain tells whether the node's connection could take them (Java's
// updateNodeLatencyStats, called from Sender.sendProducerData with
// client.ready(node)). A ready-but-not-drainable node only advances its ready
// time, so the gap to its drain time measures how long data has waited. It
// does nothing when the timeout is disabled.
func (l *NodeLatency) Update(node int32, now time.Time, canDrain bool) {
	if l.timeout <= 0 {
		return
	}
	at := int64(now.Sub(l.start))
	n, ok := l.nodes.load(node)
	if !ok {
		n = l.nodes.loadOrStore(node, func() *nodeLatency {
			fresh := &nodeLatency{}
			fresh.readyNanos.Store(at)
			fresh.drainNanos.Store(at)
			return fresh
		})
	}
	// Drain time first: a concurrent reader then never sees a new ready
	// time against an old drain time that this very update refreshes.
	if canDrain {
		n.drainNanos.Store(at)
	}
	n.readyNanos.Store(at)
}

// Unavailable reports whether partitions led by node should be left out of
// the adaptive weights: the timeout is enabled and the node's ready data has
// waited longer than it. Unknown nodes are available.
func (l *NodeLatency) Unavailable(node int32) bool {
	if l.timeout <= 0 {
		return false
	}
	n, ok := l.nodes.load(node)
	if !ok {
		return false
	}
	// Ready time first, the counterpart of Update's order.
	ready := n.readyNanos.Load()
	return ready-n.drainNanos.Load() > int64(l.timeout)
}
