package registry

import "strings"

// unsupported lists Confluent serializer properties (AbstractKafkaSchemaSerDeConfig
// and the Avro and Protobuf serializers' configs) whose effect kprod does not
// implement, each with the values that leave Java's behaviour unchanged. Set to
// anything else they fail at construction, naming the property, rather than be
// dropped: with proxy.host Java goes through a proxy, with use.latest.with.metadata
// it writes another schema's id.
var unsupported = map[string]struct {
	same   []string // values (lower case) that are Java's default, or an explicit "off"
	reason string
}{
	"proxy.host":               {[]string{""}, "is not supported: kprod's registry client connects directly (no HTTP proxy)"},
	"proxy.port":               {[]string{"", "-1"}, "is not supported: kprod's registry client connects directly (no HTTP proxy)"},
	"use.latest.with.metadata": {[]string{""}, "is not supported: kprod cannot select a subject's version by metadata; use use.latest.version or use.schema.id"},
	"context.name.strategy": {[]string{"", "io.confluent.kafka.serializers.context.nullcontextnamestrategy"},
		"is not supported: only Java's default NullContextNameStrategy (subjects in the default context)"},
	"reference.subject.name.strategy": {[]string{"", "io.confluent.kafka.serializers.subject.defaultreferencesubjectnamestrategy"},
		"is not supported: references are named by Java's default DefaultReferenceSubjectNameStrategy (the import path)"},
	"reference.lookup.only": {[]string{"", "false"}, "is not supported: kprod registers referenced schemas as Java does by default"},
	"schema.reflection":     {[]string{"", "false"}, "is not supported: kprod derives schemas from Go types, not Java reflection"},
	"use.schema.guid":       {[]string{""}, "is not supported: kprod writes schema ids, not GUIDs"},
	"propagate.schema.tags": {[]string{"", "false"}, "is not supported"},
	"rule.executors":        {[]string{""}, "is not supported: kprod runs no data contract rules"},
	"rule.actions":          {[]string{""}, "is not supported: kprod runs no data contract rules"},
	"avro.remove.java.properties": {[]string{"", "false"},
		"is not supported: kprod registers the Avro schema text exactly as given"},
	"key.schema.id.serializer":   {[]string{"", "io.confluent.kafka.serializers.schema.id.prefixschemaidserializer"}, "is not supported: kprod writes the schema id before the serialized data (Java's default PrefixSchemaIdSerializer)"},
	"value.schema.id.serializer": {[]string{"", "io.confluent.kafka.serializers.schema.id.prefixschemaidserializer"}, "is not supported: kprod writes the schema id before the serialized data (Java's default PrefixSchemaIdSerializer)"},
}

// unsupportedProps reports each property of props that kprod would otherwise
// accept and ignore (see unsupported).
func unsupportedProps(props map[string]string, bad func(prop, value, reason string)) {
	for k, v := range props {
		u, ok := unsupported[k]
		if !ok {
			if strings.HasPrefix(k, "rule.executors.") || strings.HasPrefix(k, "rule.actions.") {
				u, ok = unsupported["rule.executors"]
			}
		}
		if !ok {
			continue
		}
		val := strings.ToLower(strings.TrimSpace(v))
		same := false
		for _, s := range u.same {
			same = same || val == s
		}
		if !same {
			bad(k, v, u.reason)
		}
	}
}
