package serde

import "encoding/json"

// JSON returns a serializer that encodes values with encoding/json's Marshal: compact
// UTF-8 JSON, HTML-escaped, map keys sorted. A Java consumer reads it with a
// StringDeserializer or any JSON deserializer.
//
// It allocates on every call (encoding/json boxes the value and returns a fresh
// slice), unlike the other built-ins; its AppendSerialize exists for the uniform
// contract but copies Marshal's result. Write a custom AppendSerializer when the
// encoding is on a hot path.
//
// Values that JSON cannot express are errors, returned as encoding/json's own
// (*json.UnsupportedTypeError for a channel or func, *json.UnsupportedValueError for
// a NaN or infinite float, *json.MarshalerError from a failing MarshalJSON), so
// errors.As finds them through the producer's SerializationError.
//
// A nil pointer, map, slice or interface is written as the four bytes "null", which
// is JSON's null, not Kafka's: wrap with Nullable, as in Nullable(JSON[Event]()), to
// send a nil *Event as a null key or a tombstone.
func JSON[T any]() Serializer[T] { return jsonSerializer[T]{} }

type jsonSerializer[T any] struct{}

func (jsonSerializer[T]) Serialize(_ string, v T) ([]byte, error) {
	return json.Marshal(v)
}

func (jsonSerializer[T]) AppendSerialize(dst []byte, _ string, v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return appendNonNull(dst, b), nil
}
