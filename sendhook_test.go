package kprod_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// hookEvent is one call into hookRecorder.
type hookEvent struct {
	start   kprod.SendStart // OnSend's view (Headers copied)
	outcome *kprod.SendOutcome
}

// hookRecorder is a SendHook that injects a header naming each record's sequence number,
// remembers what it saw, and panics where told to.
type hookRecorder struct {
	mu          sync.Mutex
	events      []*hookEvent
	events2cb   []string // "done <value>" and "cb <value>" in the order they ran
	panicOnSend string   // a value whose OnSend panics (after appending a header)
	panicOnDone string   // a value whose OnDone panics
}

func (h *hookRecorder) OnSend(_ context.Context, s *kprod.SendStart) any {
	s.Headers = append(s.Headers, kprod.Header{Key: "hooked", Value: []byte("yes")})
	ev := &hookEvent{start: *s}
	ev.start.Headers = append([]kprod.Header(nil), s.Headers...)
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
	if string(s.Value) == h.panicOnSend {
		panic("OnSend panics")
	}
	return ev
}

func (h *hookRecorder) OnDone(state any, o kprod.SendOutcome) {
	ev := state.(*hookEvent)
	h.mu.Lock()
	ev.outcome = &o
	h.events2cb = append(h.events2cb, "done "+string(ev.start.Value))
	h.mu.Unlock()
	if string(ev.start.Value) == h.panicOnDone {
		panic("OnDone panics")
	}
}

func (h *hookRecorder) callback(value string) func(kprod.RecordMetadata, error) {
	return func(kprod.RecordMetadata, error) {
		h.mu.Lock()
		h.events2cb = append(h.events2cb, "cb "+value)
		h.mu.Unlock()
	}
}

// TestSendHook: the hook sees each record at Send (topic, explicit partition, key,
// headers, client.id) and its outcome exactly once, before the callback: the offset
// and partition on success, the broker's error on failure, and Send's own refusal at
// once. The header it injects is written, the caller's headers are left alone, and
// SendSync and fire-and-forget Sends are followed too.
func TestSendHook(t *testing.T) {
	const topic = "hooked"
	c := kafkatest.New(t, kafkatest.Topic(topic, 2), kafkatest.Topic("hooked-any", 1))
	c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Partitions: []int32{1}, Err: kerr.InvalidRecord})
	h := &hookRecorder{}
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.ClientID = "hook-client" }, kprod.WithSendHook(h))
	ctx := context.Background()

	callerHeaders := make([]kprod.Header, 1, 4) // spare capacity an append could write into
	callerHeaders[0] = kprod.Header{Key: "mine", Value: []byte("1")}
	rec := &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Key: []byte("k"), Value: []byte("a"), Headers: callerHeaders}
	if err := p.Send(ctx, rec, h.callback("a")); err != nil {
		t.Fatal(err)
	}
	if len(rec.Headers) != 1 || callerHeaders[:2][1].Key != "" {
		t.Errorf("the caller's headers were modified: %+v", callerHeaders[:2])
	}
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: []byte("b")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: "hooked-any", Value: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	_, failed := p.SendSync(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(1), Value: []byte("d")})
	if !errors.Is(failed, &kprod.KafkaError{Code: kerr.InvalidRecord.Code}) {
		t.Fatalf("record to the faulted partition: %v; want INVALID_RECORD", failed)
	}
	refused := p.Send(ctx, &kprod.Record{Topic: "bad topic!", Value: []byte("e")}, h.callback("e"))
	if !errors.Is(refused, kprod.ErrInvalidTopic) {
		t.Fatalf("Send to an invalid topic: %v", refused)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) != 5 {
		t.Fatalf("OnSend ran %d times; want 5", len(h.events))
	}
	byValue := map[string]*hookEvent{}
	for _, ev := range h.events {
		byValue[string(ev.start.Value)] = ev
		if ev.start.ClientID != "hook-client" {
			t.Errorf("OnSend saw %+v", ev.start)
		}
		if ev.outcome == nil {
			t.Errorf("record %q: no OnDone", ev.start.Value)
		}
	}
	a := byValue["a"]
	if a.start.Partition != 0 || string(a.start.Key) != "k" || len(a.start.Headers) != 2 || a.start.Headers[0].Key != "mine" {
		t.Errorf("OnSend of a saw %+v", a.start)
	}
	if s := byValue["c"].start; s.Partition != -1 || s.Topic != "hooked-any" || s.Key != nil {
		t.Errorf("OnSend of a record without a partition saw %+v; want partition -1", s)
	}
	for _, v := range []string{"a", "b", "c"} {
		if o := byValue[v].outcome; o.Err != nil || o.Metadata.Partition != 0 || o.Metadata.Offset < 0 || o.Metadata.Topic != byValue[v].start.Topic {
			t.Errorf("OnDone of %s: %+v", v, o)
		}
	}
	if o := byValue["d"].outcome; !errors.Is(o.Err, &kprod.KafkaError{Code: kerr.InvalidRecord.Code}) || o.Metadata.Offset != -1 {
		t.Errorf("OnDone of the failed record: %+v", o)
	}
	if o := byValue["e"].outcome; !errors.Is(o.Err, kprod.ErrInvalidTopic) || o.Metadata.Partition != -1 {
		t.Errorf("OnDone of the refused record: %+v", o)
	}
	if got := strings.Join(h.events2cb, ","); !strings.Contains(got, "done a,cb a") || strings.Contains(got, "cb e") {
		t.Errorf("order of OnDone and callbacks: %s; want OnDone first, no callback for a refused record", got)
	}

	recs := readBack(t, c.Bootstrap(), topic, 2) // partition 1 refused d
	for _, r := range recs {
		last := r.Headers[len(r.Headers)-1]
		if last.Key != "hooked" || string(last.Value) != "yes" {
			t.Errorf("record %q was written with headers %+v; want the hook's last", r.Value, r.Headers)
		}
		if string(r.Value) == "a" && (len(r.Headers) != 2 || r.Headers[0].Key != "mine") {
			t.Errorf("record a was written with headers %+v; want mine, hooked", r.Headers)
		}
	}
}

