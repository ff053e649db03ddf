package kprod

import (
	"context"
	"fmt"
	"runtime/debug"
)

// SendHook follows each record from Send to its outcome, for tracing (issue 13 item 3):
// plugin/kotel implements it with OpenTelemetry spans, so the core module needs no
// tracing dependency. Java's producer has no such seam; its OpenTelemetry instrumentation
// wraps KafkaProducer.send and the callback by bytecode rewriting. Install one with
// WithSendHook; without one, Send does no extra work.
//
// A panicking hook never breaks sending: the panic is reported to the producer's logger
// and the record goes on as if the hook had not run. A hook whose OnSend panicked gets
// no OnDone for that record.
type SendHook interface {
	// OnSend runs in Send, after the interceptors' OnSend and before partitioning and
	// buffering, on the caller's goroutine; it must be safe for concurrent use. ctx is
	// Send's. It may add headers to s (a trace context); whatever it returns is given
	// back to OnDone for this record.
	OnSend(ctx context.Context, s *SendStart) any
	// OnDone runs exactly once per record OnSend saw, with OnSend's state and the
	// record's outcome: on the producer's completion goroutine (before the interceptors'
	// OnAcknowledgement and the callback) once the record is acknowledged or failed, or
	// in Send when Send refuses the record. It must be quick and must not call Send.
	OnDone(state any, o SendOutcome)
}

// SendStart is what a SendHook sees of a record at Send.
type SendStart struct {
	// Topic is the record's topic.
	Topic string
	// Partition is the record's explicit partition, -1 when the partitioner will choose.
	Partition int32
	// Key and Value are the record's serialized key and value (nil for null); they are
	// the caller's: read them, do not keep or modify them.
	Key, Value []byte
	// Headers are the headers the record will be sent with. A hook may append to
	// them (append never writes to the caller's slice) but must not modify the
	// existing entries.
	Headers []Header
	// ClientID is the producer's client.id.
	ClientID string
}

// SendOutcome is a record's outcome as a SendHook sees it.
type SendOutcome struct {
	// Metadata is where the record was written. On failure its Offset is -1 and its
	// Partition -1 when none was chosen.
	Metadata RecordMetadata
	// Err is nil on success, else the error the callback or Send reports.
	Err error
}

// WithSendHook installs a SendHook (for tracing, plugin/kotel). Default none.
func WithSendHook(h SendHook) Option { return func(o *options) { o.hook = h } }

// hooked is the completion of a record a SendHook saw: the hook's state and the
// caller's own completion (a callback, a sync waiter, interceptedOnly or nil). It also
// holds what OnSend was shown: OnSend's argument escapes (an interface call), and one
// allocation per traced record is cheaper than two.
type hooked struct {
	state any
	done  any
	start SendStart
}

// hookSend runs the hook's OnSend for rec, adds the headers it injected, and returns the
// completion to append the record with. ok is false when OnSend panicked: the record is
// then sent as it was and done is returned unchanged.
func (p *Producer) hookSend(ctx context.Context, rec *Record, done any) (any, bool) {
	part, set := rec.Partition.Get()
	if !set {
		part = -1
	}
	// Clipped: an append by the hook copies, never writing past the caller's headers.
	h := &hooked{done: done, start: SendStart{Topic: rec.Topic, Partition: part, Key: rec.Key, Value: rec.Value,
		Headers: rec.Headers[:len(rec.Headers):len(rec.Headers)], ClientID: p.set.ClientID}}
	state, ok := p.hookOnSend(ctx, &h.start)
	if !ok {
		return done, false
	}
	rec.Headers = h.start.Headers
	h.state = state
	h.start = SendStart{} // the caller's bytes are not kept until the record completes
	return h, true
}

func (p *Producer) hookOnSend(ctx context.Context, s *SendStart) (state any, ok bool) {
	defer p.recoverHook("OnSend")
	return p.hook.OnSend(ctx, s), true
}

func (p *Producer) hookOnDone(h *hooked, md RecordMetadata, err error) {
	defer p.recoverHook("OnDone")
	p.hook.OnDone(h.state, SendOutcome{Metadata: md, Err: err})
}

// recoverHook, deferred around each call into the hook, turns its panic into an error
// log line, summarised as a hook panicking per record would otherwise log per record.
func (p *Producer) recoverHook(method string) {
	if v := recover(); v != nil {
		p.logs.Error(fmt.Sprintf("hook %s panic %T", method, p.hook), "kprod: send hook "+method+" panicked",
			"hook", fmt.Sprintf("%T", p.hook), "panic", v, "stack", string(debug.Stack()))
	}
}
