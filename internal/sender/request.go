package sender

import (
	"time"

	"kprod/internal/accumulator"
	"kprod/internal/broker"
	"kprod/internal/wire"
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
	r.batches = append(r.batches, b)
	tp := wire.ProducePartition{Partition: b.Partition, Records: b.Encoded}
	for i := range r.pr.Topics {
		if r.pr.Topics[i].Name == b.Topic {
			r.pr.Topics[i].Partitions = append(r.pr.Topics[i].Partitions, tp)
			return
		}
	}
	if n := len(r.pr.Topics); n < cap(r.pr.Topics) {
		r.pr.Topics = r.pr.Topics[:n+1]
		r.pr.Topics[n].Name = b.Topic
		r.pr.Topics[n].Partitions = append(r.pr.Topics[n].Partitions[:0], tp)
		return
	}
	r.pr.Topics = append(r.pr.Topics, wire.ProduceTopic{Name: b.Topic, Partitions: []wire.ProducePartition{tp}})
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

// match pairs the response's partitions with the request's batches.
func (r *request) match() {
	for ti := range r.resp.Topics {
		t := &r.resp.Topics[ti]
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			for i, b := range r.batches {
				if b.Partition != p.Partition || b.Topic != string(t.Name) || r.results[i].answered {
					continue
				}
				res := &r.results[i]
				res.answered = true
				res.code, res.baseOffset, res.logAppendTime, res.logStart = p.ErrorCode, p.BaseOffset, p.LogAppendTime, p.LogStartOffset
				res.leader, res.leaderEpoch = p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch
				if p.ErrorCode != 0 {
					if p.ErrorMessage != nil {
						res.msg = string(p.ErrorMessage)
					}
					for _, re := range p.RecordErrors {
						if res.recordErrs == nil {
							res.recordErrs = map[int32]string{}
						}
						res.recordErrs[re.BatchIndex] = string(re.Message)
					}
				}
				break
			}
		}
	}
}
