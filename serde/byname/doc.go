// Package byname builds kprod serializers from Java class names, the values of a
// producer.properties file's key.serializer and value.serializer, so that a Java
// producer configuration works unchanged:
//
//	org.apache.kafka.common.serialization.StringSerializer      string      serde.String
//	org.apache.kafka.common.serialization.ByteArraySerializer   []byte      serde.Bytes
//	org.apache.kafka.common.serialization.ByteBufferSerializer  []byte      serde.Bytes
//	org.apache.kafka.common.serialization.BytesSerializer       []byte      serde.Bytes
//	org.apache.kafka.common.serialization.ShortSerializer       int16       serde.Int16
//	org.apache.kafka.common.serialization.IntegerSerializer     int32       serde.Int32
//	org.apache.kafka.common.serialization.LongSerializer        int64       serde.Int64
//	org.apache.kafka.common.serialization.FloatSerializer       float32     serde.Float32
//	org.apache.kafka.common.serialization.DoubleSerializer      float64     serde.Float64
//	org.apache.kafka.common.serialization.BooleanSerializer     bool        serde.Bool
//	org.apache.kafka.common.serialization.UUIDSerializer        serde.UUID  serde.UUIDSerializer
//	org.apache.kafka.common.serialization.VoidSerializer        struct{}    serde.Void
//	io.confluent.kafka.serializers.KafkaAvroSerializer                      package kprod/serde/avro
//	io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer           package kprod/serde/jsonschema
//	io.confluent.kafka.serializers.protobuf.KafkaProtobufSerializer         package kprod/serde/protobuf
//
// The core package kprod checks these names when it reads the properties
// (ConfigFromProperties) but builds nothing: the registry serializers live in their
// own packages, which only programs importing this package (or them) link. Key and
// Value build a serializer from the same properties map, as Java's producer hands
// every property to its serializers' configure; a missing or unusable setting fails
// there, naming the property, as Java's producer fails at construction.
//
// Java's producer ignores properties it does not know, and Confluent's serializers
// read theirs (schema.registry.url, auto.register.schemas, ...) from the same file;
// kprod's core refuses unknown properties. ProducerProperties removes the serializers'
// own properties so that the rest can go to kprod.ConfigFromProperties.
//
// A Java Avro serializer takes its schema from the record object; a Go value carries
// none, so the Avro serializer takes the schema text from Schema, or infers it from
// the struct type T; for string, int32, int64, float32, float64, bool and []byte it
// uses the primitive schema Java's uses for String, Integer, Long, Float, Double,
// Boolean and byte[] ("string", "int", ...). The JSON Schema serializer needs Schema.
// The Protobuf serializer takes the schema from a generated message type T (a
// proto.Message, as Java's takes it from the message object), or, with Schema, from
// .proto text registered as given, for values as protojson text (string, []byte,
// json.RawMessage), map[string]any or any; MessageName picks the message, else the
// file's first.
package byname
