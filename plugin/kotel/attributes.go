package kotel

import (
	"context"
	"errors"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/kprod-io/kprod"
)

// sendAttributes are the span's attributes known at Send, from the messaging semantic
// conventions for Kafka (https://opentelemetry.io/docs/specs/semconv/messaging/kafka/).
func sendAttributes(s *kprod.SendStart) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, semconv.MessagingSystemKafka,
		semconv.MessagingOperationName("send"), semconv.MessagingOperationTypeSend,
		semconv.MessagingDestinationName(s.Topic))
	if s.ClientID != "" {
		attrs = append(attrs, semconv.MessagingClientID(s.ClientID))
	}
	// The conventions want the key's string form only when it has an unambiguous one,
	// and no attribute for a null key: text keys qualify, binary ones do not.
	if s.Key != nil && utf8.Valid(s.Key) {
		attrs = append(attrs, semconv.MessagingKafkaMessageKey(string(s.Key)))
	}
	if s.Value == nil { // set only when true, as the conventions ask
		attrs = append(attrs, semconv.MessagingKafkaMessageTombstone(true))
	}
	if s.Partition >= 0 {
		attrs = append(attrs, semconv.MessagingDestinationPartitionID(strconv.Itoa(int(s.Partition))))
	}
	return attrs
}

// endSpan records the outcome on the span and ends it.
func endSpan(span trace.Span, o kprod.SendOutcome) {
	md := o.Metadata
	if o.Err != nil {
		if md.Partition >= 0 {
			span.SetAttributes(semconv.MessagingDestinationPartitionID(strconv.Itoa(int(md.Partition))),
				semconv.ErrorTypeKey.String(errorType(o.Err)))
		} else {
			span.SetAttributes(semconv.ErrorTypeKey.String(errorType(o.Err)))
		}
		span.SetStatus(codes.Error, o.Err.Error())
		span.End()
		return
	}
	if md.Offset >= 0 { // acks=0 gives no offset
		span.SetAttributes(semconv.MessagingDestinationPartitionID(strconv.Itoa(int(md.Partition))),
			semconv.MessagingKafkaOffset(int(md.Offset)))
	} else {
		span.SetAttributes(semconv.MessagingDestinationPartitionID(strconv.Itoa(int(md.Partition))))
	}
	span.End()
}

// sentinels name kprod's and context's errors for error.type, checked in order before a
// broker's error code: a delivery timeout wraps the last broker error it met, but the
// timeout is why the record failed.
var sentinels = []struct {
	err  error
	name string
}{
	{kprod.ErrDeliveryTimeout, "kprod.ErrDeliveryTimeout"},
	{kprod.ErrProducerFenced, "kprod.ErrProducerFenced"},
	{kprod.ErrTransactionAborted, "kprod.ErrTransactionAborted"},
	{kprod.ErrClosed, "kprod.ErrClosed"},
	{kprod.ErrRecordTooLarge, "kprod.ErrRecordTooLarge"},
	{kprod.ErrBufferExhausted, "kprod.ErrBufferExhausted"},
	{kprod.ErrMetadataTimeout, "kprod.ErrMetadataTimeout"},
	{kprod.ErrInvalidTopic, "kprod.ErrInvalidTopic"},
	{kprod.ErrInvalidPartition, "kprod.ErrInvalidPartition"},
	{kprod.ErrAuthentication, "kprod.ErrAuthentication"},
	{kprod.ErrInvalidTxnState, "kprod.ErrInvalidTxnState"},
	{context.DeadlineExceeded, "context.DeadlineExceeded"},
	{context.Canceled, "context.Canceled"},
}

// errorType is error.type for err: a short, stable name, as the conventions ask (a
// low-cardinality class, never the message): kprod's sentinel errors by their Go
// names, a broker's refusal by Kafka's error name (e.g. INVALID_RECORD), anything else
// "_OTHER".
func errorType(err error) string {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	if ke, ok := errors.AsType[*kprod.KafkaError](err); ok {
		return ke.Name
	}
	return semconv.ErrorTypeOther.Value.AsString()
}
