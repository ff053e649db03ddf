package protodiff_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bufbuild/protocompile/parser"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"
	"github.com/kprod-io/kprod/serde/protobuf/internal/protodiff"
)

func parse(t testing.TB, name, text string) *descriptorpb.FileDescriptorProto {
	t.Helper()
	fd, err := tryParse(name, text)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fd
}

func tryParse(name, text string) (*descriptorpb.FileDescriptorProto, error) {
	h := reporter.NewHandler(nil)
	ast, err := parser.Parse(name, strings.NewReader(text), h)
	if err != nil {
		return nil, err
	}
	res, err := parser.ResultFromAST(ast, true, h)
	if err != nil {
		return nil, err
	}
	return res.FileDescriptorProto(), nil
}

const p3 = `syntax = "proto3"; package shop; `

// Each case is a writer schema and a reader schema; want is the kind of the first
// incompatible difference, "" when the reader reads what the writer writes.
func TestCheckRules(t *testing.T) {
	for _, tc := range []struct {
		name, writer, reader, want string
	}{
		{"identical", p3 + `message C { string name = 1; int64 id = 2; }`, p3 + `message C { string name = 1; int64 id = 2; }`, ""},
		{"field added", p3 + `message C { string name = 1; }`, p3 + `message C { string name = 1; string email = 2; }`, ""},
		{"field removed", p3 + `message C { string name = 1; string email = 2; }`, p3 + `message C { string name = 1; }`, ""},
		{"field renamed", p3 + `message C { string name = 1; }`, p3 + `message C { string full_name = 1; }`, ""},
		{"int32 to int64 (varint)", p3 + `message C { int32 n = 1; }`, p3 + `message C { int64 n = 1; }`, ""},
		{"int32 to bool (varint)", p3 + `message C { int32 n = 1; }`, p3 + `message C { bool n = 1; }`, ""},
		{"int32 to enum", p3 + `message C { int32 n = 1; }`, p3 + `enum E { A = 0; } message C { E n = 1; }`, ""},
		{"string to bytes", p3 + `message C { string s = 1; }`, p3 + `message C { bytes s = 1; }`, ""},
		{"fixed32 to sfixed32", p3 + `message C { fixed32 n = 1; }`, p3 + `message C { sfixed32 n = 1; }`, ""},
		{"int32 to sint32", p3 + `message C { int32 n = 1; }`, p3 + `message C { sint32 n = 1; }`, protodiff.FieldScalarKindChanged},
		{"int64 to string", p3 + `message C { int64 n = 1; }`, p3 + `message C { string n = 1; }`, protodiff.FieldScalarKindChanged},
		{"float to double", p3 + `message C { float n = 1; }`, p3 + `message C { double n = 1; }`, protodiff.FieldScalarKindChanged},
		{"scalar to message", p3 + `message C { string a = 1; }`, p3 + `message A { string s = 1; } message C { A a = 1; }`, protodiff.FieldKindChanged},
		{"scalar to map", p3 + `message C { string a = 1; }`, p3 + `message C { map<string, string> a = 1; }`, protodiff.FieldKindChanged},
		{"map value type", p3 + `message C { map<string, int32> a = 1; }`, p3 + `message C { map<string, string> a = 1; }`, protodiff.FieldScalarKindChanged},
		{"map unchanged", p3 + `message C { map<string, int32> a = 1; }`, p3 + `message C { map<string, int64> a = 1; }`, ""},
		{"numeric label", `syntax = "proto2"; message C { optional int32 n = 1; }`, `syntax = "proto2"; message C { repeated int32 n = 1; }`, protodiff.FieldNumericLabelChanged},
		{"string label", `syntax = "proto2"; message C { optional string n = 1; }`, `syntax = "proto2"; message C { repeated string n = 1; }`, ""},
		{"required added", `syntax = "proto2"; message C { optional string a = 1; }`, `syntax = "proto2"; message C { optional string a = 1; required string b = 2; }`, protodiff.RequiredFieldAdded},
		{"required removed", `syntax = "proto2"; message C { required string a = 1; optional string b = 2; }`, `syntax = "proto2"; message C { optional string b = 2; }`, protodiff.RequiredFieldRemoved},
		{"package changed", p3 + `message C { string a = 1; }`, `syntax = "proto3"; package other; message C { string a = 1; }`, protodiff.PackageChanged},
		{"message removed", p3 + `message C { string a = 1; } message D { string d = 1; }`, p3 + `message C { string a = 1; }`, protodiff.MessageRemoved},
		{"message added and moved", p3 + `message C { string a = 1; }`, p3 + `message D { string d = 1; } message C { string a = 1; }`, ""},
		{"enum constant changes", p3 + `enum E { A = 0; B = 1; } message C { E e = 1; }`, p3 + `enum E { A = 0; X = 1; Y = 2; } message C { E e = 1; }`, ""},
		{"named type changed", p3 + `message A { string s = 1; } message B { string s = 1; } message C { A a = 1; }`, p3 + `message A { string s = 1; } message B { string s = 1; } message C { B a = 1; }`, protodiff.FieldNamedTypeChanged},
		{"nested type incompatible", p3 + `message A { string s = 1; } message C { A a = 1; }`, p3 + `message A { int64 s = 1; } message C { A a = 1; }`, protodiff.FieldScalarKindChanged},
		{"oneof added over new fields", p3 + `message C { string a = 1; }`, p3 + `message C { string a = 1; oneof o { string b = 2; int64 c = 3; } }`, ""},
		{"field moved out of oneof", p3 + `message C { oneof o { string a = 1; string b = 2; } }`, p3 + `message C { string a = 1; oneof o { string b = 2; } }`, ""},
		{"oneof member removed", p3 + `message C { oneof o { string a = 1; string b = 2; } }`, p3 + `message C { oneof o { string a = 1; } }`, protodiff.OneofFieldRemoved},
		{"whole oneof removed", p3 + `message C { string x = 9; oneof o { string a = 1; string b = 2; } }`, p3 + `message C { string x = 9; }`, ""},
		{"one field moved into oneof", p3 + `message C { string a = 1; oneof o { string b = 2; } }`, p3 + `message C { oneof o { string a = 1; string b = 2; } }`, protodiff.FieldMovedToExistingOneof},
		{"two fields moved into oneof", p3 + `message C { string a = 1; string b = 2; }`, p3 + `message C { oneof o { string a = 1; string b = 2; } }`, protodiff.MultipleFieldsMovedToOneof},
		{"proto3 optional is no oneof", p3 + `message C { optional string a = 1; }`, p3 + `message C { string a = 1; }`, ""},
		{"recursive", p3 + `message N { N next = 1; string v = 2; }`, p3 + `message N { N next = 1; string v = 2; int32 w = 3; }`, ""},
		{"recursive incompatible", p3 + `message N { N next = 1; string v = 2; }`, p3 + `message N { N next = 1; int32 v = 2; }`, protodiff.FieldScalarKindChanged},
		{"mutually recursive", p3 + `message A { B b = 1; } message B { A a = 1; string s = 2; }`, p3 + `message A { B b = 1; } message B { A a = 1; bytes s = 2; }`, ""},
		{"nested message", p3 + `message C { message In { string s = 1; } In in = 1; }`, p3 + `message C { message In { double s = 1; } In in = 1; }`, protodiff.FieldScalarKindChanged},
		{"unresolved type names", p3 + `import "google/protobuf/timestamp.proto"; message C { google.protobuf.Timestamp t = 1; }`, p3 + `import "google/protobuf/timestamp.proto"; message C { google.protobuf.Timestamp t = 1; }`, ""},
		{"unresolved type renamed", p3 + `import "google/protobuf/timestamp.proto"; message C { google.protobuf.Timestamp t = 1; }`, p3 + `import "google/protobuf/duration.proto"; message C { google.protobuf.Duration t = 1; }`, protodiff.FieldNamedTypeChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := protodiff.Files{Main: parse(t, "w.proto", tc.writer)}
			r := protodiff.Files{Main: parse(t, "r.proto", tc.reader)}
			err := protodiff.Check(w, r)
			var inc *schemadiff.Incompatibility
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want compatible, got %v", err)
			case tc.want != "" && (!errors.As(err, &inc) || inc.Kind != tc.want):
				t.Fatalf("want %s, got %v (all: %+v)", tc.want, err, protodiff.Compare(w, r).Differences())
			}
		})
	}
}

