package serde

import "fmt"

// Side says which part of a record a serializer was encoding.
type Side uint8

// The sides of a record. The zero Side means unknown, so a SerializationError built
// without one still reads sensibly.
const (
	// SideKey is the record's key, set by Java's key.serializer.
	SideKey Side = iota + 1
	// SideValue is the record's value, set by Java's value.serializer.
	SideValue
)

// String returns "key", "value", or "record" for an unknown side.
func (s Side) String() string {
	switch s {
	case SideKey:
		return "key"
	case SideValue:
		return "value"
	default:
		return "record"
	}
}

// SerializationError reports that a key or value serializer failed; the producer
// returns it from Send synchronously, before the record enters any batch, so the
// record was certainly not written. It is Java's SerializationException, which
// KafkaProducer.send throws rather than passing to the callback. Match it with
// errors.As; Unwrap gives the serializer's own error.
type SerializationError struct {
	// Side is whether the key or the value failed to serialize.
	Side Side
	// Topic is the record's topic.
	Topic string
	// Err is the serializer's error.
	Err error
}

// Error returns a message such as
// `kprod: serializing value for topic "orders": json: unsupported type: chan int`.
func (e *SerializationError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("kprod: serializing %s for topic %q failed", e.Side, e.Topic)
	}
	return fmt.Sprintf("kprod: serializing %s for topic %q: %v", e.Side, e.Topic, e.Err)
}

// Unwrap returns the serializer's error, for errors.Is and errors.As.
func (e *SerializationError) Unwrap() error { return e.Err }
