package kprod_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/partition"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestSpoolDelivers: with spool.dir, records go through the spool to the broker, their
// callbacks run, and the acknowledged records leave the spool.
func TestSpoolDelivers(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("spool-a", 3))
	dir := t.TempDir()
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.SpoolDir = dir; cfg.SpoolSync = kprod.SpoolSyncAlways })
	ctx := context.Background()
	const n = 500
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range n {
		wg.Add(1)
		err := p.Send(ctx, &kprod.Record{Topic: "spool-a", Key: []byte(strconv.Itoa(i % 7)), Value: []byte(strconv.Itoa(i)),
			Headers: []kprod.Header{{Key: "h", Value: []byte("v")}}}, func(md kprod.RecordMetadata, err error) {
			defer wg.Done()
			if err != nil {
				failed.Add(1)
				t.Error(err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: "spool-a", Partition: kprod.InPartition(2), Value: []byte("sync")}); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if st := p.SpoolStats(); st.Records != 0 || st.Recovered != 0 {
		t.Fatalf("after Flush: %+v", st)
	}
	recs := readBack(t, c.Bootstrap(), "spool-a", n+1)
	if len(recs) != n+1 {
		t.Fatalf("read %d records, want %d", len(recs), n+1)
	}
	next := map[string]int{} // per key: values in send order on the key's partition
	for _, r := range recs {
		if string(r.Value) == "sync" {
			if r.Partition != 2 {
				t.Fatalf("explicit partition 2: got %d", r.Partition)
			}
			continue
		}
		v, _ := strconv.Atoi(string(r.Value))
		if want := partition.KeyPartition(r.Key, 3); r.Partition != want {
			t.Fatalf("key %s on partition %d, murmur2 says %d", r.Key, r.Partition, want)
		}
		if v < next[string(r.Key)] || len(r.Headers) != 1 {
			t.Fatalf("record %d out of order or without its header", v)
		}
		next[string(r.Key)] = v
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close with an empty spool: %v", err)
	}
}

// TestSpoolClusterDown: Send accepts records while no broker answers (before any
// metadata); Close leaves them in the spool and says so; a new producer on the
// directory delivers them, in order per partition, to the partition murmur2 gives.
func TestSpoolClusterDown(t *testing.T) {
	dir := t.TempDir()
	cfg := kprod.Config{BootstrapServers: []string{"127.0.0.1:1"}, SpoolDir: dir, SpoolSync: kprod.SpoolSyncNone,
		MaxBlock: 200 * time.Millisecond}
	p, err := kprod.NewProducer(cfg, kprod.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var left atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		err := p.Send(context.Background(), &kprod.Record{Topic: "spool-b", Key: []byte(strconv.Itoa(i % 5)), Value: []byte(strconv.Itoa(i))},
			func(_ kprod.RecordMetadata, err error) {
				defer wg.Done()
				if errors.Is(err, kprod.ErrSpooled) && errors.Is(err, kprod.ErrClosed) {
					left.Add(1)
				} else {
					t.Errorf("callback with the cluster down: %v", err)
				}
			})
		if err != nil {
			t.Fatalf("Send %d with the cluster down: %v", i, err)
		}
	}
	if err := p.Close(context.Background()); !errors.Is(err, kprod.ErrSpooled) {
		t.Fatalf("Close with spooled records: %v", err)
	}
	wg.Wait()
	if left.Load() != n {
		t.Fatalf("%d callbacks said the record stays spooled, want %d", left.Load(), n)
	}

	c := kafkatest.New(t, kafkatest.Topic("spool-b", 4))
	var recovered atomic.Int32
	cfg.BootstrapServers = c.Bootstrap()
	cfg.MaxBlock = 0
	p2 := newProducer(t, c.Bootstrap(), func(c *kprod.Config) { *c = cfg },
		kprod.WithSpoolRecovered(func(_ kprod.RecordMetadata, err error) {
			if err != nil {
				t.Error(err)
			}
			recovered.Add(1)
		}))
	if err := p2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p2.SpoolStats(); st.Recovered != n || st.RecoveredDelivered != n || st.Records != 0 || recovered.Load() != n {
		t.Fatalf("recovery: %+v, observed %d", st, recovered.Load())
	}
	recs := readBack(t, c.Bootstrap(), "spool-b", n)
	last := map[string]int{}
	for _, r := range recs {
		v, _ := strconv.Atoi(string(r.Value))
		if want := partition.KeyPartition(r.Key, 4); r.Partition != want {
			t.Fatalf("key %s on partition %d, murmur2 says %d", r.Key, r.Partition, want)
		}
		if l, ok := last[string(r.Key)]; ok && v <= l {
			t.Fatalf("key %s: %d after %d", r.Key, v, l)
		}
		last[string(r.Key)] = v
	}
	if len(recs) != n {
		t.Fatalf("read %d, want %d", len(recs), n)
	}
}

// TestSpoolLocked: one producer per spool directory.
func TestSpoolLocked(t *testing.T) {
	dir := t.TempDir()
	newProducer(t, []string{"127.0.0.1:1"}, func(c *kprod.Config) { c.SpoolDir = dir }, kprod.WithLogger(nil))
	_, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{"127.0.0.1:1"}, SpoolDir: dir})
	if !errors.Is(err, kprod.ErrSpoolLocked) {
		t.Fatalf("second producer on %s: %v", dir, err)
	}
}

