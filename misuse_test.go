package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/serde"
)

// Misuse tests: a nil argument or a partitioner's impossible answer is an error the
// caller can handle, never a panic and never a record sent somewhere else.

// noPanic runs f and turns a panic into a test error.
func noPanic(t *testing.T, name string, f func() error) (err error) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Errorf("%s panicked: %v", name, v)
			err = nil
		}
	}()
	return f()
}

// refusedMisuse checks err is the misuse error want, names call when given, and
// is neither retriable nor possibly written.
func refusedMisuse(t *testing.T, name string, err, want error, call string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s = %v; want %v", name, err, want)
		return
	}
	if !strings.HasPrefix(err.Error(), "kprod: ") || !strings.Contains(err.Error(), call) {
		t.Errorf("%s: error %q does not name %s", name, err, call)
	}
	if kprod.MaybeWritten(err) || kprod.IsRetriable(err) {
		t.Errorf("%s: MaybeWritten = %v, IsRetriable = %v; want false, false", name, kprod.MaybeWritten(err), kprod.IsRetriable(err))
	}
}

// countingInterceptor counts what it sees, to check the nil cases skip it cleanly.
type countingInterceptor struct{ sends, acks atomic.Int32 }

func (c *countingInterceptor) OnSend(r kprod.Record) (kprod.Record, error) {
	c.sends.Add(1)
	return r, nil
}
func (c *countingInterceptor) OnAcknowledgement(kprod.RecordMetadata, error) { c.acks.Add(1) }

// TestMisuseNilArguments: a nil record or a nil ctx to any call returns ErrNilRecord
// or ErrNilContext naming the call, does nothing, and leaves the producer working; a
// nil callback is fire-and-forget.
func TestMisuseNilArguments(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("nil", 1))
	for _, withInterceptor := range []bool{false, true} {
		t.Run(fmt.Sprintf("interceptor=%v", withInterceptor), func(t *testing.T) {
			ic := &countingInterceptor{}
			var opts []kprod.Option
			if withInterceptor {
				opts = append(opts, kprod.WithInterceptors(ic))
			}
			p := newProducer(t, c.Bootstrap(), nil, opts...)
			typed := kprod.NewTyped(p, serde.String(), serde.String())
			ctx := context.Background()
			rec := &kprod.Record{Topic: "nil", Value: []byte("v")}
			trec := &kprod.TypedRecord[string, string]{Topic: "nil", Value: "v"}
			cbRan := func(kprod.RecordMetadata, error) { t.Error("callback ran for a refused record") }
			var nilCtx context.Context

			for _, tc := range []struct {
				name string
				want error
				call string
				f    func() error
			}{
				{"Send(nil record)", kprod.ErrNilRecord, "", func() error { return p.Send(ctx, nil, cbRan) }},
				{"Send(nil ctx)", kprod.ErrNilContext, "Send", func() error { return p.Send(nilCtx, rec, cbRan) }},
				{"Send(nil ctx, nil record)", kprod.ErrNilRecord, "", func() error { return p.Send(nilCtx, nil, nil) }},
				{"SendSync(nil record)", kprod.ErrNilRecord, "", func() error { _, err := p.SendSync(ctx, nil); return err }},
				{"SendSync(nil ctx)", kprod.ErrNilContext, "Send", func() error { _, err := p.SendSync(nilCtx, rec); return err }},
				{"Typed.Send(nil record)", kprod.ErrNilRecord, "", func() error { return typed.Send(ctx, nil, cbRan) }},
				{"Typed.Send(nil ctx)", kprod.ErrNilContext, "Send", func() error { return typed.Send(nilCtx, trec, cbRan) }},
				{"Typed.SendSync(nil record)", kprod.ErrNilRecord, "", func() error { _, err := typed.SendSync(ctx, nil); return err }},
				{"Typed.SendSync(nil ctx)", kprod.ErrNilContext, "Send", func() error { _, err := typed.SendSync(nilCtx, trec); return err }},
				{"Flush(nil ctx)", kprod.ErrNilContext, "Flush", func() error { return p.Flush(nilCtx) }},
				{"PartitionsFor(nil ctx)", kprod.ErrNilContext, "PartitionsFor", func() error { _, err := p.PartitionsFor(nilCtx, "nil"); return err }},
				{"Close(nil ctx)", kprod.ErrNilContext, "Close", func() error { return p.Close(nilCtx) }},
			} {
				err := noPanic(t, tc.name, tc.f)
				refusedMisuse(t, tc.name, err, tc.want, tc.call)
			}
			if n := ic.sends.Load(); n != 0 {
				t.Errorf("interceptor OnSend ran %d times for refused calls", n)
			}

			// Nothing was closed or broken: the producer still sends, and a nil callback
			// is fire-and-forget (the record is written all the same).
			if err := p.Send(ctx, &kprod.Record{Topic: "nil", Value: []byte("fire-and-forget")}, nil); err != nil {
				t.Fatalf("Send with a nil callback: %v", err)
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatalf("Flush after Close(nil): %v", err)
			}
			if withInterceptor && (ic.sends.Load() != 1 || ic.acks.Load() != 1) {
				t.Errorf("interceptor saw %d sends, %d acks of the fire-and-forget record; want 1, 1", ic.sends.Load(), ic.acks.Load())
			}
		})
	}
	// Both producers wrote one fire-and-forget record each, and nothing else.
	got := rtConsume(t, c.Bootstrap(), "nil", 2, 10*time.Second)
	if len(got) != 2 || string(got[0].Value) != "fire-and-forget" || string(got[1].Value) != "fire-and-forget" {
		t.Fatalf("read back %d records; want the 2 fire-and-forget ones", len(got))
	}
	if sum := rtEndOffsetsSum(t, rtClient(t, c.Bootstrap()), "nil", 1); sum != 2 {
		t.Fatalf("topic holds %d records; want 2", sum)
	}
}

