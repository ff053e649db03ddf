// Package avro is kprod's Avro serializer for a Confluent-compatible schema
// registry: Go's counterpart of Confluent's io.confluent.kafka.serializers.KafkaAvroSerializer.
//
// A Serializer writes Confluent's wire format, the magic byte 0, the schema id as
// four big-endian bytes, then the Avro binary encoding, so that any Confluent
// deserializer (Java's KafkaAvroDeserializer, the Python and librdkafka clients)
// reads the records back. It plugs into kprod's typed producer (kprod.NewTyped) for
// keys or values.
//
// The schema is given as text (NewSerializer), the primary way: the text is
// registered exactly as given, never re-printed by a library, so the registry keeps
// the user's doc strings, defaults and logical types and the subject's versions stay
// what the user wrote. NewSerializerFor infers the schema from a Go struct's avro
// field tags instead. Values may be structs (matched by avro tags), pointers to
// them, or generic maps (map[string]any), whose missing keys take the schema's
// defaults and whose unknown keys are errors.
//
// The encoding is github.com/twmb/avro's; see its documentation for the Go types
// each Avro type accepts: time.Time for the timestamp and date logical types,
// *big.Rat, float64 or a numeric string for decimal, a string for uuid, a nil
// pointer or nil for the null branch of a union.
package avro
