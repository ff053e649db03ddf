package protobuf

import (
	"fmt"
	"reflect"

	"google.golang.org/protobuf/proto"

	"github.com/kprod-io/kprod/serde"
)

// Unconstrained is a Serializer for a type parameter that cannot be constrained to
// proto.Message: callers that pick serializers by class name
// (value.serializer=io.confluent.kafka.serializers.protobuf.KafkaProtobufSerializer)
// are generic over any T. It checks at construction that T is a message type.
type Unconstrained[T any] struct {
	s *Serializer[proto.Message]
}

var (
	_ serde.Serializer[any]       = (*Unconstrained[any])(nil)
	_ serde.AppendSerializer[any] = (*Unconstrained[any])(nil)
)

var messageType = reflect.TypeFor[proto.Message]()

// FromPropertiesFor is FromProperties for a T that is not constrained to
// proto.Message: T must implement it (a generated *pb.Customer, or proto.Message
// itself), else this fails naming T.
func FromPropertiesFor[T any](props map[string]string, isKey bool) (*Unconstrained[T], error) {
	if t := reflect.TypeFor[T](); !t.Implements(messageType) {
		return nil, fmt.Errorf("protobuf: KafkaProtobufSerializer needs a generated Protobuf message type (a proto.Message), not %v", t)
	}
	s, err := FromProperties[proto.Message](props, isKey)
	if err != nil {
		return nil, err
	}
	return &Unconstrained[T]{s: s}, nil
}

// Serialize is Serializer.Serialize.
func (u *Unconstrained[T]) Serialize(topic string, v T) ([]byte, error) {
	return u.AppendSerialize(nil, topic, v)
}

// AppendSerialize is Serializer.AppendSerialize.
func (u *Unconstrained[T]) AppendSerialize(dst []byte, topic string, v T) ([]byte, error) {
	m, _ := any(v).(proto.Message) // T implements it; a nil interface stays nil
	return u.s.AppendSerialize(dst, topic, m)
}

// Close releases the registry client.
func (u *Unconstrained[T]) Close() error { return u.s.Close() }
