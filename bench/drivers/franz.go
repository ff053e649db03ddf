package drivers

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func init() { registry["franz-go"] = newFranz }

// franzClient drives franz-go's kgo. Record reuse: kgo owns a *Record until its promise
// runs (it sets partition, offset, timestamp, producer id), so records come from a
// sync.Pool and the promise zeroes one and puts it back. One shared promise acks every
// record; latency mode uses one promise per ring slot, built before measuring.
type franzClient struct {
	cl       *kgo.Client
	payloads [][]byte
	keys     [][]byte
	pool     sync.Pool
	promise  func(*kgo.Record, error)
	slotPr   []func(*kgo.Record, error)
}

func newFranz(o *Options, payloads [][]byte, tr *tracker) (producer, error) {
	codecs := []kgo.CompressionCodec{kgo.NoCompression(), kgo.GzipCompression(), kgo.SnappyCompression(),
		kgo.Lz4Compression(), kgo.ZstdCompression()}
	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(o.Brokers, ",")...),
		kgo.ClientID("bench-franz-go"),
		kgo.DefaultProduceTopic(o.Topic),
		// franz-go defaults to a 10 ms linger (0 in older releases): set it explicitly.
		kgo.ProducerLinger(time.Duration(o.LingerMs) * time.Millisecond),
		kgo.ProducerBatchMaxBytes(int32(o.BatchBytes)),
		kgo.ProducerBatchCompression(codecs[codecIndex(o.Compression)]),
		// The default MaxBufferedRecords (10,000) would cap it far below buffer.memory.
		kgo.MaxBufferedBytes(o.BufferBytes),
		kgo.MaxBufferedRecords(1 << 30),
		kgo.AllowAutoTopicCreation(),
	}
	if o.Acks == "1" {
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	} else {
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	}
	if !o.Idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	tlsOpts, err := franzTLS(o.TLSCA)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, tlsOpts...)...)
	if err != nil {
		return nil, err
	}
	f := &franzClient{cl: cl, payloads: payloads, keys: Keys(o.Keys)}
	f.pool.New = func() any { return new(kgo.Record) }
	f.promise = func(r *kgo.Record, err error) {
		tr.ack(1, err)
		*r = kgo.Record{}
		f.pool.Put(r)
	}
	if tr.slots != nil {
		f.slotPr = make([]func(*kgo.Record, error), len(tr.slots))
		for i := range tr.slots {
			s := &tr.slots[i]
			f.slotPr[i] = func(r *kgo.Record, err error) {
				tr.slotDone(s, err)
				*r = kgo.Record{}
				f.pool.Put(r)
			}
		}
	}
	return f, nil
}

func (f *franzClient) send(ctx context.Context, i int, s *slot) error {
	r := f.pool.Get().(*kgo.Record)
	r.Value = f.payloads[i%len(f.payloads)]
	if f.keys != nil {
		r.Key = f.keys[i%len(f.keys)]
	}
	pr := f.promise
	if s != nil {
		pr = f.slotPr[s.k]
	}
	f.cl.Produce(ctx, r, pr)
	return nil
}

// fork returns f: its records come from a sync.Pool and kgo's Produce is safe for
// concurrent use, so senders share everything.
func (f *franzClient) fork() producer { return f }

func (f *franzClient) flush(ctx context.Context) error { return f.cl.Flush(ctx) }

func (f *franzClient) close() { f.cl.Close() }

func (f *franzClient) notes() []string { return nil }
