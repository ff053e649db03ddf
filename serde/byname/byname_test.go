package byname_test

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testregistry"
	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/byname"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestKafkaClassNamesMapToBuiltins(t *testing.T) {
	check := func(t *testing.T, got []byte, err error, want []byte) {
		t.Helper()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got % x, %v; want % x", got, err, want)
		}
	}
	props := func(class string) map[string]string { return map[string]string{"value.serializer": class} }
	s, err := byname.Value[string](props(byname.StringSerializer))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Serialize("t", "héllo")
	check(t, b, err, []byte("héllo"))
	for _, c := range []string{byname.ByteArraySerializer, byname.ByteBufferSerializer, byname.BytesSerializer} {
		s, err := byname.Value[[]byte](props(c))
		if err != nil {
			t.Fatal(c, err)
		}
		b, err := s.Serialize("t", []byte{1, 2})
		check(t, b, err, []byte{1, 2})
	}
	si, err := byname.Key[int32](map[string]string{"key.serializer": " " + byname.IntegerSerializer + " "})
	if err != nil {
		t.Fatal(err)
	}
	b, err = si.Serialize("t", 258)
	check(t, b, err, []byte{0, 0, 1, 2})
	sl, err := byname.Value[int64](props(byname.LongSerializer))
	if err != nil {
		t.Fatal(err)
	}
	b, err = sl.AppendSerialize([]byte{9}, "t", -1)
	check(t, b, err, []byte{9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	if n := testing.AllocsPerRun(100, func() { _, _ = sl.AppendSerialize(b[:0], "t", 7) }); n != 0 {
		t.Errorf("AppendSerialize through byname allocates %v times, want 0", n)
	}
	for class, ok := range map[string]bool{
		byname.ShortSerializer: must[int16](t, class(byname.ShortSerializer)), byname.FloatSerializer: must[float32](t, class(byname.FloatSerializer)),
		byname.DoubleSerializer: must[float64](t, class(byname.DoubleSerializer)), byname.BooleanSerializer: must[bool](t, class(byname.BooleanSerializer)),
		byname.UUIDSerializer: must[serde.UUID](t, class(byname.UUIDSerializer)), byname.VoidSerializer: must[struct{}](t, class(byname.VoidSerializer)),
	} {
		if !ok {
			t.Errorf("%s not built", class)
		}
	}
}

func class(c string) string { return c }

func must[T any](t *testing.T, c string) bool {
	t.Helper()
	s, err := byname.Value[T](map[string]string{"value.serializer": c})
	if err != nil {
		t.Error(err)
		return false
	}
	return s.Class() == c && s.Close() == nil
}

func TestConstructionErrorsNameTheProperty(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props map[string]string
		build func(map[string]string) error
		want  []string
	}{
		{"missing", map[string]string{}, value[string], []string{"value.serializer", "is required"}},
		{"wrong Go type", map[string]string{"value.serializer": byname.StringSerializer}, value[int64],
			[]string{"value.serializer", "serializes string, not int64"}},
		{"unknown class", map[string]string{"key.serializer": "com.example.CustomSerializer"}, key[string],
			[]string{"key.serializer", "unknown serializer class"}},
		{"not a class name", map[string]string{"key.serializer": "StringSerializer"}, key[string],
			[]string{"key.serializer", "fully qualified"}},
		{"avro without registry", map[string]string{"value.serializer": byname.AvroSerializer}, value[map[string]any],
			[]string{"value.serializer", "KafkaAvroSerializer", "schema.registry.url", "is required"}},
		{"avro bad registry property", map[string]string{"value.serializer": byname.AvroSerializer,
			"schema.registry.url": "http://127.0.0.1:1", "auto.register.schemas": "maybe"}, value[map[string]any],
			[]string{"value.serializer", "auto.register.schemas", "true or false"}},
		{"json schema without schema", map[string]string{"value.serializer": byname.JSONSchemaSerializer,
			"schema.registry.url": "http://127.0.0.1:1"}, value[map[string]any],
			[]string{"value.serializer", "needs the JSON Schema text"}},
		{"protobuf without schema or message type", map[string]string{"value.serializer": byname.ProtobufSerializer,
			"schema.registry.url": "http://127.0.0.1:1"}, value[map[string]any],
			[]string{"value.serializer", "KafkaProtobufSerializer needs a generated Protobuf message type", "map[string]interface {}"}},
		{"protobuf without registry", map[string]string{"value.serializer": byname.ProtobufSerializer}, value[*wrapperspb.StringValue],
			[]string{"value.serializer", "KafkaProtobufSerializer", "schema.registry.url", "is required"}},
		{"protobuf bad registry property", map[string]string{"key.serializer": byname.ProtobufSerializer,
			"schema.registry.url": "http://127.0.0.1:1", "skip.known.types": "maybe"}, key[*wrapperspb.StringValue],
			[]string{"key.serializer", "skip.known.types", "true or false"}},
		{"protobuf bad .proto text", map[string]string{"value.serializer": byname.ProtobufSerializer,
			"schema.registry.url": "http://127.0.0.1:1"}, withSchema[string]("syntax = \"proto3\";\nmessage Customer { int32 id = 1 }"),
			[]string{"value.serializer", "KafkaProtobufSerializer", "schema.proto:2"}},
		{"protobuf no such message", map[string]string{"value.serializer": byname.ProtobufSerializer,
			"schema.registry.url": "http://127.0.0.1:1"}, withSchema[string](protoCustomer, byname.MessageName("Nope")),
			[]string{"value.serializer", "Nope"}},
		{"protobuf schema with an unusable Go type", map[string]string{"value.serializer": byname.ProtobufSerializer,
			"schema.registry.url": "http://127.0.0.1:1"}, withSchema[int64](protoCustomer),
			[]string{"value.serializer", "protojson text", "not int64"}},
		{"protobuf message name with a generated type", map[string]string{"value.serializer": byname.ProtobufSerializer,
			"schema.registry.url": "http://127.0.0.1:1"}, withOpts[*wrapperspb.StringValue](byname.MessageName("X")),
			[]string{"value.serializer", "MessageName goes with byname.Schema"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.build(tc.props)
			if err == nil {
				t.Fatal("built; want an error")
			}
			if !errors.Is(err, kprod.ErrInvalidConfig) {
				t.Errorf("%v is not kprod.ErrInvalidConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func value[T any](p map[string]string) error {
	s, err := byname.Value[T](p)
	if err == nil {
		s.Close()
	}
	return err
}

func withSchema[T any](schema string, opts ...byname.Option) func(map[string]string) error {
	return withOpts[T](append([]byname.Option{byname.Schema(schema)}, opts...)...)
}

func withOpts[T any](opts ...byname.Option) func(map[string]string) error {
	return func(p map[string]string) error {
		s, err := byname.Value[T](p, opts...)
		if err == nil {
			s.Close()
		}
		return err
	}
}

func key[T any](p map[string]string) error {
	s, err := byname.Key[T](p)
	if err == nil {
		s.Close()
	}
	return err
}

// A Java producer.properties naming Confluent's serializer is read unchanged: the
// core takes the producer's part, byname the serializers'.
func TestJavaProducerPropertiesWithConfluentSerializers(t *testing.T) {
	file := `bootstrap.servers=127.0.0.1:19092
acks=all
key.serializer=org.apache.kafka.common.serialization.StringSerializer
value.serializer=io.confluent.kafka.serializers.KafkaAvroSerializer
schema.registry.url=http://127.0.0.1:18081
auto.register.schemas=true
basic.auth.credentials.source=USER_INFO
basic.auth.user.info=u:p
`
	props, err := kprod.ParseProperties(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kprod.ConfigFromProperties(props); err == nil || !strings.Contains(err.Error(), "schema.registry.url") {
		t.Fatalf("the core alone took the registry's properties: %v", err)
	}
	cfg, err := kprod.ConfigFromProperties(byname.ProducerProperties(props))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ValueSerializer != byname.AvroSerializer || cfg.KeySerializer != byname.StringSerializer {
		t.Fatalf("serializers %q %q", cfg.KeySerializer, cfg.ValueSerializer)
	}
	if _, ok := props["schema.registry.url"]; !ok {
		t.Fatal("ProducerProperties modified its argument")
	}
	// Without a Confluent serializer, a registry property stays for the core to refuse.
	plain := map[string]string{"schema.registry.url": "http://x"}
	if got := byname.ProducerProperties(plain); len(got) != 1 {
		t.Fatalf("ProducerProperties dropped %v without a Confluent serializer", plain)
	}
}

const customerSchema = `{"type": "record", "name": "Customer", "namespace": "customerManagement.avro",
  "fields": [
    {"name": "id", "type": "int"},
    {"name": "name", "type": "string"},
    {"name": "email", "type": ["null", "string"], "default": null}
  ]}`

// Built from properties, the Avro serializer registers on the real registry and
// Confluent's Python deserializer reads what it wrote.
func TestAvroFromPropertiesRealRegistry(t *testing.T) {
	url := testregistry.URL(t)
	topic := testregistry.Name(t, "byname")
	props := map[string]string{"value.serializer": byname.AvroSerializer, "schema.registry.url": url}
	s, err := byname.Value[map[string]any](props, byname.Schema(customerSchema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Serialize(topic, map[string]any{"id": 7, "name": "Ann", "email": "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	got := testregistry.Decode(t, "avro", url, topic, false, b)
	if want := `{"email": "ann@example.com", "id": 7, "name": "Ann"}`; got != want {
		t.Fatalf("decoded %s, want %s", got, want)
	}
}

func TestJSONSchemaFromPropertiesRealRegistry(t *testing.T) {
	url := testregistry.URL(t)
	topic := testregistry.Name(t, "byname")
	props := map[string]string{"key.serializer": byname.JSONSchemaSerializer, "schema.registry.url": url,
		"json.fail.invalid.schema": "true"}
	schema := `{"type":"object","title":"CustomerKey","properties":{"id":{"type":"integer"}},"required":["id"]}`
	s, err := byname.Key[map[string]any](props, byname.Schema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Serialize(topic, map[string]any{"id": "seven"}); err == nil {
		t.Fatal("json.fail.invalid.schema=true did not reach the serializer: an invalid value passed")
	}
	b, err := s.Serialize(topic, map[string]any{"id": 7})
	if err != nil {
		t.Fatal(err)
	}
	if got := testregistry.Decode(t, "json", url, topic, true, b); got != `{"id": 7}` {
		t.Fatalf("decoded %s", got)
	}
}

// The registry serializers are optional: the core must not link them, nor this
// package's, so a program that produces bytes or strings stays small.
func TestCoreDoesNotImportTheRegistrySerializers(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/kprod-io/kprod").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/kprod-io/kprod/serde/") || strings.Contains(pkg, "twmb/avro") || strings.Contains(pkg, "jsonschema") || strings.Contains(pkg, "protobuf") {
			t.Errorf("package kprod imports %s", pkg)
		}
	}
}

// Java's KafkaAvroSerializer writes a String key with the schema "string"; so does
// an Avro key serializer of Go strings built by name without a schema.
func TestAvroPrimitiveKeyRealRegistry(t *testing.T) {
	url := testregistry.URL(t)
	topic := testregistry.Name(t, "byname")
	s, err := byname.Key[string](map[string]string{"key.serializer": byname.AvroSerializer, "schema.registry.url": url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Serialize(topic, "cust-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := testregistry.Decode(t, "avro", url, topic, true, b); got != `"cust-1"` {
		t.Fatalf("decoded %s", got)
	}
}
