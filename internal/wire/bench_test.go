package wire

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const benchBatchSize = 16 << 10

func benchValue() []byte {
	v := []byte(`{"id":12345,"user":"alice","action":"click","ts":1700000000000,"tags":["a","b"],"ok":true,"n":3.14,"z":0}`)
	return v[:100]
}

// BenchmarkAppendRecord100 appends one 100-byte record per iteration,
// sealing and restarting the batch when it reaches 16 KiB, as the
// accumulator does, including the size check before each append.
func BenchmarkAppendRecord100(b *testing.B) {
	value := benchValue()
	var bb BatchBuilder
	buf := make([]byte, 0, benchBatchSize)
	bb.Reset(buf)
	ts := int64(1700000000000)
	b.ReportAllocs()
	b.SetBytes(int64(len(value)))
	for i := 0; i < b.N; i++ {
		if bb.Len()+bb.RecordSize(ts, nil, value, nil) > benchBatchSize {
			bb.Reset(buf)
		}
		bb.Append(ts, nil, value, nil)
	}
}

// BenchmarkFinishBatch16KiB measures sealing a full 16 KiB batch: header
// patching and CRC32C.
func BenchmarkFinishBatch16KiB(b *testing.B) {
	value := benchValue()
	var bb BatchBuilder
	bb.Reset(make([]byte, 0, benchBatchSize))
	for bb.Len()+bb.RecordSize(1, nil, value, nil) <= benchBatchSize {
		bb.Append(1, nil, value, nil)
	}
	b.ReportAllocs()
	b.SetBytes(int64(bb.Len()))
	for i := 0; i < b.N; i++ {
		bb.Finish(BatchOptions{})
	}
}

// BenchmarkBuildBatch16KiB measures a whole batch: reset, appends, finish
// with CRC, and stamping the producer fields; it reports ns per record.
func BenchmarkBuildBatch16KiB(b *testing.B) {
	value := benchValue()
	var bb BatchBuilder
	buf := make([]byte, 0, benchBatchSize)
	ts := int64(1700000000000)
	records := 0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bb.Reset(buf)
		for bb.Len()+bb.RecordSize(ts, nil, value, nil) <= benchBatchSize {
			bb.Append(ts, nil, value, nil)
		}
		records += bb.NumRecords()
		batch := bb.Finish(BatchOptions{DeferCRC: true})
		_ = StampProducer(batch, 1, 0, int32(i))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
}

// BenchmarkStampProducer measures stamping a sealed 16 KiB batch.
func BenchmarkStampProducer(b *testing.B) {
	value := benchValue()
	var bb BatchBuilder
	bb.Reset(make([]byte, 0, benchBatchSize))
	for bb.Len()+bb.RecordSize(1, nil, value, nil) <= benchBatchSize {
		bb.Append(1, nil, value, nil)
	}
	batch := bb.Finish(BatchOptions{DeferCRC: true})
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	for i := 0; i < b.N; i++ {
		_ = StampProducer(batch, 1, 0, int32(i))
	}
}

// benchRequest is a request of 16 partitions over 4 topics, 16 KiB each.
func benchRequest(b *testing.B, version int16) *ProduceRequest {
	value := benchValue()
	req := &ProduceRequest{Version: version, ClientID: "kprod-bench", Acks: -1, TimeoutMillis: 30000}
	for t := 0; t < 4; t++ {
		topic := ProduceTopic{Name: fmt.Sprintf("bench-topic-%d", t)}
		for p := 0; p < 4; p++ {
			var bb BatchBuilder
			bb.Reset(make([]byte, 0, benchBatchSize))
			for bb.Len()+bb.RecordSize(1, nil, value, nil) <= benchBatchSize {
				bb.Append(1, nil, value, nil)
			}
			topic.Partitions = append(topic.Partitions, ProducePartition{Partition: int32(p), Records: bb.Finish(BatchOptions{})})
		}
		req.Topics = append(req.Topics, topic)
	}
	return req
}

// BenchmarkProduceRequest16Partitions encodes a 16-partition request as
// segments (batches referenced) and as one copied frame.
func BenchmarkProduceRequest16Partitions(b *testing.B) {
	for _, v := range []int16{8, 12} {
		req := benchRequest(b, v)
		b.Run(fmt.Sprintf("v%d/segments", v), func(b *testing.B) {
			buf, segs, _ := req.AppendSegments(nil, nil, 4096)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				buf, segs, _ = req.AppendSegments(buf, segs, 4096)
				PatchCorrelationID(segs[0], int32(i))
			}
		})
		b.Run(fmt.Sprintf("v%d/copy", v), func(b *testing.B) {
			frame, _ := req.AppendTo(nil)
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				frame, _ = req.AppendTo(frame[:0])
			}
		})
	}
}

// BenchmarkDecodeProduceResponse decodes a 16-partition response.
func BenchmarkDecodeProduceResponse(b *testing.B) {
	for _, v := range []int16{8, 12} {
		k := kmsg.NewPtrProduceResponse()
		k.Version = v
		for t := 0; t < 4; t++ {
			kt := kmsg.ProduceResponseTopic{Topic: fmt.Sprintf("bench-topic-%d", t)}
			for p := 0; p < 4; p++ {
				kp := kmsg.NewProduceResponseTopicPartition()
				kp.Partition, kp.BaseOffset, kp.LogStartOffset = int32(p), int64(1e9+p), 0
				kt.Partitions = append(kt.Partitions, kp)
			}
			k.Topics = append(k.Topics, kt)
		}
		body := k.AppendTo(nil)
		b.Run(fmt.Sprintf("v%d", v), func(b *testing.B) {
			var resp ProduceResponse
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				if err := resp.Decode(v, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
