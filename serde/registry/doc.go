// Package registry is a client of a Confluent-compatible schema registry, with the
// configuration names and the semantics of Confluent's Java serializers
// (AbstractKafkaSchemaSerDe and KafkaAvroSerializer's friends).
//
// Client speaks the registry's REST API: several URLs with failover, basic or bearer
// authentication, TLS. Resolver picks the subject by the configured naming strategy
// and turns a schema into the id written in the Confluent wire format, asking the
// registry once per subject and schema text and never once per record: results are
// cached, and concurrent first uses of one schema share a single request.
//
// Under use.latest.version and use.schema.id the id stands for the registry's
// schema, not the caller's; Java then checks (latest.compatibility.strict,
// id.compatibility.strict) that it can read what the caller's schema writes. That
// check is schema-language specific, so a serializer supplies it with
// Resolver.SetCompatibilityCheck; the resolver gives it a loader for the schemas
// either side references, runs it once per pair of schemas, and reports a failure
// as an *IncompatibleError.
//
// AppendHeader writes the wire-format prefix: the magic byte 0 and the schema id as
// four big-endian bytes. The serializers built on this package add the payload.
package registry
