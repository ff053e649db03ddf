package sender

import (
	"time"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/wire"
)

// copyBelow: batches at least this large are written by reference (writev) rather than
// copied into the request buffer.
const copyBelow = 64 << 10

// request is one Produce request from encoding to its answer. Pooled by the sender.
type request struct {
	s       *Sender
	node    int32
	conn    *broker.Conn
	version int16
	sentAt  time.Time
	batches []*accumulator.Batch

	pr   wire.ProduceRequest
	buf  []byte
	segs [][]byte
	// slots[t][i] is the index in batches of pr.Topics[t].Partitions[i], to pair the
	// response's partitions with batches (see match). Inner slices keep their capacity.
	slots [][]int32
	// topicOrder and partOrder are sorted views of pr.Topics (by name) and of each
	// topic's partitions (by id), built only for an answer out of the request's order.
	topicOrder []int32
	partOrder  [][]int32
	// lookups counts match's binary searches: at most one per partition and topic of
	// the response, none for an answer in the request's order (FuzzHandleProduceResponse
	// and TestMatch check this bound on the work).
	lookups int

	// Written by the connection's loop in onResponse, read by the sender afterwards.
	resp    wire.ProduceResponse
	results []partResult
	err     error
	done    func([]byte, error) // r.onResponse, bound once
}

// partResult is one batch's answer, copied out of the response buffer.
type partResult struct {
	code          int16
	baseOffset    int64
	logAppendTime int64
	logStart      int64
	msg           string
	recordErrs    map[int32]string
	leader        int32
	leaderEpoch   int32
	answered      bool
}

func (s *Sender) newRequest(node int32, conn *broker.Conn, version int16) *request {
	var r *request
	if n := len(s.reqPool); n > 0 {
		r = s.reqPool[n-1]
		s.reqPool = s.reqPool[:n-1]
	} else {
		r = &request{s: s}
		r.done = r.onResponse
	}
	r.node, r.conn, r.version, r.err = node, conn, version, nil
	r.pr.Version = version
	r.pr.ClientID = s.set.ClientID
	r.pr.Acks = s.set.Acks
	r.pr.TimeoutMillis = int32(s.set.RequestTimeout / time.Millisecond)
	r.pr.TransactionalID = nil
	if s.set.TransactionalID != "" {
		id := s.set.TransactionalID
		r.pr.TransactionalID = &id
	}
	r.pr.Topics = r.pr.Topics[:0]
	r.slots = r.slots[:0]
	return r
}

func (s *Sender) recycle(r *request) {
	clear(r.batches)
	r.batches = r.batches[:0]
	clear(r.results)
	r.results = r.results[:0]
	clear(r.segs)
	r.segs = r.segs[:0]
	r.conn = nil
	s.reqPool = append(s.reqPool, r)
}

// add puts batch b in the request, grouping partitions by topic.
func (r *request) add(b *accumulator.Batch) {
	slot := int32(len(r.batches))
	r.batches = append(r.batches, b)
	tp := wire.ProducePartition{Partition: b.Partition, Records: b.Encoded}
	for i := range r.pr.Topics {
		if r.pr.Topics[i].Name == b.Topic {
			r.pr.Topics[i].Partitions = append(r.pr.Topics[i].Partitions, tp)
			r.slots[i] = append(r.slots[i], slot)
			return
		}
	}
	n := len(r.pr.Topics)
	if n < cap(r.pr.Topics) {
		r.pr.Topics = r.pr.Topics[:n+1]
		r.pr.Topics[n].Name = b.Topic
		r.pr.Topics[n].Partitions = append(r.pr.Topics[n].Partitions[:0], tp)
	} else {
		r.pr.Topics = append(r.pr.Topics, wire.ProduceTopic{Name: b.Topic, Partitions: []wire.ProducePartition{tp}})
	}
	if n < cap(r.slots) {
		r.slots = r.slots[:n+1]
		r.slots[n] = append(r.slots[n][:0], slot)
	} else {
		r.slots = append(r.slots, []int32{slot})
	}
}

// write encodes and queues the request on its connection without waiting.
func (s *Sender) write(r *request) error {
	var err error
	r.buf, r.segs, err = r.pr.AppendSegments(r.buf, r.segs, copyBelow)
	if err != nil {
		return err
	}
	return r.conn.TryProduce(s.ctx, r.segs, s.set.Acks != 0, r.done)
}

// onResponse runs on the connection's loop: it copies what the sender needs out of the
// response buffer (valid only during the call) and hands the request to the sender loop.
func (r *request) onResponse(body []byte, err error) {
	if cap(r.results) < len(r.batches) {
		r.results = make([]partResult, len(r.batches))
	}
	r.results = r.results[:len(r.batches)]
	clear(r.results)
	r.err = err
	if err == nil && body != nil {
		if derr := r.resp.Decode(r.version, body); derr != nil {
			r.err = derr
		} else {
			r.match()
		}
	}
	s := r.s
	s.respMu.Lock()
	s.resps = append(s.resps, r)
	s.respMu.Unlock()
	s.Wake()
}
