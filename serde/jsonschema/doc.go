// Package jsonschema is the JSON Schema serializer of kprod's typed producer, the
// counterpart of Confluent's KafkaJsonSchemaSerializer: it writes a value as JSON text
// behind the Confluent wire-format header (magic byte 0, then the schema id as four
// big-endian bytes), the id being that of a JSON Schema registered in a
// Confluent-compatible schema registry.
//
// The schema is given as text and registered exactly as given (never a re-print), of
// type "JSON". Values are Go structs (with encoding/json tags), map[string]any, or
// json.RawMessage, encoded with encoding/json without HTML escaping, as Jackson writes
// them.
//
// As Java's serializer, it checks values against the schema only when
// json.fail.invalid.schema is true (Options.FailInvalidSchema); Java's default is
// false. A value that fails the check is refused by Serialize, before the producer
// buffers anything, with a *serde.SerializationError wrapping a *ValidationError that
// names the JSON pointer of the failing field.
//
// The registry is asked once per schema and subject (registry.Resolver caches the
// id); the schema is compiled once. Without validation, serializing a pointer value
// (T = *Customer) into the producer's reused buffer allocates nothing; a struct value
// costs one allocation, encoding/json's boxing of it. Validation decodes the JSON
// again and walks the schema, about 20 times the cost of encoding.
//
// Schemas are read as draft 7 unless they name another draft in "$schema", as
// Confluent's JSON Schema provider does, and the record name that RecordNameStrategy
// and TopicRecordNameStrategy use is the schema's "title".
//
// Under use.latest.version or use.schema.id (auto.register.schemas=false) the id
// written is the registry's schema's, and Java checks that this schema can read
// what the given one writes (latest.compatibility.strict, id.compatibility.strict,
// true by default). The serializer makes that check as Java does, by the rules of
// Confluent's JsonSchema.isBackwardCompatible (its strict set: the reader must take
// every document the writer may write, so a property the reader adds to an open
// object is incompatible), following "$ref"s to referenced subjects. It runs once
// per pair of schemas; a failure fails Serialize with a *registry.IncompatibleError
// naming the first incompatibility (a JSON pointer). Set the property to false to
// use the registry's schema unchecked.
package jsonschema
