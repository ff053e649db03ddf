package byname

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"strings"
	"sync"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/avro"
	"github.com/kprod-io/kprod/serde/jsonschema"
)

// The Java class names this package maps.
const (
	StringSerializer     = kafkaPackage + "StringSerializer"
	ByteArraySerializer  = kafkaPackage + "ByteArraySerializer"
	ByteBufferSerializer = kafkaPackage + "ByteBufferSerializer"
	BytesSerializer      = kafkaPackage + "BytesSerializer"
	ShortSerializer      = kafkaPackage + "ShortSerializer"
	IntegerSerializer    = kafkaPackage + "IntegerSerializer"
	LongSerializer       = kafkaPackage + "LongSerializer"
	FloatSerializer      = kafkaPackage + "FloatSerializer"
	DoubleSerializer     = kafkaPackage + "DoubleSerializer"
	BooleanSerializer    = kafkaPackage + "BooleanSerializer"
	UUIDSerializer       = kafkaPackage + "UUIDSerializer"
	VoidSerializer       = kafkaPackage + "VoidSerializer"

	AvroSerializer       = "io.confluent.kafka.serializers.KafkaAvroSerializer"
	JSONSchemaSerializer = "io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer"
	ProtobufSerializer   = "io.confluent.kafka.serializers.protobuf.KafkaProtobufSerializer"

	kafkaPackage = "org.apache.kafka.common.serialization."
)

// builtins are Kafka's own serializers, each as the serde.Serializer[X] of its Go type.
var builtins = map[string]any{
	StringSerializer:     serde.String(),
	ByteArraySerializer:  serde.Bytes(),
	ByteBufferSerializer: serde.Bytes(),
	BytesSerializer:      serde.Bytes(),
	ShortSerializer:      serde.Int16(),
	IntegerSerializer:    serde.Int32(),
	LongSerializer:       serde.Int64(),
	FloatSerializer:      serde.Float32(),
	DoubleSerializer:     serde.Float64(),
	BooleanSerializer:    serde.Bool(),
	UUIDSerializer:       serde.UUIDSerializer(),
	VoidSerializer:       serde.Void(),
}

// Option adjusts how Key and Value build a serializer.
type Option func(*options)

type options struct {
	schema      string
	messageName string
}

// Schema gives the schema text for a registry serializer (Avro, JSON Schema, or
// Protobuf as .proto text), registered exactly as given. Kafka's own serializers
// ignore it.
func Schema(text string) Option { return func(o *options) { o.schema = text } }

// MessageName picks the message of a Protobuf Schema that values are, by full name
// ("shop.Order") or by name within the file's package; without it the file's first
// message, as Java's ProtobufSchema picks it. Other serializers ignore it.
func MessageName(name string) Option { return func(o *options) { o.messageName = name } }

// Serializer is a serializer built from a class name. It implements
// serde.Serializer[T] and serde.AppendSerializer[T] (appending through the
// built serializer's own AppendSerialize, so a built-in stays allocation-free)
// and is safe for concurrent use. Close releases the schema registry client a
// registry serializer made; it is a no-op for Kafka's own.
type Serializer[T any] struct {
	s      serde.Serializer[T]
	class  string
	closer io.Closer
	once   sync.Once
	err    error
}

// Serialize returns v's record bytes, nil for null.
func (s *Serializer[T]) Serialize(topic string, v T) ([]byte, error) {
	return s.s.Serialize(topic, v)
}

// AppendSerialize appends v's record bytes to dst, as serde.AppendSerializer says.
func (s *Serializer[T]) AppendSerialize(dst []byte, topic string, v T) ([]byte, error) {
	return serde.Append(s.s, dst, topic, v)
}

// Class is the Java class name the serializer was built from.
func (s *Serializer[T]) Class() string { return s.class }

// Close releases what the serializer owns (a registry client); later calls
// return the first call's result.
func (s *Serializer[T]) Close() error {
	s.once.Do(func() {
		if s.closer != nil {
			s.err = s.closer.Close()
		}
	})
	return s.err
}

// Key builds the serializer that props' key.serializer names, configured with
// props as Java's Serializer.configure(props, true) is: a registry serializer
// writes "<topic>-key" subjects under the default key.subject.name.strategy.
// An error is a *kprod.ConfigError naming key.serializer (errors.Is
// kprod.ErrInvalidConfig) when the property is missing, names an unknown class,
// a class whose Go type is not K, or a registry serializer whose own
// properties (schema.registry.url, ...) are missing or invalid.
func Key[K any](props map[string]string, opts ...Option) (*Serializer[K], error) {
	return build[K]("key.serializer", props, true, opts)
}

// Value builds the serializer that props' value.serializer names, as Key does
// for keys.
func Value[V any](props map[string]string, opts ...Option) (*Serializer[V], error) {
	return build[V]("value.serializer", props, false, opts)
}