// TestSpoolFull: a full spool blocks Send for max.block.ms, then fails naming
// spool.max.bytes; a record larger than the spool fails at once.
func TestSpoolFull(t *testing.T) {
	dir := t.TempDir()
	p := newProducer(t, []string{"127.0.0.1:1"}, func(c *kprod.Config) {
		c.SpoolDir, c.SpoolMaxBytes, c.MaxBlock = dir, 4096, 100*time.Millisecond
	}, kprod.WithLogger(nil))
	val := make([]byte, 500)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = p.Send(context.Background(), &kprod.Record{Topic: "t", Value: val}, nil)
	}
	if !errors.Is(err, kprod.ErrBufferExhausted) || !containsAll(err.Error(), "spool.max.bytes=4096", "max.block.ms=100") {
		t.Fatalf("full spool: %v", err)
	}
	err = p.Send(context.Background(), &kprod.Record{Topic: "t", Value: make([]byte, 5000)}, nil)
	if !errors.Is(err, kprod.ErrRecordTooLarge) || !containsAll(err.Error(), "spool.max.bytes=4096") {
		t.Fatalf("record larger than the spool: %v", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestSpoolTransactionalRefused: a transaction cannot span a crash.
func TestSpoolTransactionalRefused(t *testing.T) {
	_, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{"a:1"}, SpoolDir: t.TempDir(), TransactionalID: "x"})
	var ce *kprod.ConfigError
	if !errors.As(err, &ce) || ce.Property != "spool.dir" {
		t.Fatalf("spool.dir with transactional.id: %v", err)
	}
}

// spoolInterceptor counts what the interceptors see.
type spoolInterceptor struct{ sends, acks, ackErrs atomic.Int32 }

func (c *spoolInterceptor) OnSend(r kprod.Record) (kprod.Record, error) {
	c.sends.Add(1)
	r.Headers = append(r.Headers, kprod.Header{Key: "seen", Value: []byte("1")})
	return r, nil
}

func (c *spoolInterceptor) OnAcknowledgement(_ kprod.RecordMetadata, err error) {
	c.acks.Add(1)
	if err != nil {
		c.ackErrs.Add(1)
	}
}

// TestSpoolInterceptorsAndCloseFromCallback: interceptors see spooled records once on
// the way in (what they return is what is spooled) and once on the way out, also for
// records Close leaves in the spool; a callback calling Close does not deadlock.
func TestSpoolInterceptorsAndCloseFromCallback(t *testing.T) {
	dir := t.TempDir()
	ic := &spoolInterceptor{}
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{"127.0.0.1:1"}, SpoolDir: dir, MaxBlock: 100 * time.Millisecond},
		kprod.WithLogger(nil), kprod.WithInterceptors(ic))
	if err != nil {
		t.Fatal(err)
	}
	called := make(chan error, 3)
	for range 3 {
		if err := p.Send(context.Background(), &kprod.Record{Topic: "t", Value: []byte("v")}, func(_ kprod.RecordMetadata, err error) {
			p.Close(context.Background()) // from a callback: must not wait for itself
			called <- err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(context.Background()); !errors.Is(err, kprod.ErrSpooled) {
		t.Fatalf("Close: %v", err)
	}
	for range 3 {
		if err := <-called; !errors.Is(err, kprod.ErrSpooled) {
			t.Fatalf("callback: %v", err)
		}
	}
	if ic.sends.Load() != 3 || ic.acks.Load() != 3 || ic.ackErrs.Load() != 3 {
		t.Fatalf("interceptors: %d sends, %d acks (%d errors)", ic.sends.Load(), ic.acks.Load(), ic.ackErrs.Load())
	}
	// The next producer delivers the records as the interceptor returned them.
	c := kafkatest.New(t, kafkatest.Topic("t", 1))
	p2 := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.SpoolDir = dir })
	if err := p2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range readBack(t, c.Bootstrap(), "t", 3) {
		if len(r.Headers) != 1 || r.Headers[0].Key != "seen" {
			t.Fatalf("record without the interceptor's header: %+v", r.Headers)
		}
	}
}

// TestSpoolMissingTopic: a record for a topic the cluster does not have fails after
// delivery.timeout.ms and leaves the spool; the records behind it are delivered.
func TestSpoolMissingTopic(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("spool-here", 1))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.SpoolDir, cfg.MaxBlock, cfg.DeliveryTimeout, cfg.Linger, cfg.RequestTimeout = t.TempDir(), 100*time.Millisecond, 500*time.Millisecond, kprod.ZeroDuration, 400*time.Millisecond
	}, kprod.WithLogger(nil))
	missing := make(chan error, 1)
	if err := p.Send(context.Background(), &kprod.Record{Topic: "spool-nowhere", Value: []byte("x")}, func(_ kprod.RecordMetadata, err error) {
		missing <- err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendSync(context.Background(), &kprod.Record{Topic: "spool-here", Value: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	if err := <-missing; !errors.Is(err, kprod.ErrMetadataTimeout) || !strings.Contains(err.Error(), "delivery.timeout.ms=500") {
		t.Fatalf("record for a missing topic: %v", err)
	}
	if st := p.SpoolStats(); st.Records != 0 {
		t.Fatalf("spool after both: %+v", st)
	}
}
