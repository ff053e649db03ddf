package protobuf

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb"
	"github.com/kprod-io/kprod/serde/registry"
)

func customer() *testpb.Customer {
	return &testpb.Customer{Id: 7, Name: "yifan", Address: &testpb.Address{Street: "1 Main St", City: "Oslo"},
		Created: timestamppb.New(timestamppb.Now().AsTime().Truncate(1e9)), Tags: []string{"a", "b"}}
}

// frame is what Confluent's format holds for id, index bytes and m.
func frame(t *testing.T, id int, index []byte, m proto.Message) []byte {
	t.Helper()
	body, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out := registry.AppendHeader(nil, id)
	out = append(out, index...)
	return append(out, body...)
}

// A generated message is written as header, index path, message bytes; its file is
// the schema, named by the message's full name, with address.proto as a reference
// under the subject "address.proto" and the well-known timestamp.proto left out.
func TestSerializeGenerated(t *testing.T) {
	f := &fakeResolver{id: 42}
	s := newSerializer[*testpb.Customer](f, Options{})
	c := customer()
	got, err := s.Serialize("orders", c)
	if err != nil {
		t.Fatal(err)
	}
	if want := frame(t, 42, []byte{0}, c); !bytes.Equal(got, want) {
		t.Fatalf("bytes\n% x\nwant\n% x", got, want)
	}
	if f.names[0] != "kprod.test.Customer" {
		t.Errorf("record name %q", f.names[0])
	}
	sch := f.asked[0]
	if sch.Type != "PROTOBUF" || !strings.Contains(sch.Text, "message Customer {") || !strings.Contains(sch.Text, `import "address.proto";`) {
		t.Errorf("schema %+v", sch)
	}
	want := []registry.Reference{{Name: "address.proto", Subject: "address.proto", Version: 1}}
	if !slices.Equal(sch.References, want) {
		t.Errorf("references %+v, want %+v", sch.References, want)
	}
	if !strings.Contains(f.refTexts["address.proto"], "message Address {") {
		t.Errorf("address.proto registered as %q", f.refTexts["address.proto"])
	}
	// The printed schema is valid .proto that declares the same messages.
	if idx, err := indexesInText(sch.Text, "kprod.test.Order.Line.Note"); err != nil || !slices.Equal(idx, []int{1, 0, 1}) {
		t.Errorf("printed schema: Note at %v, %v", idx, err)
	}

	// Later records resolve nothing again: the references once per message type.
	for range 3 {
		if _, err := s.Serialize("orders", c); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.refCalls) != 1 {
		t.Errorf("reference resolved %d times, want once", len(f.refCalls))
	}
}

