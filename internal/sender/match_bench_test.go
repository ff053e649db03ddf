package sender

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/accumulator"
)

// matchRequest returns a request for topics x parts batches (topic-major), named
// topic-00.. and numbered 0...
func matchRequest(topics, parts int) *request {
	r := &request{}
	for t := range topics {
		for p := range parts {
			r.add(&accumulator.Batch{Topic: fmt.Sprintf("topic-%02d", t), Partition: int32(p)})
		}
	}
	r.results = make([]partResult, len(r.batches))
	return r
}

// matchBody encodes a v9 Produce response naming the given (topic, partition) pairs, in
// that order, every one answered without error at a base offset equal to its position.
func matchBody(pairs [][2]int) []byte {
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = 9
	for i, tp := range pairs {
		name := fmt.Sprintf("topic-%02d", tp[0])
		if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != name {
			resp.Topics = append(resp.Topics, kmsg.ProduceResponseTopic{Topic: name})
		}
		rt := &resp.Topics[len(resp.Topics)-1]
		rp := kmsg.NewProduceResponseTopicPartition()
		rp.Partition, rp.BaseOffset = int32(tp[1]), int64(i)
		rt.Partitions = append(rt.Partitions, rp)
	}
	return resp.AppendTo(nil)
}

// BenchmarkMatchProduceResponse pairs a decoded Produce response with its request's
// batches: in the request's order (the normal case: a straight walk, no allocation),
// reversed (Kafka's answers come in hash order), and a hostile answer naming 64 Ki
// partitions of one topic against a request of 1,024 batches (32 topics of 32). ns/op is
// per response.
func BenchmarkMatchProduceResponse(b *testing.B) {
	type tc struct {
		name          string
		topics, parts int
		pairs         [][2]int
		answered      int // batches the response names
	}
	var cases []tc
	for _, size := range [][2]int{{4, 4}, {32, 32}} {
		var in, rev [][2]int
		for t := range size[0] {
			for p := range size[1] {
				in = append(in, [2]int{t, p})
			}
		}
		for i := len(in) - 1; i >= 0; i-- {
			rev = append(rev, in[i])
		}
		n := size[0] * size[1]
		cases = append(cases, tc{fmt.Sprintf("%d/in-order", n), size[0], size[1], in, n},
			tc{fmt.Sprintf("%d/reversed", n), size[0], size[1], rev, n})
	}
	var hostile [][2]int
	for p := range 1 << 16 {
		hostile = append(hostile, [2]int{0, p})
	}
	cases = append(cases, tc{"1024/hostile-65536", 32, 32, hostile, 32})
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := matchRequest(c.topics, c.parts)
			body := matchBody(c.pairs)
			if err := r.resp.Decode(9, body); err != nil {
				b.Fatal(err)
			}
			r.match()
			answered := 0
			for i := range r.results {
				if r.results[i].answered {
					answered++
				}
			}
			if answered != c.answered {
				b.Fatalf("%d batches answered, want %d", answered, c.answered)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				clear(r.results)
				r.match()
			}
		})
	}
}
