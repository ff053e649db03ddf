package sender

import (
	"cmp"
	"slices"
	"strings"
)

// match pairs the response's partitions with the request's batches. An answer in the
// request's order (kfake's, or any single-partition one) is paired by a straight walk:
// each response topic and partition is compared with the one expected next. Kafka itself
// builds the answer from a hash map (KafkaApis.handleProduceRequest), so its order is
// arbitrary; that, duplicates, topics or partitions the request did not carry, and
// hostile answers naming far more of them are looked up: by a scan among a few, otherwise
// by binary search in sorted views of the request built once per response. The work is
// O(n log m) for a response of n names and a request of m batches, never n x m, and
// allocation-free once the request's views have grown. A batch named twice keeps its
// first answer; names the request did not carry are ignored; batches the response leaves
// out stay unanswered (handle retries them).
func (r *request) match() {
	r.lookups = 0
	r.topicOrder = r.topicOrder[:0]
	for i := range r.partOrder {
		r.partOrder[i] = r.partOrder[i][:0]
	}
	nextTopic := 0
	for ti := range r.resp.Topics {
		t := &r.resp.Topics[ti]
		rt := nextTopic
		if rt >= len(r.pr.Topics) || r.pr.Topics[rt].Name != string(t.Name) {
			if rt = r.findTopic(t.Name); rt < 0 {
				continue
			}
		}
		nextTopic = rt + 1
		parts, slots := r.pr.Topics[rt].Partitions, r.slots[rt]
		nextPart := 0
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			k := nextPart
			if k >= len(parts) || parts[k].Partition != p.Partition {
				if k = r.findPartition(rt, p.Partition); k < 0 {
					continue
				}
			}
			nextPart = k + 1
			res := &r.results[slots[k]]
			if res.answered {
				continue
			}
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
		}
	}
}

// scanBelow: a lookup among at most this many topics or partitions scans them, which
// costs less than sorting them first.
const scanBelow = 16

// findTopic returns the index in pr.Topics of the topic named name, -1 if the request
// has none.
func (r *request) findTopic(name []byte) int {
	r.lookups++
	if len(r.pr.Topics) <= scanBelow {
		for i := range r.pr.Topics {
			if r.pr.Topics[i].Name == string(name) {
				return i
			}
		}
		return -1
	}
	if len(r.topicOrder) == 0 {
		for i := range r.pr.Topics {
			r.topicOrder = append(r.topicOrder, int32(i))
		}
		slices.SortFunc(r.topicOrder, func(a, b int32) int {
			return strings.Compare(r.pr.Topics[a].Name, r.pr.Topics[b].Name)
		})
	}
	i, found := slices.BinarySearchFunc(r.topicOrder, name, func(t int32, name []byte) int {
		return cmpName(r.pr.Topics[t].Name, name)
	})
	if !found {
		return -1
	}
	return int(r.topicOrder[i])
}

// findPartition returns the index in pr.Topics[t].Partitions of partition id, -1 if the
// request has none.
func (r *request) findPartition(t int, id int32) int {
	r.lookups++
	parts := r.pr.Topics[t].Partitions
	if len(parts) <= scanBelow {
		for i := range parts {
			if parts[i].Partition == id {
				return i
			}
		}
		return -1
	}
	for len(r.partOrder) < len(r.pr.Topics) {
		r.partOrder = append(r.partOrder, nil)
	}
	order := r.partOrder[t]
	if len(order) == 0 {
		for i := range parts {
			order = append(order, int32(i))
		}
		slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(parts[a].Partition, parts[b].Partition) })
		r.partOrder[t] = order
	}
	i, found := slices.BinarySearchFunc(order, id, func(k, id int32) int { return cmp.Compare(parts[k].Partition, id) })
	if !found {
		return -1
	}
	return int(order[i])
}

// cmpName orders a request's topic name against a response's, without converting the
// response's bytes (the compiler compares string(b) in place).
func cmpName(a string, b []byte) int {
	switch {
	case a < string(b):
		return -1
	case a > string(b):
		return 1
	}
	return 0
}
