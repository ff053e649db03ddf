package protobuf

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/kprod-io/kprod/serde/registry"
)

// SkipKnownTypesConfig is skip.known.types, KafkaProtobufSerializer's switch for
// leaving the well-known google/protobuf/*.proto imports out of the references
// (default true; Options.RegisterKnownTypes is its negation).
const SkipKnownTypesConfig = "skip.known.types"

// FromProperties returns a serializer of generated messages configured as Java's
// KafkaProtobufSerializer is from producer properties: the registry's
// (schema.registry.url, basic.auth.*, auto.register.schemas, use.latest.version,
// value.subject.name.strategy, ...; see registry.ParseProperties) and
// skip.known.types. isKey is the isKey of Java's configure(props, isKey). Unknown
// properties are ignored, as in Java; a known one with an unusable value fails here,
// naming it. The serializer owns the registry client it makes: Close it when done.
func FromProperties[T proto.Message](props map[string]string, isKey bool) (*Serializer[T], error) {
	r, c, opts, err := fromProperties(props, isKey)
	if err != nil {
		return nil, err
	}
	s, err := NewSerializer[T](r, opts)
	if err != nil {
		c.Close()
		return nil, err
	}
	s.client = c
	return s, nil
}

// DynamicFromProperties is FromProperties for a schema given as .proto text, as
// kafka-protobuf-console-producer's value.schema.
func DynamicFromProperties(props map[string]string, isKey bool, protoText string, opts DynamicOptions) (*DynamicSerializer, error) {
	r, c, _, err := fromProperties(props, isKey)
	if err != nil {
		return nil, err
	}
	s, err := NewDynamicSerializer(r, protoText, opts)
	if err != nil {
		c.Close()
		return nil, err
	}
	s.client = c
	return s, nil
}

func fromProperties(props map[string]string, isKey bool) (*registry.Resolver, *registry.Client, Options, error) {
	cfg, scfg, err := registry.ParseProperties(props)
	if err != nil {
		return nil, nil, Options{}, fmt.Errorf("protobuf: %w", err)
	}
	var opts Options
	if v, ok := props[SkipKnownTypesConfig]; ok {
		skip, err := registry.ParseBool(SkipKnownTypesConfig, v)
		if err != nil {
			return nil, nil, Options{}, err
		}
		opts.RegisterKnownTypes = !skip
	}
	c, err := registry.New(cfg)
	if err != nil {
		return nil, nil, Options{}, fmt.Errorf("protobuf: %w", err)
	}
	return registry.NewResolver(c, scfg, isKey), c, opts, nil
}
