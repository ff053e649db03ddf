package jsonschema

import (
	"fmt"

	"github.com/kprod-io/kprod/serde/registry"
)

// FailInvalidSchemaConfig is json.fail.invalid.schema, KafkaJsonSchemaSerializer's
// switch for checking values against the schema (Options.FailInvalidSchema).
const FailInvalidSchemaConfig = "json.fail.invalid.schema"

// FromProperties returns a serializer configured as Java's KafkaJsonSchemaSerializer is
// from producer properties: the registry's (schema.registry.url, basic.auth.*,
// auto.register.schemas, use.latest.version, value.subject.name.strategy, ...; see
// registry.ParseProperties) and json.fail.invalid.schema. isKey says whether it
// serializes keys, as Java's configure(props, isKey). Unknown properties are ignored,
// as in Java; a known one with an unusable value fails here, naming it. The serializer
// owns the registry client it makes: Close it when done.
func FromProperties[T any](props map[string]string, isKey bool, schemaText string) (*Serializer[T], error) {
	cfg, scfg, err := registry.ParseProperties(props)
	if err != nil {
		return nil, fmt.Errorf("jsonschema: %w", err)
	}
	var opts Options
	if v, ok := props[FailInvalidSchemaConfig]; ok {
		if opts.FailInvalidSchema, err = registry.ParseBool(FailInvalidSchemaConfig, v); err != nil {
			return nil, err
		}
	}
	c, err := registry.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("jsonschema: %w", err)
	}
	s, err := NewSerializer[T](registry.NewResolver(c, scfg, isKey), schemaText, opts)
	if err != nil {
		c.Close()
		return nil, err
	}
	s.client = c
	return s, nil
}
