package cluster

import (
	"net"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// snapshot is one published view of the cluster; never modified once stored.
type snapshot struct {
	brokers map[int32]string
	nodes   []int32
	topics  map[string]*Topic
}

// oddities counts what buildSnapshot left out of an answer, for one log line.
type oddities struct {
	badBrokers, repeatedBrokers       int // id < 0, empty host or port outside 1-65535; id seen before
	repeatedTopics                    int // names seen before
	badPartitions, repeatedPartitions int // id < 0 or >= the count listed; ids seen before
	example                           string
}

func (o *oddities) any() bool {
	return o.badBrokers+o.repeatedBrokers+o.repeatedTopics+o.badPartitions+o.repeatedPartitions > 0
}

// note counts one oddity in *n and reports whether it is the first, whose example
// the caller then writes (only then: a hostile answer may hold millions).
func (o *oddities) note(n *int) bool {
	*n++
	return o.example == ""
}

// attrs are the counts as slog key-value pairs.
func (o *oddities) attrs() []any {
	return []any{"bad_brokers", o.badBrokers, "repeated_brokers", o.repeatedBrokers,
		"repeated_topics", o.repeatedTopics,
		"bad_partitions", o.badPartitions, "repeated_partitions", o.repeatedPartitions,
		"first", o.example}
}

// buildSnapshot turns a Metadata answer into a snapshot whose size is proportional to
// what the answer lists, whatever numbers it holds, in time linear in its size.
//
// It keeps what Java's MetadataResponse and Cluster would use and leaves out what
// cannot be right, counting it in oddities for a log line: brokers with a negative
// id, no host or a port outside 1-65535 (and repeats of a node id), and repeats of a
// topic. Topics not requested are dropped silently (Java's
// ProducerMetadata.retainTopic). A topic's partition count is, as in Java's
// Cluster.partitionCountForTopic, the number of partitions listed (negative ids left
// out); its table has one entry per id below the count, so an id at or beyond the
// count (only possible when a lower one is missing) is left out, a missing id is a
// partition without leader, and a repeated id keeps its first entry. A leader that is
// not a kept broker counts as none. old supplies leader epochs (KIP-320); requested
// nil keeps every topic.
func buildSnapshot(resp *kmsg.MetadataResponse, requested map[string]bool, old *snapshot) (*snapshot, oddities) {
	var odd oddities
	s := &snapshot{brokers: make(map[int32]string, len(resp.Brokers)), topics: map[string]*Topic{}}
	for _, b := range resp.Brokers {
		switch _, seen := s.brokers[b.NodeID]; {
		case b.NodeID < 0 || b.Host == "" || b.Port < 1 || b.Port > 65535:
			if odd.note(&odd.badBrokers) {
				odd.example = "broker " + strconv.Itoa(int(b.NodeID)) + " at " + b.Host + ":" + strconv.Itoa(int(b.Port))
			}
		case seen:
			if odd.note(&odd.repeatedBrokers) {
				odd.example = "broker " + strconv.Itoa(int(b.NodeID)) + " listed twice"
			}
		default:
			s.brokers[b.NodeID] = net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
			s.nodes = append(s.nodes, b.NodeID)
		}
	}
	slices.Sort(s.nodes)
	for i := range resp.Topics {
		rt := &resp.Topics[i]
		if rt.Topic == nil {
			continue
		}
		name := *rt.Topic
		if requested != nil && !requested[name] {
			continue // as Java's ProducerMetadata.retainTopic, silently: v0 lists all topics
		}
		if _, seen := s.topics[name]; seen {
			if odd.note(&odd.repeatedTopics) {
				odd.example = "topic " + name + " listed twice"
			}
			continue
		}
		t := &Topic{Name: name, ID: rt.TopicID, ErrorCode: rt.ErrorCode}
		t.Partitions = partitionTable(t.Name, rt.Partitions, s.brokers, &odd)
		if old != nil {
			keepNewerEpochs(old.topics[name], t, s.brokers)
		}
		t.Parts.Count = int32(len(t.Partitions))
		for _, p := range t.Partitions {
			if p.Leader >= 0 {
				t.Parts.Available = append(t.Parts.Available, p.ID)
			}
		}
		if old != nil {
			if ot, ok := old.topics[name]; ok && ot.used.Load() {
				t.used.Store(true)
			}
		}
		s.topics[name] = t
	}
	return s, odd
}

// partitionTable indexes a topic's listed partitions by id, as buildSnapshot says.
func partitionTable(topic string, listed []kmsg.MetadataResponseTopicPartition, brokers map[int32]string, odd *oddities) []Partition {
	count := 0
	for i := range listed {
		if listed[i].Partition >= 0 {
			count++
		}
	}
	parts := make([]Partition, count)
	for i := range parts {
		parts[i] = Partition{ID: int32(i), Leader: -1, LeaderEpoch: -1}
	}
	filled := make([]bool, count)
	for i := range listed {
		rp := &listed[i]
		switch id := rp.Partition; {
		case id < 0 || int(id) >= count:
			if odd.note(&odd.badPartitions) {
				odd.example = "partition " + strconv.Itoa(int(id)) + " of " + topic + ", which lists " + strconv.Itoa(count)
			}
		case filled[id]:
			if odd.note(&odd.repeatedPartitions) {
				odd.example = "partition " + strconv.Itoa(int(id)) + " of " + topic + " listed twice"
			}
		default:
			filled[id] = true
			p := &parts[id]
			p.Leader, p.LeaderEpoch, p.ErrorCode = rp.Leader, rp.LeaderEpoch, rp.ErrorCode
			p.Replicas, p.ISR, p.Offline = rp.Replicas, rp.ISR, rp.OfflineReplicas
			if _, known := brokers[rp.Leader]; !known {
				p.Leader = -1
			}
		}
	}
	return parts
}

// keepNewerEpochs keeps a partition's known state when a response reports an older leader
// epoch (KIP-320): a broker that has not caught up with the controller must not send the
// producer back to a former leader. A recreated topic (new id) starts afresh.
func keepNewerEpochs(old, t *Topic, brokers map[int32]string) {
	if old == nil || (old.ID != [16]byte{} && t.ID != [16]byte{} && old.ID != t.ID) {
		return
	}
	for i := range t.Partitions {
		if i >= len(old.Partitions) {
			break
		}
		np, op := t.Partitions[i], old.Partitions[i]
		if _, live := brokers[op.Leader]; np.LeaderEpoch >= 0 && op.LeaderEpoch > np.LeaderEpoch && live {
			t.Partitions[i] = op
		}
	}
}
