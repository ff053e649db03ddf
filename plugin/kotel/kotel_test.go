package kotel_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/plugin/kotel"
)

// traced is a producer on an embedded cluster whose records are traced into an
// in-memory exporter.
type traced struct {
	c   *kafkatest.Cluster
	p   *kprod.Producer
	tp  *sdktrace.TracerProvider
	exp *tracetest.InMemoryExporter
}

func newTraced(t *testing.T, topics []string, opts ...kotel.Option) *traced {
	t.Helper()
	var kopts []kafkatest.Option
	for _, name := range topics {
		kopts = append(kopts, kafkatest.Topic(name, 2))
	}
	tr := &traced{c: kafkatest.New(t, kopts...), exp: tracetest.NewInMemoryExporter()}
	tr.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(tr.exp))
	opts = append([]kotel.Option{kotel.WithTracerProvider(tr.tp)}, opts...)
	tr.p = newProducer(t, tr.c, kprod.WithSendHook(kotel.NewTracer(opts...)))
	return tr
}

func newProducer(t *testing.T, c *kafkatest.Cluster, opts ...kprod.Option) *kprod.Producer {
	t.Helper()
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), ClientID: "traced-client"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		p.Close(ctx)
	})
	return p
}

// spans returns the spans ended so far, in the order they ended.
func (tr *traced) spans() tracetest.SpanStubs { return tr.exp.GetSpans() }

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

// checkAttrs compares a span's attributes with want, in full.
func checkAttrs(t *testing.T, s tracetest.SpanStub, want map[string]string) {
	t.Helper()
	got := attrs(s)
	for k, v := range want {
		if g, ok := got[attribute.Key(k)]; !ok || g.Emit() != v {
			t.Errorf("span %s: %s = %q; want %q", s.Name, k, g.Emit(), v)
		}
	}
	for k, v := range got {
		if _, ok := want[string(k)]; !ok {
			t.Errorf("span %s: unexpected attribute %s = %q", s.Name, k, v.Emit())
		}
	}
}

// TestSpan: a record sent with a span in ctx gets a PRODUCER span "send <topic>", a
// child of that span, with the conventions' attributes, and its partition and offset
// once acknowledged.
func TestSpan(t *testing.T) {
	tr := newTraced(t, []string{"orders"})
	parentCtx, parent := tr.tp.Tracer("test").Start(context.Background(), "handle request")
	md, err := tr.p.SendSync(parentCtx, &kprod.Record{Topic: "orders", Key: []byte("order-17"), Value: []byte("v")})
	if err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := tr.spans()
	if len(spans) != 2 {
		t.Fatalf("%d spans; want the record's and its parent", len(spans))
	}
	s := spans[0]
	if s.Name != "send orders" || s.SpanKind != trace.SpanKindProducer {
		t.Errorf("span %q of kind %v; want \"send orders\", producer", s.Name, s.SpanKind)
	}
	if s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanContext.TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("span's parent %v; want the span in Send's ctx %v", s.Parent, parent.SpanContext())
	}
	if s.Status.Code != codes.Unset {
		t.Errorf("status %v of a delivered record", s.Status)
	}
	if s.InstrumentationScope.Name != "github.com/kprod-io/kprod/plugin/kotel" {
		t.Errorf("instrumentation scope %q", s.InstrumentationScope.Name)
	}
	checkAttrs(t, s, map[string]string{
		"messaging.system":                   "kafka",
		"messaging.operation.name":           "send",
		"messaging.operation.type":           "send",
		"messaging.destination.name":         "orders",
		"messaging.client.id":                "traced-client",
		"messaging.kafka.message.key":        "order-17",
		"messaging.destination.partition.id": strconv.Itoa(int(md.Partition)),
		"messaging.kafka.offset":             strconv.FormatInt(md.Offset, 10),
	})
}

