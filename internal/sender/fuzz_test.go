package sender

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/wire"
)

// fuzzShape is the request of FuzzHandleProduceResponse for a shape number: 1 to 18
// topics t00.., the first with 1 to 18 partitions and the others with one, so that the
// fuzzer reaches both the scans and the sorted views of match.
func fuzzShape(shape uint16) (names [][2]int) {
	topics, parts := 1+int(shape)%18, 1+int(shape/18)%18
	for p := range parts {
		names = append(names, [2]int{0, p})
	}
	for t := 1; t < topics; t++ {
		names = append(names, [2]int{t, 0})
	}
	return names
}

func fuzzTopic(t int) string { return fmt.Sprintf("t%02d", t) }

// FuzzHandleProduceResponse feeds arbitrary Produce response bytes, decoded by the
// connection's decoder, to a request of up to 35 batches and lets the sender handle them.
// Whatever the broker says (garbage, another order, duplicates, unknown topics and
// partitions, far more partitions than asked, any error code), nothing panics, matching
// costs at most one lookup per name in the response, every batch leaves the request
// exactly once (completed, or back in its queue for a retry or as split halves), and
// after Shutdown every record has completed exactly once.
func FuzzHandleProduceResponse(f *testing.F) {
	const version = 9
	seed := func(shape uint16, order []int, codes map[int]int16, extra ...[2]int) {
		names := fuzzShape(shape)
		resp := kmsg.NewPtrProduceResponse()
		resp.Version = version
		add := func(tp [2]int, code int16) {
			name := fuzzTopic(tp[0])
			if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != name {
				resp.Topics = append(resp.Topics, kmsg.ProduceResponseTopic{Topic: name})
			}
			rt := &resp.Topics[len(resp.Topics)-1]
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.BaseOffset = int32(tp[1]), code, 10
			rt.Partitions = append(rt.Partitions, rp)
		}
		if order == nil {
			for i := range names {
				order = append(order, i)
			}
		}
		for _, i := range order {
			add(names[i], codes[i])
		}
		for _, tp := range extra {
			add(tp, 0)
		}
		f.Add(shape, uint8(version-wire.MinProduceVersion), resp.AppendTo(nil))
	}
	seed(3*18+1, nil, nil) // 2 topics, the first with 4 partitions: in order
	seed(3*18+1, []int{4, 3, 2, 1, 0}, map[int]int16{1: kerr.NotLeaderForPartition.Code, 4: kerr.MessageTooLarge.Code})
	seed(17*18+17, nil, map[int]int16{0: kerr.OutOfOrderSequenceNumber.Code, 20: kerr.InvalidRecord.Code}) // 18 topics, 18 partitions
	seed(17*18+17, []int{30, 2, 2, 19, 0}, map[int]int16{2: kerr.RequestTimedOut.Code, 19: kerr.DuplicateSequenceNumber.Code},
		[2]int{40, 0}, [2]int{0, 70})
	seed(2, []int{0, 1, 2}, map[int]int16{0: kerr.UnknownProducerID.Code, 2: kerr.NotEnoughReplicasAfterAppend.Code})
	f.Add(uint16(0), uint8(0), []byte{})
	f.Add(uint16(5), uint8(0xff), []byte{0, 0, 0, 1})

	f.Fuzz(func(t *testing.T, shape uint16, v uint8, body []byte) {
		version := wire.MinProduceVersion + int16(v)%(wire.MaxProduceVersion-wire.MinProduceVersion+1)
		h := newHarness(t, nil)
		var bs []*accumulator.Batch
		var sent []int // records per batch
		records := 0
		for i, tp := range fuzzShape(shape) {
			b := h.batch(t, fuzzTopic(tp[0]), int32(tp[1]), 1+i%3)
			records += b.NumRecords()
			bs = append(bs, b)
			sent = append(sent, b.NumRecords())
		}
		r := h.send(t, version, bs...)
		parts := make([]*accumulator.Partition, len(bs))
		for i, b := range bs {
			parts[i] = b.PartitionQueue() // a split batch forgets its partition
		}
		h.answer(r, body, nil)

		// Bounded work: at most one lookup per topic and partition of the response.
		named := 0
		for _, rt := range r.resp.Topics {
			named += 1 + len(rt.Partitions)
		}
		if r.err == nil && r.lookups > named {
			t.Fatalf("%d lookups for %d names in the response", r.lookups, named)
		}
		completed := map[*accumulator.Batch]int{}
		for _, c := range h.done {
			completed[c.b]++
		}
		for i, b := range bs {
			p := parts[i]
			if b.InFlight || len(p.InFlight) != 0 {
				t.Fatalf("%s-%d still in flight after its answer", b.Topic, b.Partition)
			}
			q := p.Queued()
			queued := 0
			for _, x := range q {
				queued += x.NumRecords()
			}
			switch n := completed[b]; {
			case n > 1:
				t.Fatalf("%s-%d completed %d times", b.Topic, b.Partition, n)
			case n == 1 && len(q) != 0:
				t.Fatalf("%s-%d completed and still queued", b.Topic, b.Partition)
			case n == 0 && queued != sent[i]:
				t.Fatalf("%s-%d neither completed nor back in its queue (%d of %d records queued)", b.Topic, b.Partition, queued, sent[i])
			case n == 0 && len(q) != 1 && !(len(q) == 2 && sent[i] > 1):
				t.Fatalf("%s-%d back in its queue as %d batches", b.Topic, b.Partition, len(q))
			}
		}

		// Shutdown completes what is left: every batch (or split half) exactly once,
		// every record once.
		h.s.Shutdown(errors.New("fuzz: shutdown"))
		completed = map[*accumulator.Batch]int{}
		done := 0
		for _, c := range h.done {
			if completed[c.b]++; completed[c.b] > 1 {
				t.Fatalf("%s-%d completed twice", c.b.Topic, c.b.Partition)
			}
			done += c.b.NumRecords()
		}
		if done != records {
			t.Fatalf("%d records completed, %d were sent", done, records)
		}
	})
}
