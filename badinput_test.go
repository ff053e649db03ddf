package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// Bad-input tests: what Send and NewProducer refuse, how fast, and with which error;
// and interceptors that misbehave.

// unreachable is a bootstrap address nothing listens on: a Send that needed the
// network would block for max.block.ms.
var unreachable = []string{"127.0.0.1:1"}

// TestBadInputRefusedWithoutNetwork: invalid topics, negative partitions and oversized
// records fail at once, before any metadata wait, and are certainly not written.
func TestBadInputRefusedWithoutNetwork(t *testing.T) {
	p := newProducer(t, unreachable, func(cfg *kprod.Config) {
		// max.block.ms far above the bound below: a record refused only after a network
		// wait would take a minute, not a slow moment of a loaded machine.
		cfg.MaxBlock, cfg.MaxRequestSize, cfg.BufferMemory = time.Minute, 1024, 4096
	})
	for _, tc := range []struct {
		name string
		rec  kprod.Record
		want error
	}{
		{"empty topic", kprod.Record{Topic: ""}, kprod.ErrInvalidTopic},
		{"topic .", kprod.Record{Topic: "."}, kprod.ErrInvalidTopic},
		{"topic ..", kprod.Record{Topic: ".."}, kprod.ErrInvalidTopic},
		{"topic of 250 chars", kprod.Record{Topic: strings.Repeat("t", 250)}, kprod.ErrInvalidTopic},
		{"topic with space", kprod.Record{Topic: "a b"}, kprod.ErrInvalidTopic},
		{"topic ü", kprod.Record{Topic: "ü"}, kprod.ErrInvalidTopic},
		{"topic with slash", kprod.Record{Topic: "a/b"}, kprod.ErrInvalidTopic},
		{"topic with NUL", kprod.Record{Topic: "a\x00"}, kprod.ErrInvalidTopic},
		{"negative partition", kprod.Record{Topic: "ok", Partition: kprod.InPartition(-1)}, kprod.ErrInvalidPartition},
		{"most negative partition", kprod.Record{Topic: "ok", Partition: kprod.InPartition(-1 << 31)}, kprod.ErrInvalidPartition},
		{"value over max.request.size", kprod.Record{Topic: "ok", Value: make([]byte, 1100)}, kprod.ErrRecordTooLarge},
		{"key over max.request.size", kprod.Record{Topic: "ok", Key: make([]byte, 1100)}, kprod.ErrRecordTooLarge},
		{"headers over max.request.size", kprod.Record{Topic: "ok", Headers: []kprod.Header{{Key: strings.Repeat("h", 600), Value: make([]byte, 600)}}}, kprod.ErrRecordTooLarge},
		{"just over max.request.size", kprod.Record{Topic: "ok", Value: make([]byte, 1024-70)}, kprod.ErrRecordTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []string{"Send", "SendSync"} {
				start := time.Now()
				var err error
				if mode == "Send" {
					err = p.Send(context.Background(), &tc.rec, func(kprod.RecordMetadata, error) {
						t.Errorf("%s: callback ran for a refused record", mode)
					})
				} else {
					_, err = p.SendSync(context.Background(), &tc.rec)
				}
				if took := time.Since(start); took > 10*time.Second {
					t.Errorf("%s took %v: it waited for the network", mode, took)
				}
				if !errors.Is(err, tc.want) {
					t.Errorf("%s = %v; want %v", mode, err, tc.want)
				}
				if kprod.MaybeWritten(err) {
					t.Errorf("%s: MaybeWritten(%v) = true", mode, err)
				}
				if kprod.IsRetriable(err) {
					t.Errorf("%s: IsRetriable(%v) = true", mode, err)
				}
			}
		})
	}
	// The boundary cases are valid: they pass validation and wait for metadata.
	for _, rec := range []kprod.Record{
		{Topic: strings.Repeat("t", 249)},
		{Topic: "a.b_c-D9"},
		{Topic: "ok", Value: make([]byte, 100)},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := p.Send(ctx, &rec, nil)
		cancel()
		if errors.Is(err, kprod.ErrInvalidTopic) || errors.Is(err, kprod.ErrRecordTooLarge) || err == nil {
			t.Errorf("valid record to %.20q...: Send = %v; want a metadata wait", rec.Topic, err)
		}
	}
}

