package cluster

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// seedAnswers are Metadata answers worth starting the fuzzer from: a normal one and
// each kind of odd one.
func seedAnswers() []*kmsg.MetadataResponse {
	b0 := kmsg.MetadataResponseBroker{NodeID: 0, Host: "a", Port: 9092}
	b1 := kmsg.MetadataResponseBroker{NodeID: 1, Host: "b", Port: 9093}
	return []*kmsg.MetadataResponse{
		{Brokers: []kmsg.MetadataResponseBroker{b0, b1},
			Topics: []kmsg.MetadataResponseTopic{topicAnswer("t", part(0, 0), part(1, 1), part(2, 0))}},
		{Brokers: []kmsg.MetadataResponseBroker{b0},
			Topics: []kmsg.MetadataResponseTopic{topicAnswer("t", part(0, 0), part(1<<20, 0))}},
		{Brokers: []kmsg.MetadataResponseBroker{b0, b0, {NodeID: 2, Port: 0}, {NodeID: -1, Host: "x", Port: 1}},
			Topics: []kmsg.MetadataResponseTopic{topicAnswer("t", part(-1, 0), part(1, 2), part(1, 0)), topicAnswer("t", part(0, 5))}},
		{Topics: []kmsg.MetadataResponseTopic{{Topic: nil, ErrorCode: 3}, {Topic: kmsg.StringPtr("u"), ErrorCode: 5}}},
	}
}

// FuzzMetadataResponse decodes arbitrary bytes as a Metadata answer of any version and
// builds snapshots from it as the refresher does (first alone, then over the first for
// the leader epoch rule): no panic, and what is stored is bounded by what was listed,
// which is bounded by the input's size.
func FuzzMetadataResponse(f *testing.F) {
	maxVersion := kmsg.NewPtrMetadataResponse().MaxVersion()
	for _, r := range seedAnswers() {
		for _, v := range []int16{0, 1, 5, 7, 9, 10, 12, maxVersion} {
			r.Version = v
			f.Add(v, r.AppendTo(nil))
		}
	}
	f.Fuzz(func(t *testing.T, version int16, data []byte) {
		resp := kmsg.NewPtrMetadataResponse()
		resp.Version = min(max(version, 0), maxVersion)
		if err := resp.ReadFrom(data); err != nil {
			return
		}
		listed := 0
		for _, rt := range resp.Topics {
			listed += len(rt.Partitions)
		}
		first, _ := buildSnapshot(resp, nil, nil)
		checkSnapshot(t, first, resp, listed, len(data))
		second, _ := buildSnapshot(resp, nil, first)
		checkSnapshot(t, second, resp, listed, len(data))
		requested := map[string]bool{}
		for i, rt := range resp.Topics {
			if rt.Topic != nil && i%2 == 0 {
				requested[*rt.Topic] = true
			}
		}
		some, _ := buildSnapshot(resp, requested, second)
		checkSnapshot(t, some, resp, listed, len(data))
		for name := range some.topics {
			if !requested[name] {
				t.Fatalf("topic %q kept though not requested", name)
			}
		}
	})
}

// checkSnapshot checks a snapshot's invariants and its size against the answer.
func checkSnapshot(t *testing.T, s *snapshot, resp *kmsg.MetadataResponse, listed, inputSize int) {
	t.Helper()
	if len(s.brokers) > len(resp.Brokers) || len(s.nodes) != len(s.brokers) || len(s.topics) > len(resp.Topics) {
		t.Fatalf("%d brokers (%d nodes) and %d topics kept from %d and %d listed",
			len(s.brokers), len(s.nodes), len(s.topics), len(resp.Brokers), len(resp.Topics))
	}
	if !slices.IsSorted(s.nodes) {
		t.Fatalf("nodes %v not sorted", s.nodes)
	}
	stored := 0
	for name, top := range s.topics {
		stored += len(top.Partitions)
		if top.Name != name || int(top.Parts.Count) != len(top.Partitions) {
			t.Fatalf("topic %q: name %q, count %d, %d entries", name, top.Name, top.Parts.Count, len(top.Partitions))
		}
		for i, p := range top.Partitions {
			if p.ID != int32(i) {
				t.Fatalf("topic %q: entry %d has id %d", name, i, p.ID)
			}
			if _, known := s.brokers[p.Leader]; p.Leader >= 0 && !known {
				t.Fatalf("topic %q partition %d: leader %d is no kept broker", name, i, p.Leader)
			}
		}
		prev := int32(-1)
		for _, id := range top.Parts.Available {
			if id <= prev || id >= top.Parts.Count || top.Partitions[id].Leader < 0 {
				t.Fatalf("topic %q: available %v", name, top.Parts.Available)
			}
			prev = id
		}
	}
	if stored > listed || stored > inputSize {
		t.Fatalf("%d partition entries stored from %d listed in %d bytes", stored, listed, inputSize)
	}
}
