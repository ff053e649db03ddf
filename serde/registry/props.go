package registry

import "errors"

// ParseProperties reads Java serializer properties (schema.registry.url,
// basic.auth.credentials.source, basic.auth.user.info, bearer.auth.token,
// auto.register.schemas, use.schema.id, use.latest.version,
// latest.compatibility.strict, normalize.schemas, key.subject.name.strategy,
// value.subject.name.strategy, latest.cache.ttl.sec, request.header.*,
// schema.registry.ssl.*). Properties it does not know are ignored, as Java ignores
// them; a known property with a value it cannot use fails, naming the property.
func ParseProperties(props map[string]string) (Config, SerdeConfig, error) {
	return Config{}, SerdeConfig{}, errors.New("schema registry: ParseProperties not implemented yet")
}
