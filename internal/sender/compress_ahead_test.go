package sender

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"kprod/internal/accumulator"
	"kprod/internal/config"
	"kprod/internal/txn"
)

// TestCompressAhead: batches compressed in parallel by compressAhead, then stamped by
// encode, are the bytes a sequential encode produces, for every codec, idempotent or
// not; each decodes to its own records.
func TestCompressAhead(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	for _, codec := range []int8{config.CodecGzip, config.CodecSnappy, config.CodecLZ4, config.CodecZstd} {
		for _, idem := range []bool{false, true} {
			t.Run(fmt.Sprintf("codec%d/idempotent=%v", codec, idem), func(t *testing.T) {
				encodeAll := func(parallel bool) [][]byte {
					const parts = 6
					acc := accumulator.New(accumulator.Config{BatchSize: 16 << 10, BufferMemory: 4 << 20, Compressed: true})
					m := txn.New(txn.Config{})
					defer m.Close()
					set := config.Settings{Idempotent: idem, BatchSize: 16 << 10, Codec: codec, MaxRequestSize: 1 << 20,
						GzipLevel: config.GzipDefaultLevel, LZ4Level: 9}
					s, err := New(Config{Settings: set, Acc: acc, Txn: m, Complete: func(*accumulator.Batch, Result) {}})
					if err != nil {
						t.Fatal(err)
					}
					defer s.Shutdown(nil)
					var ps []*accumulator.Partition
					var bs []*accumulator.Batch
					for part := range int32(parts) {
						for i := range 200 {
							r := &accumulator.Rec{Timestamp: 1, Value: fmt.Appendf(nil, `{"partition":%d,"i":%d}`, part, i)}
							if _, ok, err := acc.Append(context.Background(), time.Now().Add(time.Second), acc.Topic("t"),
								accumulator.Target{Partition: part}, r); !ok || err != nil {
								t.Fatalf("Append: %v %v", ok, err)
							}
						}
						p := acc.Topic("t").Partition(part)
						b := p.Queued()[0]
						p.SealHead(b)
						ps, bs = append(ps, p), append(bs, b)
					}
					if parallel {
						s.compressAhead(bs)
						for i, b := range bs {
							if b.Encoded == nil {
								t.Fatalf("batch %d not compressed ahead", i)
							}
						}
					}
					var out [][]byte
					for i, b := range bs {
						enc, err := s.encode(ps[i], b)
						if err != nil {
							t.Fatal(err)
						}
						var rb kmsg.RecordBatch
						if err := rb.ReadFrom(enc); err != nil || rb.NumRecords != 200 || rb.Attributes&7 != int16(codec) {
							t.Fatalf("batch %d: %v, %d records, attributes %x", i, err, rb.NumRecords, rb.Attributes)
						}
						out = append(out, bytes.Clone(enc))
					}
					return out
				}
				seq, par := encodeAll(false), encodeAll(true)
				for i := range seq {
					if !bytes.Equal(seq[i], par[i]) {
						t.Fatalf("batch %d: parallel encoding differs from sequential", i)
					}
				}
			})
		}
	}
}
