package jsonschema

import (
	"fmt"
	"strings"

	"kprod/serde/registry"
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
		if opts.FailInvalidSchema, err = parseBool(FailInvalidSchemaConfig, v); err != nil {
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

// parseBool reads a boolean as Kafka's ConfigDef does: "true" or "false", any case,
// surrounding spaces ignored; anything else is a *registry.ConfigError naming it.
func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &registry.ConfigError{Property: name, Value: v, Reason: "must be true or false"}
}