// TestSendHookPanics: a hook panicking in OnSend or OnDone is logged and breaks
// nothing: the record is sent as it was before the hook (without the header it added
// before panicking), and the callback still runs.
func TestSendHookPanics(t *testing.T) {
	const topic = "hook-panics"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	h := &hookRecorder{panicOnSend: "s", panicOnDone: "d"}
	var logs syncBuffer
	p := newProducer(t, c.Bootstrap(), nil, kprod.WithSendHook(h), kprod.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx := context.Background()
	for _, v := range []string{"s", "d", "ok"} {
		if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte(v)}); err != nil {
			t.Fatalf("record %s: %v", v, err)
		}
	}
	recs := readBack(t, c.Bootstrap(), topic, 3)
	for _, r := range recs {
		want := 1
		if string(r.Value) == "s" {
			want = 0
		}
		if len(r.Headers) != want {
			t.Errorf("record %q written with headers %+v; want %d", r.Value, r.Headers, want)
		}
	}
	h.mu.Lock()
	if got := strings.Join(h.events2cb, ","); got != "done d,done ok" {
		t.Errorf("OnDone ran for %s; want d and ok (s's OnSend panicked)", got)
	}
	h.mu.Unlock()
	out := logs.String()
	for _, m := range []string{"send hook OnSend panicked", "send hook OnDone panicked"} {
		if !strings.Contains(out, m) {
			t.Errorf("log lacks %q:\n%s", m, out)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the producer's goroutines to log into.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCoreImportsNoOpenTelemetry: tracing lives in plugin/kotel, its own module; no
// package of the core module depends on OpenTelemetry (issue 13 item 3).
func TestCoreImportsNoOpenTelemetry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "-test", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "go.opentelemetry.io/") {
			t.Errorf("the core module depends on %s", pkg)
		}
	}
}

// TestSendHookSpooled: with spool.dir, the hook sees each record at Send and its
// outcome once it is delivered from the spool, and its header is spooled and written.
func TestSendHookSpooled(t *testing.T) {
	const topic = "hooked-spool"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	h := &hookRecorder{}
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.SpoolDir = t.TempDir() }, kprod.WithSendHook(h))
	ctx := context.Background()
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("a")}, h.callback("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	if len(h.events) != 2 {
		t.Fatalf("OnSend ran %d times; want 2", len(h.events))
	}
	for _, ev := range h.events {
		if o := ev.outcome; o == nil || o.Err != nil || o.Metadata.Offset < 0 {
			t.Errorf("record %q: OnDone saw %+v; want its offset", ev.start.Value, o)
		}
	}
	if got := strings.Join(h.events2cb, ","); !strings.Contains(got, "done a,cb a") {
		t.Errorf("order of OnDone and callbacks: %s; want OnDone first", got)
	}
	h.mu.Unlock()
	for _, r := range readBack(t, c.Bootstrap(), topic, 2) {
		if n := len(r.Headers); n != 1 || r.Headers[0].Key != "hooked" {
			t.Errorf("record %q was written with headers %+v; want the hook's", r.Value, r.Headers)
		}
	}
}