// TestMisuseNilContextTransactions: the transaction calls refuse a nil ctx before
// doing anything; the transaction then proceeds normally.
func TestMisuseNilContextTransactions(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("txnil", 1))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.TransactionalID = "misuse-nil" })
	ctx := context.Background()
	var nilCtx context.Context
	call := func(name string, f func() error) {
		t.Helper()
		err := noPanic(t, name, f)
		refusedMisuse(t, name, err, kprod.ErrNilContext, strings.TrimSuffix(name, "(nil ctx)"))
	}
	call("InitTransactions(nil ctx)", func() error { return p.InitTransactions(nilCtx) })
	if err := p.InitTransactions(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(ctx, &kprod.Record{Topic: "txnil", Value: []byte("committed")}, nil); err != nil {
		t.Fatal(err)
	}
	call("SendOffsetsToTransaction(nil ctx)", func() error {
		return p.SendOffsetsToTransaction(nilCtx, map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: "txnil"}: {Offset: 1}},
			kprod.ConsumerGroupMetadata{GroupID: "g"})
	})
	call("CommitTransaction(nil ctx)", func() error { return p.CommitTransaction(nilCtx) })
	call("AbortTransaction(nil ctx)", func() error { return p.AbortTransaction(nilCtx) })
	// Neither the refused commit nor the refused abort ended the transaction.
	if err := p.CommitTransaction(ctx); err != nil {
		t.Fatalf("CommitTransaction after the refused calls: %v", err)
	}
	got := rtConsume(t, c.Bootstrap(), "txnil", 1, 10*time.Second)
	if len(got) != 1 || string(got[0].Value) != "committed" {
		t.Fatalf("read back %v; want the committed record", got)
	}
}

// partitionerAnswer is a Partitioner returning a settable number.
type partitionerAnswer struct{ n atomic.Int32 }

func (p *partitionerAnswer) Partition(string, []byte, []byte, int32) int32 { return p.n.Load() }