// A field's message type declared in an imported file is compared with the
// reader's, which may come from another file (the registry's reference).
func TestCheckImportedTypes(t *testing.T) {
	wAddr := parse(t, "address.proto", p3+`message Address { string street = 1; }`)
	rAddrOK := parse(t, "address.proto", p3+`message Address { string street = 1; string city = 2; }`)
	rAddrBad := parse(t, "address.proto", p3+`message Address { int32 street = 1; }`)
	main := p3 + `import "address.proto"; message Customer { Address address = 1; }`
	w := protodiff.Files{Main: parse(t, "c.proto", main), Imports: []*descriptorpb.FileDescriptorProto{wAddr}}
	if err := protodiff.Check(w, protodiff.Files{Main: parse(t, "c.proto", main), Imports: []*descriptorpb.FileDescriptorProto{rAddrOK}}); err != nil {
		t.Fatal(err)
	}
	err := protodiff.Check(w, protodiff.Files{Main: parse(t, "c.proto", main), Imports: []*descriptorpb.FileDescriptorProto{rAddrBad}})
	if err == nil || !strings.Contains(err.Error(), protodiff.FieldScalarKindChanged) || !strings.Contains(err.Error(), "street") {
		t.Fatalf("got %v", err)
	}
}

func TestErrorNamesField(t *testing.T) {
	err := protodiff.Check(protodiff.Files{Main: parse(t, "w", p3+`message C { string name = 1; int64 id = 2; }`)},
		protodiff.Files{Main: parse(t, "r", p3+`message C { string name = 1; string id = 2; }`)})
	if err == nil || err.Error() != "FIELD_SCALAR_KIND_CHANGED at C/2(id)" {
		t.Fatalf("got %v", err)
	}
}