// TestSpanKeysAndTombstones: a binary key (no canonical string form) and a null key
// give no key attribute; a null value marks a tombstone; an explicit partition is on
// the span from the start; a second record gets its own offset.
func TestSpanKeysAndTombstones(t *testing.T) {
	tr := newTraced(t, []string{"t"})
	ctx := context.Background()
	if _, err := tr.p.SendSync(ctx, &kprod.Record{Topic: "t", Partition: kprod.InPartition(1), Key: []byte{0xff, 0xfe}, Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.p.SendSync(ctx, &kprod.Record{Topic: "t", Partition: kprod.InPartition(1)}); err != nil {
		t.Fatal(err)
	}
	spans := tr.spans()
	if len(spans) != 2 {
		t.Fatalf("%d spans; want 2", len(spans))
	}
	base := map[string]string{"messaging.system": "kafka", "messaging.operation.name": "send", "messaging.operation.type": "send",
		"messaging.destination.name": "t", "messaging.client.id": "traced-client", "messaging.destination.partition.id": "1",
		"messaging.kafka.offset": "0"}
	checkAttrs(t, spans[0], base)
	base["messaging.kafka.offset"] = "1"
	base["messaging.kafka.message.tombstone"] = "true"
	checkAttrs(t, spans[1], base)
}

// TestSpanFailure: a record the broker refuses ends its span with an error status and
// error.type naming Kafka's error; one Send refuses ends it at once with kprod's error.
func TestSpanFailure(t *testing.T) {
	tr := newTraced(t, []string{"refused"})
	tr.c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "refused", Err: kerr.InvalidRecord})
	ctx := context.Background()
	_, err := tr.p.SendSync(ctx, &kprod.Record{Topic: "refused", Partition: kprod.InPartition(0), Value: []byte("x")})
	if !errors.Is(err, &kprod.KafkaError{Code: kerr.InvalidRecord.Code}) {
		t.Fatalf("SendSync: %v; want INVALID_RECORD", err)
	}
	if err := tr.p.Send(ctx, &kprod.Record{Topic: "no such topic!", Value: []byte("x")}, nil); !errors.Is(err, kprod.ErrInvalidTopic) {
		t.Fatalf("Send to an invalid topic: %v", err)
	}
	spans := tr.spans()
	if len(spans) != 2 {
		t.Fatalf("%d spans; want 2", len(spans))
	}
	for i, want := range []struct{ errType, partition string }{{"INVALID_RECORD", "0"}, {"kprod.ErrInvalidTopic", ""}} {
		s := spans[i]
		a := attrs(s)
		if s.Status.Code != codes.Error || s.Status.Description == "" {
			t.Errorf("span %s: status %v; want an error with its message", s.Name, s.Status)
		}
		if got := a["error.type"].Emit(); got != want.errType {
			t.Errorf("span %s: error.type %q; want %q", s.Name, got, want.errType)
		}
		if got := a["messaging.destination.partition.id"].Emit(); got != want.partition {
			t.Errorf("span %s: partition %q; want %q", s.Name, got, want.partition)
		}
		if _, ok := a["messaging.kafka.offset"]; ok {
			t.Errorf("span %s of a failed record has an offset", s.Name)
		}
	}
}

// kgoHeaders reads a franz-go record's headers as a propagation carrier: the consumer
// side, independent of kotel's carrier.
type kgoHeaders []kgo.RecordHeader

func (h kgoHeaders) Get(key string) string {
	for _, x := range h {
		if x.Key == key {
			return string(x.Value)
		}
	}
	return ""
}
func (kgoHeaders) Set(string, string) {}
func (h kgoHeaders) Keys() []string {
	var keys []string
	for _, x := range h {
		keys = append(keys, x.Key)
	}
	return keys
}