// TestMisusePartitionerOutOfRange: a custom partitioner returning a number outside
// [0, count) other than -1 (the built-in choice) fails Send with ErrInvalidPartition
// naming the partitioner and the number, before anything is buffered or a sequence
// taken: the topic holds only the valid records sent afterwards, and their batches
// start at sequence 0.
func TestMisusePartitionerOutOfRange(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("pt", 3))
	var mu sync.Mutex
	firstSeq := map[int32]int32{} // partition -> base sequence of its first Produce batch
	fake := c.Fake()
	fake.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		for _, tp := range req.(*kmsg.ProduceRequest).Topics {
			for _, pp := range tp.Partitions {
				var b kmsg.RecordBatch
				if err := b.ReadFrom(pp.Records); err != nil {
					t.Errorf("Produce batch of partition %d: %v", pp.Partition, err)
					continue
				}
				mu.Lock()
				if _, seen := firstSeq[pp.Partition]; !seen {
					firstSeq[pp.Partition] = b.FirstSequence
				}
				mu.Unlock()
			}
		}
		return nil, nil, false
	})

	part := &partitionerAnswer{}
	ic := &countingInterceptor{}
	p := newProducer(t, c.Bootstrap(), nil, kprod.WithPartitioner(part), kprod.WithInterceptors(ic))
	ctx := context.Background()
	for _, n := range []int32{3, 4, 1 << 20, math.MaxInt32, -2, math.MinInt32} {
		part.n.Store(n)
		for _, mode := range []string{"Send", "SendSync"} {
			rec := &kprod.Record{Topic: "pt", Key: []byte("k"), Value: []byte(fmt.Sprint("bad-", n))}
			var err error
			if mode == "Send" {
				err = p.Send(ctx, rec, func(kprod.RecordMetadata, error) { t.Errorf("callback ran for partition %d", n) })
			} else {
				_, err = p.SendSync(ctx, rec)
			}
			name := fmt.Sprintf("%s with the partitioner answering %d", mode, n)
			if !errors.Is(err, kprod.ErrInvalidPartition) {
				t.Fatalf("%s = %v; want ErrInvalidPartition", name, err)
			}
			for _, want := range []string{"*kprod_test.partitionerAnswer", fmt.Sprintf("partition %d ", n), "3 partitions"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: error %q lacks %q", name, err, want)
				}
			}
			if kprod.MaybeWritten(err) || kprod.IsRetriable(err) {
				t.Errorf("%s: MaybeWritten = %v, IsRetriable = %v", name, kprod.MaybeWritten(err), kprod.IsRetriable(err))
			}
		}
	}
	// Java's onSendError: the interceptor saw each refused record and its error.
	if s, a := ic.sends.Load(), ic.acks.Load(); s != 12 || a != 12 {
		t.Errorf("interceptor saw %d sends and %d acks; want 12 and 12", s, a)
	}

	// Valid answers: in range, and -1 for the built-in choice (murmur2 of the key).
	for _, n := range []int32{0, 2, -1} {
		part.n.Store(n)
		md, err := p.SendSync(ctx, &kprod.Record{Topic: "pt", Key: []byte("k"), Value: []byte(fmt.Sprint("good-", n))})
		if err != nil {
			t.Fatalf("partitioner answering %d: %v", n, err)
		}
		if n >= 0 && md.Partition != n {
			t.Errorf("partitioner answering %d: record went to partition %d", n, md.Partition)
		}
	}
	cl := rtClient(t, c.Bootstrap())
	if sum := rtEndOffsetsSum(t, cl, "pt", 3); sum != 3 {
		t.Fatalf("topic holds %d records; want only the 3 valid ones", sum)
	}
	for _, r := range rtConsume(t, c.Bootstrap(), "pt", 3, 10*time.Second) {
		if !strings.HasPrefix(string(r.Value), "good-") {
			t.Errorf("read back %q from partition %d: a refused record was written", r.Value, r.Partition)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for part, seq := range firstSeq {
		if seq != 0 {
			t.Errorf("partition %d's first batch has sequence %d: a refused record took a sequence", part, seq)
		}
	}
}

// TestMisuseHugeExplicitPartition: partition MaxInt32 cannot exist; Send waits for
// it up to max.block.ms like any partition beyond the count, and neither overflows
// nor allocates for it.
func TestMisuseHugeExplicitPartition(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("huge", 2))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.MaxBlock = 200 * time.Millisecond })
	ctx := context.Background()
	for _, n := range []int32{math.MaxInt32, math.MaxInt32 - 1} {
		err := noPanic(t, fmt.Sprint("Send to partition ", n), func() error {
			return p.Send(ctx, &kprod.Record{Topic: "huge", Partition: kprod.InPartition(n), Value: []byte("x")}, nil)
		})
		if !errors.Is(err, kprod.ErrMetadataTimeout) {
			t.Errorf("Send to partition %d = %v; want ErrMetadataTimeout", n, err)
		}
	}
}
