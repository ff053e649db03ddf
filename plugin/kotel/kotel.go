// Package kotel traces kprod's sends with OpenTelemetry: a PRODUCER span per record,
// named "send <topic>" with the messaging semantic conventions' attributes for Kafka,
// and the span's context injected into the record's headers (W3C traceparent and
// tracestate) so that a consumer's span can follow from it.
//
// It is its own module, so that kprod itself depends on no OpenTelemetry package;
// tracing is off unless a Tracer is installed:
//
//	p, err := kprod.NewProducer(cfg, kprod.WithSendHook(kotel.NewTracer()))
//
// The span starts in Send, before the record is partitioned and buffered, as a child
// of the span in Send's ctx, and ends when the record is acknowledged or fails (or
// when Send refuses it). It then carries the partition and offset, or error.type and
// an error status.
//
// It also publishes producers' metrics (kprod.Producer.Metrics) as OpenTelemetry
// instruments, under the names Java's clients use for them (KIP-714): see Metrics.
package kotel

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/kprod-io/kprod"
)

// instrumentationName names the tracer, as OpenTelemetry asks: the package's import path.
const instrumentationName = "github.com/kprod-io/kprod/plugin/kotel"

// Tracer is a kprod.SendHook that traces each record; install it with
// kprod.WithSendHook. It is safe for concurrent use.
type Tracer struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	kind   trace.SpanStartOption
	last   atomic.Pointer[topicName] // the last topic's span name: no allocation per record for a busy topic
}

var _ kprod.SendHook = (*Tracer)(nil)

// Option configures a Tracer or Metrics.
type Option func(*options)

type options struct {
	provider trace.TracerProvider
	prop     propagation.TextMapPropagator
	meter    metric.MeterProvider // NewMetrics only
}

// WithTracerProvider sets where spans go. Default the global provider
// (otel.GetTracerProvider) when NewTracer runs; as OpenTelemetry's global delegation
// goes, the first provider set later is also followed.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.provider = tp }
}

// WithPropagator sets how the span's context is written into record headers, e.g.
// propagation.NewCompositeTextMapPropagator(propagation.TraceContext{},
// propagation.Baggage{}) to carry baggage too. Default the global propagator
// (otel.GetTextMapPropagator) if one is set when NewTracer runs, else W3C Trace
// Context alone (traceparent, tracestate), so that a consumer can always continue the
// trace.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(o *options) { o.prop = p }
}

// WithMeterProvider sets where NewMetrics' instruments go. Default the global provider
// (otel.GetMeterProvider) when NewMetrics runs.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.meter = mp }
}

// NewTracer returns a Tracer for kprod.WithSendHook.
func NewTracer(opts ...Option) *Tracer {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.provider == nil {
		o.provider = otel.GetTracerProvider()
	}
	if o.prop == nil {
		o.prop = otel.GetTextMapPropagator()
		if len(o.prop.Fields()) == 0 { // none set: the global default injects nothing
			o.prop = propagation.TraceContext{}
		}
	}
	return &Tracer{tracer: o.provider.Tracer(instrumentationName), prop: o.prop,
		kind: trace.WithSpanKind(trace.SpanKindProducer)}
}

// OnSend starts the record's span as a child of ctx's and injects its context into
// the record's headers. It implements kprod.SendHook.
func (t *Tracer) OnSend(ctx context.Context, s *kprod.SendStart) any {
	ctx, span := t.tracer.Start(ctx, t.spanName(s.Topic), t.kind, trace.WithAttributes(sendAttributes(s)...))
	t.prop.Inject(ctx, headerCarrier{&s.Headers})
	return span
}

// OnDone ends the record's span with where the record went, or why it failed. It
// implements kprod.SendHook.
func (t *Tracer) OnDone(state any, o kprod.SendOutcome) {
	span, ok := state.(trace.Span)
	if !ok {
		return
	}
	endSpan(span, o)
}

// spanName is "send <topic>", the conventions' name for a producer span: the operation
// and the destination.
func (t *Tracer) spanName(topic string) string {
	if l := t.last.Load(); l != nil && l.topic == topic {
		return l.name
	}
	l := &topicName{topic: topic, name: "send " + topic}
	t.last.Store(l)
	return l.name
}

type topicName struct{ topic, name string }
