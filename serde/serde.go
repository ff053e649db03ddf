// Package serde holds the serializers of kprod's typed producer layer: they turn
// a typed key or value into the bytes of a Kafka record.
//
// The built-ins encode byte for byte as the Java client's built-in serializers in
// org.apache.kafka.common.serialization do, so a Java consumer configured with the
// matching deserializer (StringDeserializer, LongDeserializer, UUIDDeserializer, ...)
// reads back what a kprod producer wrote, and the reverse.
//
// A nil []byte result means null: Kafka writes a length of -1 for it, which is a null
// key or, for a value, a tombstone on a compacted topic. A non-nil empty result is an
// empty key or value, which is not the same thing.
//
// Every built-in also implements AppendSerializer, so the producer can encode into a
// reused buffer; all but JSON then allocate nothing.
package serde

// Serializer turns a typed key or value into record bytes, as Java's
// org.apache.kafka.common.serialization.Serializer does.
//
// Serialize returns nil for null (a null key or a tombstone value) and a non-nil
// slice, possibly empty, otherwise. The topic is the record's topic, for serializers
// whose encoding depends on it (a schema registry subject, say); the built-ins ignore it.
// Implementations must be safe for concurrent use: one producer calls them from every
// goroutine that sends.
type Serializer[T any] interface {
	// Serialize encodes v, a value for topic: nil for null.
	Serialize(topic string, v T) ([]byte, error)
}

// SerializerFunc adapts an ordinary function to the Serializer interface.
type SerializerFunc[T any] func(topic string, v T) ([]byte, error)

// Serialize calls f(topic, v).
func (f SerializerFunc[T]) Serialize(topic string, v T) ([]byte, error) {
	return f(topic, v)
}

// AppendSerializer is an optional extension of Serializer for serializers that can
// append their encoding to a caller's buffer, which lets the producer serialize into
// a reused scratch buffer without allocating. The producer checks for it with a type
// assertion; every built-in implements it, and all but JSON append without allocating.
//
// AppendSerialize appends the encoding of v to dst and returns the extended slice,
// as the append built-in does. It returns nil, whatever dst was, for null; for a
// non-null encoding it must return a non-nil slice even when dst is nil and the
// encoding is empty, so that an empty value is not mistaken for a tombstone. On error
// the returned slice is undefined and dst's spare capacity may have been written.
type AppendSerializer[T any] interface {
	// AppendSerialize appends v's encoding to dst, as described above.
	AppendSerialize(dst []byte, topic string, v T) ([]byte, error)
}

// Append serializes v with s onto dst: through AppendSerialize when s implements
// AppendSerializer, otherwise through Serialize and a copy. It follows
// AppendSerialize's contract: nil means null, and a non-null encoding gives a non-nil
// slice whose bytes after len(dst) are the encoding.
func Append[T any](s Serializer[T], dst []byte, topic string, v T) ([]byte, error) {
	if as, ok := s.(AppendSerializer[T]); ok {
		return as.AppendSerialize(dst, topic, v)
	}
	b, err := s.Serialize(topic, v)
	if err != nil || b == nil {
		return nil, err
	}
	return appendNonNull(dst, b), nil
}

// emptyNonNull is the non-nil, zero-capacity slice returned for an empty non-null
// encoding appended to a nil dst; with no capacity it can never be written through.
var emptyNonNull = []byte{}

// appendNonNull appends b to dst and never returns nil, since append(nil, empty...)
// is nil and nil means null.
func appendNonNull(dst, b []byte) []byte {
	out := append(dst, b...)
	if out == nil {
		return emptyNonNull
	}
	return out
}

// appendStringNonNull is appendNonNull for a string, without converting it to []byte.
func appendStringNonNull(dst []byte, s string) []byte {
	out := append(dst, s...)
	if out == nil {
		return emptyNonNull
	}
	return out
}