// TestBadInputUnknownTopic: with auto-creation off, a topic the cluster does not have,
// or a partition beyond the topic's count, fails with ErrMetadataTimeout after
// max.block.ms, not before and not much later.
func TestBadInputUnknownTopic(t *testing.T) {
	const maxBlock = 300 * time.Millisecond
	c := kafkatest.New(t, kafkatest.Topic("two", 2))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.MaxBlock = maxBlock })
	ctx := context.Background()
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: "two", Partition: kprod.InPartition(1), Value: []byte("ok")}); err != nil {
		t.Fatalf("partition 1 of a 2-partition topic: %v", err)
	}
	for _, tc := range []struct {
		name string
		rec  kprod.Record
	}{
		{"unknown topic", kprod.Record{Topic: "missing", Value: []byte("x")}},
		{"unknown topic, explicit partition", kprod.Record{Topic: "missing", Partition: kprod.InPartition(0)}},
		{"partition == count", kprod.Record{Topic: "two", Partition: kprod.InPartition(2)}},
		{"partition far beyond count", kprod.Record{Topic: "two", Partition: kprod.InPartition(1 << 30)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := p.Send(ctx, &tc.rec, func(kprod.RecordMetadata, error) { t.Error("callback ran for a refused record") })
			took := time.Since(start)
			if !errors.Is(err, kprod.ErrMetadataTimeout) {
				t.Errorf("Send = %v; want ErrMetadataTimeout", err)
			}
			// The upper bound catches a wait for something else (a request timeout, the
			// next metadata refresh); it is not a speed check.
			if took < maxBlock-20*time.Millisecond || took > maxBlock+5*time.Second {
				t.Errorf("Send returned after %v; max.block.ms=%v", took, maxBlock)
			}
			if kprod.MaybeWritten(err) {
				t.Errorf("MaybeWritten(%v) = true", err)
			}
			start = time.Now()
			_, err = p.SendSync(ctx, &tc.rec)
			if !errors.Is(err, kprod.ErrMetadataTimeout) || time.Since(start) > maxBlock+5*time.Second {
				t.Errorf("SendSync = %v after %v; want ErrMetadataTimeout after max.block.ms", err, time.Since(start))
			}
		})
	}
	t.Run("ctx shorter than max.block.ms", func(t *testing.T) {
		// max.block.ms a minute: a Send that ignored its ctx would take that long.
		q := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.MaxBlock = time.Minute })
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := q.Send(cctx, &kprod.Record{Topic: "missing"}, nil)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
			t.Errorf("Send = %v after %v; want ctx's error at 50ms", err, time.Since(start))
		}
		if kprod.MaybeWritten(err) {
			t.Errorf("MaybeWritten(%v) = true for a record Send refused (Send's doc: certainly not written)", err)
		}
	})
}

// TestBadInputConfig: NewProducer refuses an invalid config with a *ConfigError naming
// the Java property, before starting anything.
func TestBadInputConfig(t *testing.T) {
	ok := []string{"127.0.0.1:9092"}
	for _, tc := range []struct {
		prop string
		cfg  kprod.Config
	}{
		{"bootstrap.servers", kprod.Config{}},
		{"bootstrap.servers", kprod.Config{BootstrapServers: []string{"localhost"}}},
		{"bootstrap.servers", kprod.Config{BootstrapServers: []string{"localhost:0"}}},
		{"bootstrap.servers", kprod.Config{BootstrapServers: []string{"localhost:70000"}}},
		{"bootstrap.servers", kprod.Config{BootstrapServers: []string{"a:1", "a:1"}}},
		{"acks", kprod.Config{BootstrapServers: ok, Acks: kprod.Acks(7)}},
		{"acks", kprod.Config{BootstrapServers: ok, Acks: kprod.AcksLeader, Idempotence: kprod.ToggleOn}},
		{"retries", kprod.Config{BootstrapServers: ok, Retries: kprod.NoRetries, Idempotence: kprod.ToggleOn}},
		{"batch.size", kprod.Config{BootstrapServers: ok, BatchSize: 1 << 31}},
		{"buffer.memory", kprod.Config{BootstrapServers: ok, BufferMemory: -1}},
		{"max.request.size", kprod.Config{BootstrapServers: ok, MaxRequestSize: -5}},
		{"max.in.flight.requests.per.connection", kprod.Config{BootstrapServers: ok, MaxInFlight: 6}},
		{"max.in.flight.requests.per.connection", kprod.Config{BootstrapServers: ok, MaxInFlight: -1}},
		{"delivery.timeout.ms", kprod.Config{BootstrapServers: ok, DeliveryTimeout: time.Second}},
		{"metadata.max.idle.ms", kprod.Config{BootstrapServers: ok, MetadataMaxIdle: time.Second}},
		{"compression.type", kprod.Config{BootstrapServers: ok, Compression: kprod.Compression(42)}},
		{"compression.gzip.level", kprod.Config{BootstrapServers: ok, Compression: kprod.CompressionGzip, GzipLevel: 10}},
		{"compression.zstd.level", kprod.Config{BootstrapServers: ok, ZstdLevel: 23}},
		{"enable.idempotence", kprod.Config{BootstrapServers: ok, Idempotence: kprod.Toggle(9)}},
		{"transactional.id", kprod.Config{BootstrapServers: ok, TransactionalID: "tx", Idempotence: kprod.ToggleOff}},
		{"key.serializer", kprod.Config{BootstrapServers: ok, KeySerializer: "com.example.MySerializer"}},
		{"request.timeout.ms", kprod.Config{BootstrapServers: ok, RequestTimeout: 30 * 24 * time.Hour, DeliveryTimeout: 60 * 24 * time.Hour}},
	} {
		t.Run(tc.prop, func(t *testing.T) {
			p, err := kprod.NewProducer(tc.cfg)
			if p != nil {
				p.Close(context.Background())
				t.Fatalf("NewProducer accepted %+v", tc.cfg)
			}
			var ce *kprod.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T); want a *kprod.ConfigError", err, err)
			}
			props := configProps(err)
			found := false
			for _, p := range props {
				found = found || p == tc.prop
			}
			if !found {
				t.Errorf("ConfigErrors name %v; want %s (err: %v)", props, tc.prop, err)
			}
			if !errors.Is(err, kprod.ErrInvalidConfig) || !strings.HasPrefix(err.Error(), "kprod: ") {
				t.Errorf("err = %q; want ErrInvalidConfig with a kprod: prefix", err)
			}
			if kprod.MaybeWritten(err) || kprod.IsRetriable(err) {
				t.Errorf("MaybeWritten = %v, IsRetriable = %v for a config error", kprod.MaybeWritten(err), kprod.IsRetriable(err))
			}
			if verr := tc.cfg.Validate(); verr == nil || verr.Error() != err.Error() {
				t.Errorf("Validate = %v; NewProducer = %v", verr, err)
			}
		})
	}
}

