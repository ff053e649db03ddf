package protobuf_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/internal/testregistry"
	"github.com/kprod-io/kprod/serde/protobuf"
	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb"
	"github.com/kprod-io/kprod/serde/registry"
)

// On the real registry, use.latest.version and use.schema.id with the strict
// properties at Java's default: the latest schema, which imports another subject's
// file, reads what the serializer's writes, so the latest's id is written; after the
// imported subject gets an incompatible version (and the main subject a version
// importing it) the check loads the import from the registry and fails naming the
// field of the imported message.
func TestRealRegistryCompatibilityStrict(t *testing.T) {
	url := testregistry.URL(t)
	topic := testregistry.Name(t, "kprod-protobuf-strict")
	addrSubject := testregistry.Name(t, "compat-address")
	const file = "kprod_compat_address.proto"
	const addr = "syntax = \"proto3\";\npackage kprod.compat;\nmessage Address { string street = 1; }\n"
	const main = "syntax = \"proto3\";\npackage kprod.compat;\nimport \"" + file + "\";\nmessage Customer { string name = 1; Address address = 2; }\n"
	_, addrV := testregistry.Register(t, url, addrSubject, "PROTOBUF", addr)
	okID, _ := testregistry.Register(t, url, topic+"-value", "PROTOBUF", main, testregistry.Ref{Name: file, Subject: addrSubject, Version: addrV})

	serialize := func(id int) ([]byte, error) {
		t.Helper()
		props := testregistry.UseRegistrySchema(url, id)
		s, err := protobuf.DynamicFromProperties(props, false, main, protobuf.DynamicOptions{
			References: []protobuf.Reference{{Name: file, Subject: addrSubject, Version: addrV, Text: addr}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		return s.Serialize(topic, `{"name":"Ada","address":{"street":"Main"}}`)
	}
	for _, id := range []int{0, okID} {
		out, err := serialize(id)
		if err != nil || len(out) < 5 || int(binary.BigEndian.Uint32(out[1:5])) != okID {
			t.Fatalf("id %d (0: latest): compatible: % x, %v; want id %d", id, out, err, okID)
		}
	}

	_, badAddrV := testregistry.Register(t, url, addrSubject, "PROTOBUF", strings.Replace(addr, "string street", "double street", 1))
	badID, _ := testregistry.Register(t, url, topic+"-value", "PROTOBUF", main+"message Unused {}\n",
		testregistry.Ref{Name: file, Subject: addrSubject, Version: badAddrV})
	for id, prop := range map[int]string{0: "latest.compatibility.strict", badID: "id.compatibility.strict"} {
		_, err := serialize(id)
		var ie *registry.IncompatibleError
		if !errors.Is(err, registry.ErrIncompatible) || !errors.As(err, &ie) || ie.Property != prop || ie.ReaderID != badID ||
			!strings.Contains(err.Error(), "FIELD_SCALAR_KIND_CHANGED at Customer/2(address)/1(street)") {
			t.Fatalf("id %d (0: latest): err = %v, want %s's IncompatibleError at the imported street", id, err, prop)
		}
	}
}

// The same with a generated message whose file imports address.proto and a
// well-known type: the writer's side is the serializer's own printed files, the
// reader's the registry's, its import loaded by reference and the well-known type
// compared by name. The registry's file must declare every message of the
// serializer's (Confluent's MESSAGE_REMOVED is incompatible), here Order too.
func TestRealRegistryCompatibilityStrictGenerated(t *testing.T) {
	url := testregistry.URL(t)
	// Register the generated files as auto.register.schemas does, so that the strict
	// serializers below find address.proto under its subject.
	auto, err := protobuf.FromProperties[*testpb.Customer](map[string]string{"schema.registry.url": url}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auto.Serialize(testregistry.Name(t, "kprod-protobuf-strict-auto"), &testpb.Customer{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	auto.Close()

	addrSubject := testregistry.Name(t, "compat-address")
	_, addrV := testregistry.Register(t, url, addrSubject, "PROTOBUF",
		"syntax = \"proto3\";\npackage kprod.test;\nmessage Address { string street = 1; string city = 2; }\n")
	ref := testregistry.Ref{Name: "address.proto", Subject: addrSubject, Version: addrV}
	customer := func(fields string) string {
		return "syntax = \"proto3\";\npackage kprod.test;\nimport \"address.proto\";\nimport \"google/protobuf/timestamp.proto\";\n" +
			"message Customer { int32 id = 1; " + fields + " Address address = 3; google.protobuf.Timestamp created = 4; repeated string tags = 5; }\n" +
			"message Order { string id = 1; repeated Line lines = 2; message Line { string sku = 1; int64 quantity = 2; message Discount { int32 percent = 1; } message Note { string text = 1; } } }\n"
	}
	for _, tc := range []struct {
		name, latest, fail string
	}{
		{"compatible", customer("string name = 2; string email = 6;"), ""},
		{"incompatible", customer("int64 name = 2;"), "FIELD_SCALAR_KIND_CHANGED at Customer/2(name)"},
	} {
		topic := testregistry.Name(t, "kprod-protobuf-strict-gen")
		id, _ := testregistry.Register(t, url, topic+"-value", "PROTOBUF", tc.latest, ref)
		for useID, prop := range map[int]string{0: "latest.compatibility.strict", id: "id.compatibility.strict"} {
			s, err := protobuf.FromProperties[*testpb.Customer](testregistry.UseRegistrySchema(url, useID), false)
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Serialize(topic, &testpb.Customer{Id: 1, Name: "Ada"})
			s.Close()
			var ie *registry.IncompatibleError
			switch {
			case tc.fail == "" && (err != nil || int(binary.BigEndian.Uint32(out[1:5])) != id):
				t.Fatalf("%s, use.schema.id=%d: % x, %v; want id %d", tc.name, useID, out, err, id)
			case tc.fail != "" && (!errors.As(err, &ie) || ie.Property != prop || !strings.Contains(err.Error(), tc.fail)):
				t.Fatalf("%s, use.schema.id=%d: err = %v, want %s's IncompatibleError naming %q", tc.name, useID, err, prop, tc.fail)
			}
		}
	}
}