// Nested messages carry their path; T = proto.Message serializes any generated type
// under its own file's schema.
func TestSerializeNestedAndAnyType(t *testing.T) {
	f := &fakeResolver{id: 5}
	s := newSerializer[proto.Message](f, Options{})
	line := &testpb.Order_Line{Sku: "x", Quantity: 3}
	note := &testpb.Order_Line_Note{Text: "fragile"}
	plain := &testpb.Plain{Text: "p", N: -1}
	for _, tc := range []struct {
		m     proto.Message
		index []byte
		name  string
	}{
		{line, []byte{0x04, 0x02, 0x00}, "kprod.test.Order.Line"},
		{note, []byte{0x06, 0x02, 0x00, 0x02}, "kprod.test.Order.Line.Note"},
		{&testpb.Order{Id: "o"}, []byte{0x02, 0x02}, "kprod.test.Order"},
		{plain, []byte{0x00}, "kprod.test.plain.Plain"},
	} {
		got, err := s.Serialize("t", tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if want := frame(t, 5, tc.index, tc.m); !bytes.Equal(got, want) {
			t.Errorf("%s: % x, want % x", tc.name, got, want)
		}
		if n := f.names[len(f.names)-1]; n != tc.name {
			t.Errorf("record name %q, want %q", n, tc.name)
		}
	}
	// customer.proto's three message types share one resolution of the file, so
	// its import is resolved once.
	if !slices.Equal(f.refCalls, []string{"address.proto"}) {
		t.Errorf("references resolved %v, want address.proto once", f.refCalls)
	}
	if last := f.asked[len(f.asked)-1]; len(last.References) != 0 || !strings.Contains(last.Text, "package kprod.test.plain;") {
		t.Errorf("plain.proto schema %+v", last)
	}
}

// Java's null is a tombstone: nil out, nothing asked of the registry.
func TestNilIsTombstone(t *testing.T) {
	f := &fakeResolver{id: 1}
	b, err := newSerializer[*testpb.Customer](f, Options{}).Serialize("t", nil)
	if b != nil || err != nil {
		t.Fatalf("nil pointer: %v %v", b, err)
	}
	b, err = newSerializer[proto.Message](f, Options{}).Serialize("t", nil)
	if b != nil || err != nil {
		t.Fatalf("nil interface: %v %v", b, err)
	}
	d, err := newDynamic(f, "syntax = \"proto3\"; message M { string a = 1; }", DynamicOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{nil, []byte(nil), map[string]any(nil), (*testpb.Customer)(nil)} {
		if b, err := d.Serialize("t", v); b != nil || err != nil {
			t.Fatalf("dynamic %T: %v %v", v, b, err)
		}
	}
	if f.calls != 0 || len(f.refCalls) != 0 {
		t.Fatalf("registry asked %d+%d times for tombstones", f.calls, len(f.refCalls))
	}
}

// skip.known.types=false registers google/protobuf/timestamp.proto too.
func TestRegisterKnownTypes(t *testing.T) {
	f := &fakeResolver{id: 1}
	s := newSerializer[*testpb.Customer](f, Options{RegisterKnownTypes: true})
	if _, err := s.Serialize("t", customer()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.refCalls, []string{"address.proto", "google/protobuf/timestamp.proto"}) {
		t.Fatalf("references %v", f.refCalls)
	}
}

// A registry failure is a SerializationError wrapping the registry's error, and is
// not kept: the next record asks again.
func TestRegistryFailure(t *testing.T) {
	boom := &registry.Error{Op: "POST /subjects/address.proto/versions", Status: 503, Err: registry.ErrTimeout}
	f := &fakeResolver{id: 1, err: boom}
	s := newSerializer[*testpb.Customer](f, Options{})
	_, err := s.Serialize("orders", customer())
	var se *serde.SerializationError
	if !errors.As(err, &se) || se.Topic != "orders" || !errors.Is(err, registry.ErrTimeout) {
		t.Fatalf("error %v", err)
	}
	f.err = nil
	if _, err := s.Serialize("orders", customer()); err != nil {
		t.Fatal(err)
	}
	if len(f.refCalls) != 2 {
		t.Fatalf("reference asked %d times, want 2 (failure not cached)", len(f.refCalls))
	}
}

// Under use.latest.version the id is the registry's schema's, and the index path
// points into that schema, as Java's toMessageIndexes(schema) does.
func TestIndexIntoUsedSchema(t *testing.T) {
	used := registry.Schema{Type: "PROTOBUF", Text: `syntax = "proto3"; package kprod.test;
message Other { int32 x = 1; }
message Customer { int32 id = 1; string name = 2; }`}
	f := &fakeResolver{id: 9, used: &used}
	s := newSerializer[*testpb.Customer](f, Options{})
	c := &testpb.Customer{Id: 1, Name: "n"}
	got, err := s.Serialize("t", c)
	if err != nil {
		t.Fatal(err)
	}
	if want := frame(t, 9, []byte{0x02, 0x02}, c); !bytes.Equal(got, want) {
		t.Fatalf("% x, want % x", got, want)
	}
	f.used = &registry.Schema{Type: "PROTOBUF", Text: `syntax = "proto3"; message Nope {}`}
	if _, err := s.Serialize("t", c); err == nil || !strings.Contains(err.Error(), "kprod.test.Customer") {
		t.Fatalf("missing message: %v", err)
	}
}
