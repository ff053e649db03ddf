// Package protobuf is the Protobuf serializer of kprod's typed producer, the
// counterpart of Confluent's KafkaProtobufSerializer. A record is the Confluent wire
// format: the magic byte 0, the schema id as four big-endian bytes, the
// message-index path of the record's message type within its .proto file, then the
// message's binary encoding.
//
// The path says which message of the file (one schema id) the record is: a length
// then the indexes, all zigzag varints, so x.proto's first message is [0], its
// second [1], the first message nested in the second [1 0]. The common path [0] is
// written as the single byte 0x00, as Java writes it; readers rely on that.
//
// Serializer takes generated Go messages (google.golang.org/protobuf). Its schema is
// the message's .proto file, printed from the descriptor compiled into the Go code,
// as Java's serializer derives it from the Java class. Each file it imports is
// registered first as a reference, under a subject named after the import
// ("address.proto"), Java's DefaultReferenceSubjectNameStrategy; the files
// Confluent has built in (google/protobuf's well-known types, google/type's,
// confluent/meta.proto) are not, as Java's skip.known.types (default true) leaves
// them out. RecordNameStrategy and TopicRecordNameStrategy use the message's
// full name ("shop.Order.Line").
//
// DynamicSerializer takes the schema as .proto text, registered exactly as given, and
// one of its messages (by default the first, as Java picks it); values are protojson
// text or map[string]any. A value that does not match fails Serialize, before the
// producer buffers anything, with a *ValueError naming the field.
//
// A nil message is a null key or a tombstone: nothing is written or registered. The
// registry is asked once per message type (its references) and once per subject and
// schema (registry.Resolver caches the id); after that, serializing a generated
// message into the producer's reused buffer allocates nothing. Under
// use.latest.version or use.schema.id the id is the registry's schema's and the path
// points into that schema, as in Java. As Java does, the serializer then checks that
// the registry's schema can read what the message's writes (latest.compatibility.strict,
// id.compatibility.strict, true by default), by the rules of Confluent's
// ProtobufSchema.isBackwardCompatible: fields matched by number, their kind, wire
// type group, message type and required-ness compared, the files the schemas import
// followed. The check runs once per pair of schemas; a failure fails Serialize with
// a *registry.IncompatibleError naming the first incompatible field. Set the
// property to false to use the registry's schema unchecked.
package protobuf
