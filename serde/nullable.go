package serde

// Nullable returns a serializer of pointers to T that encodes nil as null, a null
// key or a tombstone value, and any other pointer as s encodes the value it points
// to. It is how a Go program says what Java says by passing null to a serializer:
// Java's built-ins all return null for null.
func Nullable[T any](s Serializer[T]) Serializer[*T] { return nullable[T]{s: s} }

type nullable[T any] struct{ s Serializer[T] }

func (n nullable[T]) Serialize(topic string, v *T) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return n.s.Serialize(topic, *v)
}

func (n nullable[T]) AppendSerialize(dst []byte, topic string, v *T) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return Append(n.s, dst, topic, *v)
}

// Void returns the serializer of Java's VoidSerializer: every value is null, so a
// producer typed with it sends records without a key (Void as the key serializer)
// or tombstones only (as the value serializer). struct{} stands for Java's Void,
// whose only value is null.
func Void() Serializer[struct{}] { return voidSerializer{} }

type voidSerializer struct{}

func (voidSerializer) Serialize(string, struct{}) ([]byte, error) { return nil, nil }

func (voidSerializer) AppendSerialize([]byte, string, struct{}) ([]byte, error) {
	return nil, nil
}