// configProps lists the properties named by every *ConfigError in a joined error.
func configProps(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if ce, ok := e.(*kprod.ConfigError); ok {
			out = append(out, ce.Property)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if x := errors.Unwrap(e); x != nil {
			walk(x)
		}
	}
	walk(err)
	return out
}

// icRewrite prefixes and suffixes values and adds a header: the replacement record is
// what must be written.
type icRewrite struct{ prefix, suffix string }

func (ic icRewrite) OnSend(r kprod.Record) (kprod.Record, error) {
	r.Value = []byte(ic.prefix + string(r.Value) + ic.suffix)
	r.Headers = append(r.Headers[:len(r.Headers):len(r.Headers)], kprod.Header{Key: "seen", Value: []byte(ic.prefix + ic.suffix)})
	return r, nil
}
func (icRewrite) OnAcknowledgement(kprod.RecordMetadata, error) {}

// icFaulty fails OnSend for values containing "-err" (returning a record that must be
// ignored), panics in OnSend for "-panic", and panics in every OnAcknowledgement.
type icFaulty struct{}

func (icFaulty) OnSend(r kprod.Record) (kprod.Record, error) {
	switch v := string(r.Value); {
	case strings.Contains(v, "-err"):
		return kprod.Record{Topic: "ignored-topic", Value: []byte("ignored")}, errors.New("interceptor refuses")
	case strings.Contains(v, "-panic"):
		panic("interceptor OnSend panics")
	}
	return r, nil
}
func (icFaulty) OnAcknowledgement(kprod.RecordMetadata, error) {
	panic("interceptor OnAcknowledgement panics")
}

// icCounter records every acknowledgement.
type icCounter struct {
	mu   sync.Mutex
	ok   map[string]int // "partition/offset" -> acks
	errs []error
}

func (*icCounter) OnSend(r kprod.Record) (kprod.Record, error) { return r, nil }
func (ic *icCounter) OnAcknowledgement(md kprod.RecordMetadata, err error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if err != nil {
		ic.errs = append(ic.errs, err)
		return
	}
	if ic.ok == nil {
		ic.ok = map[string]int{}
	}
	ic.ok[fmt.Sprintf("%d/%d", md.Partition, md.Offset)]++
}