func build[T any](prop string, props map[string]string, isKey bool, opts []Option) (*Serializer[T], error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	class := strings.TrimSpace(props[prop])
	fail := func(reason string) error {
		return &kprod.ConfigError{Property: prop, Value: class, Reason: reason}
	}
	if class == "" {
		return nil, fail("is required: the Java class name of the serializer (Java: Missing required configuration \"" + prop + "\" which has no default value)")
	}
	if b, ok := builtins[class]; ok {
		s, ok := b.(serde.Serializer[T])
		if !ok {
			return nil, fail(fmt.Sprintf("serializes %s, not %v", goType(b), reflect.TypeFor[T]()))
		}
		return &Serializer[T]{s: s, class: class}, nil
	}
	switch class {
	case AvroSerializer:
		if o.schema == "" {
			o.schema = avroPrimitive(reflect.TypeFor[T]())
		}
		s, err := avro.NewSerializerFromProperties[T](o.schema, props, isKey)
		if err != nil {
			return nil, fail(reason("KafkaAvroSerializer", err))
		}
		return &Serializer[T]{s: s, class: class, closer: s}, nil
	case JSONSchemaSerializer:
		if o.schema == "" {
			return nil, fail("KafkaJsonSchemaSerializer needs the JSON Schema text (byname.Schema): kprod does not derive a schema from a Go type")
		}
		s, err := jsonschema.FromProperties[T](props, isKey, o.schema)
		if err != nil {
			return nil, fail(reason("KafkaJsonSchemaSerializer", err))
		}
		return &Serializer[T]{s: s, class: class, closer: s}, nil
	case ProtobufSerializer:
		return buildProtobuf[T](props, isKey, o, class, fail)
	}
	if err := (&kprod.Config{KeySerializer: class}).Validate(); err != nil {
		var ce *kprod.ConfigError
		for _, e := range unwrapAll(err) {
			if errors.As(e, &ce) && ce.Property == "key.serializer" {
				return nil, fail(ce.Reason)
			}
		}
	}
	return nil, fail("unknown serializer class")
}

// avroPrimitive is the schema Java's KafkaAvroSerializer uses for a primitive
// value (AvroSchemaUtils.getSchema: String is "string", Long "long", ...), for
// the Go type of the same values; "" for other types, whose schema is inferred
// from the struct or given with Schema.
func avroPrimitive(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[[]byte]():
		return `"bytes"`
	}
	switch t.Kind() {
	case reflect.String:
		return `"string"`
	case reflect.Int32:
		return `"int"`
	case reflect.Int64:
		return `"long"`
	case reflect.Float32:
		return `"float"`
	case reflect.Float64:
		return `"double"`
	case reflect.Bool:
		return `"boolean"`
	}
	return ""
}

// reason says why a registry serializer could not be built, without the
// nested errors' own "kprod: invalid config" prefixes: the property it names is
// the serializer's (schema.registry.url, ...).
func reason(class string, err error) string {
	msg := strings.ReplaceAll(err.Error(), "kprod: invalid config ", "")
	msg = strings.ReplaceAll(msg, "\n", "; ")
	return class + ": " + msg
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// goType names the Go type a built-in serializes, from its Serializer[X] type.
func goType(s any) string {
	m, ok := reflect.TypeOf(s).MethodByName("Serialize")
	if !ok || m.Type.NumIn() < 3 {
		return "?"
	}
	return m.Type.In(2).String()
}

// SerializerProperty reports whether a property belongs to Confluent's serializers
// (AbstractKafkaSchemaSerDeConfig and the Avro, JSON Schema and Protobuf
// serializers' configs) rather than to the producer.
func SerializerProperty(k string) bool {
	switch k {
	case "auto.register.schemas", "use.schema.id", "id.compatibility.strict", "use.latest.version",
		"use.latest.with.metadata", "latest.compatibility.strict", "latest.cache.size", "latest.cache.ttl.sec",
		"normalize.schemas", "max.schemas.per.subject", "key.subject.name.strategy", "value.subject.name.strategy",
		"reference.subject.name.strategy", "context.name.strategy", "schema.reflection", "proxy.host", "proxy.port",
		"http.connect.timeout.ms", "http.read.timeout.ms", "missing.id.query.range", "missing.cache.size",
		"skip.known.types", "reference.lookup.only", "generate.index.for.unions", "use.schema.guid",
		"propagate.schema.tags", "key.schema.id.serializer", "value.schema.id.serializer":
		return true
	}
	for _, p := range []string{"schema.registry.", "basic.auth.", "bearer.auth.", "request.header.", "avro.", "json.", "rule."} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// ProducerProperties returns props without the properties Confluent's
// serializers read (schema.registry.url, basic.auth.*, auto.register.schemas,
// json.*, ...) when key.serializer or value.serializer names one of them, so that
// the rest can be given to kprod.ConfigFromProperties, which refuses properties
// it does not know. Without a Confluent serializer props is returned as is, and
// a stray schema.registry.url is reported there as unknown.
func ProducerProperties(props map[string]string) map[string]string {
	confluent := false
	for _, k := range []string{"key.serializer", "value.serializer"} {
		switch strings.TrimSpace(props[k]) {
		case AvroSerializer, JSONSchemaSerializer, ProtobufSerializer:
			confluent = true
		}
	}
	if !confluent {
		return props
	}
	out := maps.Clone(props)
	for k := range out {
		if SerializerProperty(k) {
			delete(out, k)
		}
	}
	return out
}
