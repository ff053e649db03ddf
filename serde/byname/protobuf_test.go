package byname_test

import (
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/kprod-io/kprod/internal/testregistry"
	"github.com/kprod-io/kprod/serde/byname"
)

// protoCustomer is the seeds' Customer as a .proto file; Order comes second, so
// its index path is [1].
const protoCustomer = `syntax = "proto3";
package customerManagement.proto;

message Customer {
  int32 id = 1;
  string name = 2;
  optional string email = 3;
}

message Order {
  int64 id = 1;
}
`

// registeredText is the schema text registered under subject's latest version.
func registeredText(t *testing.T, registryURL, subject string) (int, string) {
	t.Helper()
	resp, err := http.Get(registryURL + "/subjects/" + url.PathEscape(subject) + "/versions/latest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		ID         int    `json:"id"`
		Schema     string `json:"schema"`
		SchemaType string `json:"schemaType"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("subject %s: HTTP %d, %v", subject, resp.StatusCode, err)
	}
	if v.SchemaType != "PROTOBUF" {
		t.Fatalf("subject %s: schemaType %q, want PROTOBUF", subject, v.SchemaType)
	}
	return v.ID, v.Schema
}

// frame splits Confluent's Protobuf framing: magic 0, the schema id, the
// message-index path (zigzag varints: count, then indexes; [0] is one 0x00).
func frame(t *testing.T, b []byte) (id int, path []int64, payload []byte) {
	t.Helper()
	if len(b) < 6 || b[0] != 0 {
		t.Fatalf("not Confluent-framed: % x", b)
	}
	id = int(binary.BigEndian.Uint32(b[1:5]))
	rest := b[5:]
	n, k := binary.Varint(rest)
	if k <= 0 {
		t.Fatalf("bad index count in % x", b)
	}
	rest = rest[k:]
	for range n {
		v, k := binary.Varint(rest)
		if k <= 0 {
			t.Fatalf("bad index in % x", b)
		}
		path = append(path, v)
		rest = rest[k:]
	}
	return id, path, rest
}

// KafkaProtobufSerializer by name, from .proto text (Schema, MessageName) with
// protojson string values, on the real registry: the text is registered as given,
// the index path names the chosen message and a bad value fails naming the field.
func TestProtobufDynamicFromPropertiesRealRegistry(t *testing.T) {
	regURL := testregistry.URL(t)
	topic := testregistry.Name(t, "byname-pb")
	props := map[string]string{"value.serializer": byname.ProtobufSerializer, "schema.registry.url": regURL}
	s, err := byname.Value[string](props, byname.Schema(protoCustomer), byname.MessageName("Order"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Serialize(topic, `{"id": "x1"}`); err == nil {
		t.Fatal("a string id was accepted for an int64 field")
	} else if !strings.Contains(err.Error(), "field id") {
		t.Errorf("error %q does not name the field", err)
	}
	b, err := s.Serialize(topic, `{"id": "42"}`)
	if err != nil {
		t.Fatal(err)
	}
	id, path, payload := frame(t, b)
	regID, text := registeredText(t, regURL, topic+"-value")
	if id != regID || text != protoCustomer {
		t.Errorf("written with id %d, registered %d as\n%s\nwant the text as given", id, regID, text)
	}
	if len(path) != 1 || path[0] != 1 {
		t.Errorf("index path %v, want [1] (Order)", path)
	}
	var got wrapperspb.Int64Value // Order{id=1 int64} has Int64Value's wire form
	if err := proto.Unmarshal(payload, &got); err != nil || got.Value != 42 {
		t.Errorf("payload % x decoded %v, %v; want id 42", payload, got.Value, err)
	}
	if b, err := s.Serialize(topic, ""); err == nil {
		t.Errorf("empty text serialized as % x; want an error (only a nil value is null)", b)
	}

	// any values: a map as encoding/json decodes protojson, and nil, a tombstone.
	sa, err := byname.Value[any](props, byname.Schema(protoCustomer))
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	if b, err := sa.Serialize(topic, nil); b != nil || err != nil {
		t.Errorf("nil serialized as % x, %v; want a tombstone", b, err)
	}
	if b, err = sa.Serialize(topic, map[string]any{"id": 7, "name": "Ann"}); err != nil {
		t.Fatal(err)
	}
	if _, path, _ := frame(t, b); len(path) != 0 {
		t.Errorf("index path %v, want [] (Customer, the first message)", path)
	}
}

// A generated message type by name: Java's schema-from-the-object path.
func TestProtobufGeneratedFromPropertiesRealRegistry(t *testing.T) {
	regURL := testregistry.URL(t)
	topic := testregistry.Name(t, "byname-pbkey")
	s, err := byname.Key[*wrapperspb.StringValue](map[string]string{"key.serializer": byname.ProtobufSerializer, "schema.registry.url": regURL})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Serialize(topic, wrapperspb.String("cust-1"))
	if err != nil {
		t.Fatal(err)
	}
	id, path, payload := frame(t, b)
	if regID, _ := registeredText(t, regURL, topic+"-key"); regID != id {
		t.Errorf("written with id %d, %s-key has %d", id, topic, regID)
	}
	var got wrapperspb.StringValue
	if err := proto.Unmarshal(payload, &got); err != nil || got.Value != "cust-1" {
		t.Errorf("decoded %q, %v", got.Value, err)
	}
	if len(path) != 1 || path[0] != 7 { // google/protobuf/wrappers.proto's eighth message
		t.Errorf("index path %v, want [7] (StringValue)", path)
	}
	if b, err := s.Serialize(topic, nil); b != nil || err != nil {
		t.Errorf("nil key serialized as % x, %v; want null", b, err)
	}
}
