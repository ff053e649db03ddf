package byname

import (
	"encoding/json"
	"fmt"
	"reflect"

	"google.golang.org/protobuf/proto"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/protobuf"
)

// buildProtobuf builds KafkaProtobufSerializer for T. Java's serializer takes the
// schema from the message object; in Go that is a generated message type (T
// implements proto.Message, the schema comes from its descriptor). A schema given as
// .proto text (Schema) is registered as given and values are protojson text,
// map[string]any or messages of that type, for callers without generated code.
func buildProtobuf[T any](props map[string]string, isKey bool, o options, class string, fail func(string) error) (*Serializer[T], error) {
	t := reflect.TypeFor[T]()
	if o.schema == "" {
		if !t.Implements(protoMessage) {
			return nil, fail(fmt.Sprintf("KafkaProtobufSerializer needs a generated Protobuf message type (a proto.Message), not %v, or the .proto text (byname.Schema) for protojson values", t))
		}
		if o.messageName != "" {
			return nil, fail("KafkaProtobufSerializer: byname.MessageName goes with byname.Schema; a generated message type names its own message")
		}
		s, err := protobuf.FromPropertiesFor[T](props, isKey)
		if err != nil {
			return nil, fail(reason("KafkaProtobufSerializer", err))
		}
		return &Serializer[T]{s: s, class: class, closer: s}, nil
	}
	if !dynamicValue(t) {
		return nil, fail(fmt.Sprintf("KafkaProtobufSerializer with a .proto schema writes protojson text (string, []byte, json.RawMessage), map[string]any, proto.Message or any values, not %v", t))
	}
	d, err := protobuf.DynamicFromProperties(props, isKey, o.schema, protobuf.DynamicOptions{MessageName: o.messageName})
	if err != nil {
		return nil, fail(reason("KafkaProtobufSerializer", err))
	}
	if s, ok := any(d).(serde.Serializer[T]); ok { // T is any
		return &Serializer[T]{s: s, class: class, closer: d}, nil
	}
	return &Serializer[T]{s: anyValue[T]{d}, class: class, closer: d}, nil
}

var protoMessage = reflect.TypeFor[proto.Message]()

// dynamicValue reports whether the DynamicSerializer takes values of t.
func dynamicValue(t reflect.Type) bool {
	switch t {
	case reflect.TypeFor[string](), reflect.TypeFor[[]byte](), reflect.TypeFor[json.RawMessage](),
		reflect.TypeFor[map[string]any](), reflect.TypeFor[any]():
		return true
	}
	return t.Implements(protoMessage)
}

// anyValue hands a T to the DynamicSerializer, a serde.Serializer[any].
type anyValue[T any] struct{ d *protobuf.DynamicSerializer }

func (a anyValue[T]) Serialize(topic string, v T) ([]byte, error) {
	return a.d.Serialize(topic, any(v))
}

func (a anyValue[T]) AppendSerialize(dst []byte, topic string, v T) ([]byte, error) {
	return a.d.AppendSerialize(dst, topic, any(v))
}
