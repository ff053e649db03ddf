package avro

import "github.com/kprod-io/kprod/serde/registry"

// NewSerializerFromProperties returns a serializer configured as Java's
// KafkaAvroSerializer is, from its properties: schema.registry.url,
// basic.auth.credentials.source, auto.register.schemas, use.latest.version,
// value.subject.name.strategy and the rest that registry.ParseProperties reads; a
// bad value fails here, naming the property. isKey is the isKey of Java's
// Serializer.configure. The serializer owns the registry client it creates:
// Close releases it.
//
// schema is the Avro schema text, registered exactly as given; "" infers the schema
// from the struct type T, as NewSerializerFor does.
func NewSerializerFromProperties[T any](schema string, props map[string]string, isKey bool) (*Serializer[T], error) {
	rc, sc, err := registry.ParseProperties(props)
	if err != nil {
		return nil, err
	}
	if schema == "" {
		if schema, err = schemaFor[T](nil); err != nil {
			return nil, err
		}
	}
	c, err := registry.New(rc)
	if err != nil {
		return nil, err
	}
	s, err := newSerializer[T](schema, Config{Client: c, Serde: sc, Key: isKey})
	if err != nil {
		c.Close()
		return nil, err
	}
	s.owned = c
	return s, nil
}
