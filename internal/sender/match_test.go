package sender

import (
	"testing"
)

// naiveMatch is the reference pairing: every response partition, in order, answers the
// request's batch of the same topic and partition unless an earlier one did. It returns
// for each batch the index (in response order) of the partition answering it, -1 for
// none.
func naiveMatch(r *request) []int {
	out := make([]int, len(r.batches))
	for i := range out {
		out[i] = -1
	}
	n := 0
	for _, t := range r.resp.Topics {
		for _, p := range t.Partitions {
			for i, b := range r.batches {
				if out[i] < 0 && b.Topic == string(t.Name) && b.Partition == p.Partition {
					out[i] = n
					break
				}
			}
			n++
		}
	}
	return out
}

// checkMatch runs match on r's decoded response and compares it with naiveMatch, using
// each partition's base offset as its identity. It returns the number of response
// partitions and topics.
func checkMatch(t testing.TB, r *request) (parts, topics int) {
	t.Helper()
	if cap(r.results) < len(r.batches) {
		r.results = make([]partResult, len(r.batches))
	}
	r.results = r.results[:len(r.batches)]
	clear(r.results)
	want := naiveMatch(r)
	var offsets []int64
	for _, tr := range r.resp.Topics {
		for _, p := range tr.Partitions {
			offsets = append(offsets, p.BaseOffset)
		}
	}
	r.match()
	for i, w := range want {
		res := r.results[i]
		switch {
		case w < 0 && res.answered:
			t.Fatalf("batch %d (%s-%d) answered; the response does not name it", i, r.batches[i].Topic, r.batches[i].Partition)
		case w >= 0 && !res.answered:
			t.Fatalf("batch %d (%s-%d) unanswered; the response names it", i, r.batches[i].Topic, r.batches[i].Partition)
		case w >= 0 && res.baseOffset != offsets[w]:
			t.Fatalf("batch %d (%s-%d) took base offset %d; its first answer says %d", i, r.batches[i].Topic, r.batches[i].Partition, res.baseOffset, offsets[w])
		}
	}
	if r.lookups > len(offsets)+len(r.resp.Topics) {
		t.Fatalf("%d lookups for a response of %d partitions in %d topics", r.lookups, len(offsets), len(r.resp.Topics))
	}
	if len(r.topicOrder) > len(r.pr.Topics) {
		t.Fatalf("a sorted view of %d topics for a request of %d", len(r.topicOrder), len(r.pr.Topics))
	}
	for i, o := range r.partOrder {
		if i >= len(r.pr.Topics) || len(o) > len(r.pr.Topics[i].Partitions) {
			t.Fatalf("a sorted view of %d partitions for request topic %d", len(o), i)
		}
	}
	return len(offsets), len(r.resp.Topics)
}

// TestMatch: answers in the request's order are paired by a straight walk (no lookup);
// any other order, duplicates (the first answer stands), unknown topics and partitions
// (ignored) and omissions (the batch stays unanswered) pair as the reference does, with
// at most one lookup per response partition and topic.
func TestMatch(t *testing.T) {
	// The request: topic-00 partitions 0..3, topic-01 partitions 0..3.
	all := func(pairs ...[2]int) [][2]int { return pairs }
	cases := []struct {
		name       string
		pairs      [][2]int
		maxLookups int
	}{
		{"in order", all([2]int{0, 0}, [2]int{0, 1}, [2]int{0, 2}, [2]int{0, 3}, [2]int{1, 0}, [2]int{1, 1}, [2]int{1, 2}, [2]int{1, 3}), 0},
		{"reversed", all([2]int{1, 3}, [2]int{1, 2}, [2]int{1, 1}, [2]int{1, 0}, [2]int{0, 3}, [2]int{0, 2}, [2]int{0, 1}, [2]int{0, 0}), 10},
		{"duplicates", all([2]int{0, 0}, [2]int{0, 0}, [2]int{0, 1}, [2]int{0, 1}, [2]int{1, 0}), 2},
		{"unknown topic and partitions", all([2]int{0, 0}, [2]int{0, 9}, [2]int{0, 1}, [2]int{7, 0}, [2]int{7, 1}, [2]int{1, 0}), 4},
		{"omissions", all([2]int{0, 2}, [2]int{1, 3}), 2},
		{"empty", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := matchRequest(2, 4)
			if err := r.resp.Decode(9, matchBody(c.pairs)); err != nil {
				t.Fatal(err)
			}
			checkMatch(t, r)
			if r.lookups > c.maxLookups {
				t.Errorf("%d lookups, want at most %d", r.lookups, c.maxLookups)
			}
		})
	}
}

// TestMatchHostileIsLinear: a response naming 64 Ki partitions of one topic and 4 Ki
// unknown topics against a request of 1,024 batches (32 topics of 32 partitions: the
// sorted views, not the scans) is paired with one lookup per name the walk does not meet,
// not 1,024 comparisons each, and allocates nothing once the request's views exist.
func TestMatchHostileIsLinear(t *testing.T) {
	r := matchRequest(32, 32)
	var pairs [][2]int
	for p := range 1 << 16 {
		pairs = append(pairs, [2]int{3, p})
	}
	for tp := range 1 << 12 {
		pairs = append(pairs, [2]int{100 + tp, 0})
	}
	if err := r.resp.Decode(9, matchBody(pairs)); err != nil {
		t.Fatal(err)
	}
	r.results = make([]partResult, len(r.batches))
	r.match()
	for i, b := range r.batches {
		res := r.results[i]
		switch {
		case b.Topic != "topic-03" && res.answered:
			t.Fatalf("batch %s-%d answered; the response does not name it", b.Topic, b.Partition)
		case b.Topic == "topic-03" && (!res.answered || res.baseOffset != int64(b.Partition)):
			t.Fatalf("batch %s-%d: answered %v at %d; want its answer at %d", b.Topic, b.Partition, res.answered, res.baseOffset, b.Partition)
		}
	}
	// Topic-03 and its 32 partitions are met in order only after a lookup of the topic.
	if want := 1 + len(pairs) - 32; r.lookups > want {
		t.Errorf("%d lookups, want at most %d (one per name the walk does not meet)", r.lookups, want)
	}
	if allocs := testing.AllocsPerRun(3, func() { clear(r.results); r.match() }); allocs != 0 {
		t.Errorf("matching a hostile response again allocates %v times", allocs)
	}
}

// TestMatchInOrderAllocationFree: the normal path allocates nothing.
func TestMatchInOrderAllocationFree(t *testing.T) {
	r := matchRequest(4, 4)
	var pairs [][2]int
	for tp := range 4 {
		for p := range 4 {
			pairs = append(pairs, [2]int{tp, p})
		}
	}
	if err := r.resp.Decode(9, matchBody(pairs)); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(100, func() { clear(r.results); r.match() }); allocs != 0 {
		t.Errorf("matching an in-order response allocates %v times", allocs)
	}
	if r.lookups != 0 {
		t.Errorf("%d lookups for an in-order response; want a straight walk", r.lookups)
	}
}
