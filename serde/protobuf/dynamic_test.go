package protobuf

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb"
	"github.com/kprod-io/kprod/serde/registry"
)

// orderProto is deliberately oddly spaced: the registry must get this text as given.
const orderProto = `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "money.proto";

message Order {   string id = 1;
  google.protobuf.Timestamp placed = 2;
  repeated Line lines = 3;
  Money total = 4;
  message Line { string sku = 1; int64 quantity = 2; }
}
`

const moneyProto = `syntax = "proto3";
package shop;
message Money { string currency = 1; int64 cents = 2; }
`

func TestDynamic(t *testing.T) {
	f := &fakeResolver{id: 12}
	refs := []Reference{{Name: "money.proto", Subject: "money.proto", Version: 3, Text: moneyProto}}
	s, err := newDynamic(f, orderProto, DynamicOptions{References: refs})
	if err != nil {
		t.Fatal(err)
	}
	if s.MessageName() != "shop.Order" {
		t.Fatalf("default message %q, want the first", s.MessageName())
	}
	js := `{"id":"o-1","placed":"2024-05-01T10:00:00Z","lines":[{"sku":"a","quantity":"2"}],"total":{"currency":"EUR","cents":1250}}`
	fromText, err := s.Serialize("orders", js)
	if err != nil {
		t.Fatal(err)
	}
	fromMap, err := s.Serialize("orders", map[string]any{"id": "o-1", "placed": "2024-05-01T10:00:00Z",
		"lines": []any{map[string]any{"sku": "a", "quantity": 2}}, "total": map[string]any{"currency": "EUR", "cents": 1250}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromText, fromMap) {
		t.Fatalf("text and map differ:\n% x\n% x", fromText, fromMap)
	}
	if !bytes.Equal(fromText[:6], []byte{0, 0, 0, 0, 12, 0}) {
		t.Fatalf("header % x", fromText[:6])
	}
	// The payload reads back with an independent message type: a generated one of
	// the same field numbers.
	var got testpb.Order
	if err := proto.Unmarshal(fromText[6:], &got); err != nil || got.Id != "o-1" {
		t.Fatalf("payload: %v %v", &got, err)
	}
	sch := f.asked[0]
	if sch.Text != orderProto || sch.Type != "PROTOBUF" || len(sch.References) != 1 || sch.References[0] != (registry.Reference{Name: "money.proto", Subject: "money.proto", Version: 3}) {
		t.Fatalf("registered %+v", sch)
	}
	if f.names[0] != "shop.Order" {
		t.Fatalf("record name %q", f.names[0])
	}

	// A nested message, by name within the package or by full name.
	for _, name := range []string{"Order.Line", "shop.Order.Line"} {
		l, err := newDynamic(f, orderProto, DynamicOptions{MessageName: name, References: refs})
		if err != nil {
			t.Fatal(err)
		}
		b, err := l.Serialize("t", `{"sku":"z"}`)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b[5:8], []byte{0x04, 0x00, 0x00}) {
			t.Fatalf("%s: index % x, want 04 00 00", name, b[5:8])
		}
	}
}

// A value that does not match fails before anything is asked, naming the field.
func TestDynamicMismatchNamesField(t *testing.T) {
	f := &fakeResolver{id: 1}
	s, err := newDynamic(f, `syntax = "proto3"; message Customer { int32 id = 1; string name = 2; }`, DynamicOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for v, field := range map[any]string{
		`{"id":"x"}`:           "field id",
		`{"nmae":"y"}`:         `field "nmae"`,
		`{"name":5}`:           "field name",
		`not json`:             "line 1",
		`{"id":1.5}`:           "field id",
		`{"id":99999999999}`:   "field id",
		`{"name":"a","id":[]}`: "field id",
	} {
		_, err := s.Serialize("t", v)
		var ve *ValueError
		var se *serde.SerializationError
		if !errors.As(err, &ve) || !errors.As(err, &se) {
			t.Errorf("%s: error %v", v, err)
			continue
		}
		if !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), "Customer") {
			t.Errorf("%s: %v does not name %q", v, err, field)
		}
	}
	if _, err := s.Serialize("t", 42); err == nil {
		t.Error("int value accepted")
	}
	if _, err := s.Serialize("t", &testpb.Plain{}); err == nil || !strings.Contains(err.Error(), "kprod.test.plain.Plain") {
		t.Errorf("other message type: %v", err)
	}
	if f.calls != 0 {
		t.Errorf("registry asked %d times for bad values", f.calls)
	}
}

func TestDynamicBadSchema(t *testing.T) {
	for text, want := range map[string]string{
		`syntax = "proto3"; message { }`:                       "compiling",
		`syntax = "proto3"; import "nope.proto"; message M {}`: "nope.proto",
		`syntax = "proto3"; enum E { A = 0; }`:                 "no message",
	} {
		if _, err := newDynamic(&fakeResolver{}, text, DynamicOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want it to mention %q", text, err, want)
		}
	}
	for _, name := range []string{"N", "M.TagsEntry"} {
		_, err := newDynamic(&fakeResolver{}, `syntax = "proto3"; message M { map<string, int32> tags = 1; }`, DynamicOptions{MessageName: name})
		if err == nil || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("message name %q: %v", name, err)
		}
	}
	_, err := newDynamic(&fakeResolver{}, `syntax = "proto3";
message M { strin a = 1; }`, DynamicOptions{})
	if err == nil || !strings.Contains(err.Error(), "schema.proto:2:") {
		t.Errorf("compile error does not point at the line: %v", err)
	}
}