// TestBadInputInterceptors: an OnSend's replacement is what is written; an OnSend that
// fails or panics is skipped (the record goes on as before it, later interceptors still
// run); a panicking OnAcknowledgement breaks nothing; OnAcknowledgement sees every
// outcome exactly once.
func TestBadInputInterceptors(t *testing.T) {
	const topic, n = "intercepted", 30
	c := kafkatest.New(t, kafkatest.Topic(topic, 2))
	counter := &icCounter{}
	p := newProducer(t, c.Bootstrap(), nil, kprod.WithInterceptors(icRewrite{prefix: "A:"}, icFaulty{}, icRewrite{suffix: ":B"}, counter))
	c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Partitions: []int32{1}, Err: kerr.InvalidRecord})
	ctx := context.Background()
	tr := newFTTracker(topic)
	for i := range n {
		v := fmt.Sprintf("r%02d", i)
		switch i % 3 {
		case 1:
			v += "-err"
		case 2:
			v += "-panic"
		}
		tr.send(t, p, 0, v)
	}
	_, rejected := p.SendSync(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(1), Value: []byte("doomed")})
	if !errors.Is(rejected, &kprod.KafkaError{Code: kerr.InvalidRecord.Code}) {
		t.Errorf("record to the faulted partition: %v; want INVALID_RECORD", rejected)
	}
	tr.wait(t, waitLong)
	tr.mu.Lock()
	if len(tr.errs) > 0 {
		t.Errorf("records failed: %v", tr.errs)
	}
	tr.mu.Unlock()

	recs := ftReadAll(t, c.Bootstrap(), topic, n)
	for i, r := range recs {
		want := fmt.Sprintf("A:%s:B", tr.sendOrder[0][min(i, n-1)])
		if i >= n || string(r.Value) != want || r.Partition != 0 {
			t.Errorf("log record %d is %q on partition %d; want %q on 0", i, r.Value, r.Partition, want)
			continue
		}
		var hs []string
		for _, h := range r.Headers {
			hs = append(hs, h.Key+"="+string(h.Value))
		}
		if strings.Join(hs, ",") != "seen=A:,seen=:B" {
			t.Errorf("record %s has headers %v; want both rewrites' headers", r.Value, hs)
		}
	}

	counter.mu.Lock()
	defer counter.mu.Unlock()
	for i := range n {
		if k := fmt.Sprintf("0/%d", i); counter.ok[k] != 1 {
			t.Errorf("OnAcknowledgement saw %s %d times", k, counter.ok[k])
		}
	}
	if len(counter.ok) != n {
		t.Errorf("OnAcknowledgement saw %d successes; want %d", len(counter.ok), n)
	}
	if len(counter.errs) != 1 || !errors.Is(counter.errs[0], &kprod.KafkaError{Code: kerr.InvalidRecord.Code}) {
		t.Errorf("OnAcknowledgement saw errors %v; want the one INVALID_RECORD", counter.errs)
	}
}

// TestBadInputInterceptorSendError: a record OnSend saw but Send then refused (an
// invalid partition, an unknown topic) must still reach OnAcknowledgement once with the
// error, as Java's ProducerInterceptors.onSendError does, so interceptors that count
// in-flight records balance.
func TestBadInputInterceptorSendError(t *testing.T) {
	counter := &icCounter{}
	p := newProducer(t, unreachable, func(cfg *kprod.Config) { cfg.MaxBlock = 100 * time.Millisecond },
		kprod.WithInterceptors(counter))
	ctx := context.Background()
	refused := []kprod.Record{
		{Topic: "ok", Partition: kprod.InPartition(-3)},
		{Topic: "missing"}, // metadata timeout
	}
	for i := range refused {
		if err := p.Send(ctx, &refused[i], nil); err == nil {
			t.Fatalf("Send(%+v) accepted", refused[i])
		}
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	if len(counter.errs) != len(refused) || len(counter.ok) != 0 {
		t.Errorf("OnAcknowledgement saw %d errors and %d successes for %d records Send refused after OnSend; want %d errors",
			len(counter.errs), len(counter.ok), len(refused), len(refused))
	}
}

// TestBadInputPanickingCallback: a callback that panics is logged and skipped; the
// other records of its batch still complete, in order, and the producer goes on.
func TestBadInputPanickingCallback(t *testing.T) {
	const topic, n = "panicky", 9
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.Linger = 50 * time.Millisecond })
	ctx := context.Background()
	var mu sync.Mutex
	var offsets []int64
	ran := make(chan struct{}, n)
	for i := range n {
		err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte(fmt.Sprint(i))}, func(md kprod.RecordMetadata, err error) {
			defer func() { ran <- struct{}{} }()
			if err != nil {
				t.Errorf("record %d: %v", i, err)
			}
			mu.Lock()
			offsets = append(offsets, md.Offset)
			mu.Unlock()
			if i%3 == 1 {
				panic(fmt.Sprintf("callback %d panics", i))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatalf("callbacks seen so far saw offsets %v: the rest never ran", offsets)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, o := range offsets {
		if o != int64(i) {
			t.Fatalf("callbacks saw offsets %v, want 0..%d in order", offsets, n-1)
		}
	}
	if len(offsets) != n {
		t.Fatalf("%d callbacks ran, want %d", len(offsets), n)
	}
	if md, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("after")}); err != nil || md.Offset != n {
		t.Fatalf("after the panics: %+v, %v", md, err)
	}
}