// readBack reads n records of topic from the start with franz-go.
func readBack(t *testing.T, c *kafkatest.Cluster, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(out), n, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// TestTraceContextInHeaders: a consumer reading the record back extracts the producer
// span's context from its headers (traceparent), and baggage with a propagator that
// carries it. A record that already carried a traceparent (forwarded from upstream) is
// written with the new one only, and the caller's headers are left as they were.
func TestTraceContextInHeaders(t *testing.T) {
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	tr := newTraced(t, []string{"carried"}, kotel.WithPropagator(prop))
	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx := baggage.ContextWithBaggage(context.Background(), bag)
	ctx, parent := tr.tp.Tracer("test").Start(ctx, "parent")
	defer parent.End()
	upstream := []kprod.Header{{Key: "app", Value: []byte("1")}, {Key: "traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")}}
	if _, err := tr.p.SendSync(ctx, &kprod.Record{Topic: "carried", Partition: kprod.InPartition(0), Value: []byte("x"), Headers: upstream}); err != nil {
		t.Fatal(err)
	}
	if string(upstream[1].Value) != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" || len(upstream) != 2 {
		t.Errorf("the caller's headers changed: %+v", upstream)
	}
	span := tr.spans()[0]
	rec := readBack(t, tr.c, "carried", 1)[0]
	count := map[string]int{}
	for _, h := range rec.Headers {
		count[h.Key]++
	}
	if count["traceparent"] != 1 || count["app"] != 1 || count["baggage"] != 1 {
		t.Errorf("record written with headers %v; want app, one traceparent and baggage", rec.Headers)
	}
	got := prop.Extract(context.Background(), kgoHeaders(rec.Headers))
	sc := trace.SpanContextFromContext(got)
	if !sc.IsRemote() || sc.TraceID() != span.SpanContext.TraceID() || sc.SpanID() != span.SpanContext.SpanID() || !sc.IsSampled() {
		t.Errorf("extracted %+v; want the producer span's context %+v", sc, span.SpanContext)
	}
	if v := baggage.FromContext(got).Member("tenant").Value(); v != "acme" {
		t.Errorf("extracted baggage tenant=%q; want acme", v)
	}
}

// TestDefaultPropagator: with no propagator given and none set globally, the W3C
// trace context is still injected (traceparent), baggage is not.
func TestDefaultPropagator(t *testing.T) {
	tr := newTraced(t, []string{"default"})
	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx := baggage.ContextWithBaggage(context.Background(), bag)
	if _, err := tr.p.SendSync(ctx, &kprod.Record{Topic: "default", Partition: kprod.InPartition(0), Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	rec := readBack(t, tr.c, "default", 1)[0]
	if len(rec.Headers) != 1 || rec.Headers[0].Key != "traceparent" {
		t.Errorf("record written with headers %v; want traceparent alone", rec.Headers)
	}
	sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), kgoHeaders(rec.Headers)))
	if sc.SpanID() != tr.spans()[0].SpanContext.SpanID() {
		t.Errorf("extracted span %v; want the producer span's", sc.SpanID())
	}
}

// TestNotInstalled: without the hook nothing is traced, even with a global tracer
// provider and propagator, and the record carries no trace header.
func TestNotInstalled(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })

	c := kafkatest.New(t, kafkatest.Topic("plain", 1))
	p := newProducer(t, c)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "parent")
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: "plain", Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	if spans := exp.GetSpans(); len(spans) != 1 || spans[0].Name != "parent" {
		t.Errorf("spans %v; want the test's own alone", spans)
	}
	if rec := readBack(t, c, "plain", 1)[0]; len(rec.Headers) != 0 {
		t.Errorf("record written with headers %v; want none", rec.Headers)
	}
}

// TestGlobalDefaults: NewTracer without options sends spans to the global tracer
// provider and injects with the global propagator (here with baggage).
func TestGlobalDefaults(t *testing.T) {
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	exp := tracetest.NewInMemoryExporter()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	tracer := kotel.NewTracer()

	c := kafkatest.New(t, kafkatest.Topic("global", 1))
	p := newProducer(t, c, kprod.WithSendHook(tracer))
	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	if _, err := p.SendSync(baggage.ContextWithBaggage(context.Background(), bag), &kprod.Record{Topic: "global", Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if spans := exp.GetSpans(); len(spans) != 1 || spans[0].Name != "send global" {
		t.Fatalf("global provider got spans %v; want send global", spans)
	}
	rec := readBack(t, c, "global", 1)[0]
	if v := baggage.FromContext(otel.GetTextMapPropagator().Extract(context.Background(), kgoHeaders(rec.Headers))).Member("tenant").Value(); v != "acme" {
		t.Errorf("record headers %v carry baggage tenant=%q; want acme", rec.Headers, v)
	}
}
