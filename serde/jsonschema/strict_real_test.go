package jsonschema_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/internal/testregistry"
	"github.com/kprod-io/kprod/serde/jsonschema"
	"github.com/kprod-io/kprod/serde/registry"
)

// On the real registry, use.latest.version and use.schema.id with the strict
// properties at Java's default: the latest schema, whose "$ref" names another
// subject's schema, reads what the serializer's writes, so the latest's id is
// written; after the referenced subject gets an incompatible version (and the main
// subject a version referencing it) the check follows the reference through the
// registry and fails naming the property inside the referenced schema.
func TestRealRegistryCompatibilityStrict(t *testing.T) {
	url := testregistry.URL(t)
	topic := testregistry.Name(t, "kprod-jsonschema-strict")
	addrSubject := testregistry.Name(t, "address")
	const addr = `{"type":"object","properties":{"street":{"type":"string"}}}`
	const main = `{"type":"object","properties":{"name":{"type":"string"},"address":{"$ref":"address.json"}}}`
	_, addrV := testregistry.Register(t, url, addrSubject, "JSON", addr)
	okID, _ := testregistry.Register(t, url, topic+"-value", "JSON", main, testregistry.Ref{Name: "address.json", Subject: addrSubject, Version: addrV})

	serialize := func(id int) ([]byte, error) {
		t.Helper()
		props := testregistry.UseRegistrySchema(url, id)
		cfg, scfg, err := registry.ParseProperties(props)
		if err != nil {
			t.Fatal(err)
		}
		c, err := registry.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, err := jsonschema.NewSerializer[map[string]any](registry.NewResolver(c, scfg, false), main, jsonschema.Options{
			References: []jsonschema.Reference{{Name: "address.json", Subject: addrSubject, Version: addrV, Text: addr}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return s.Serialize(topic, map[string]any{"name": "Ada", "address": map[string]any{"street": "Main"}})
	}
	for _, id := range []int{0, okID} {
		out, err := serialize(id)
		if err != nil || len(out) < 5 || int(binary.BigEndian.Uint32(out[1:5])) != okID {
			t.Fatalf("id %d (0: latest): compatible: % x, %v; want id %d", id, out, err, okID)
		}
	}

	_, badAddrV := testregistry.Register(t, url, addrSubject, "JSON", `{"type":"object","properties":{"street":{"type":"integer"}}}`)
	badID, _ := testregistry.Register(t, url, topic+"-value", "JSON", strings.Replace(main, `"type":"object"`, `"type":"object","title":"Customer"`, 1),
		testregistry.Ref{Name: "address.json", Subject: addrSubject, Version: badAddrV})
	for id, prop := range map[int]string{0: "latest.compatibility.strict", badID: "id.compatibility.strict"} {
		_, err := serialize(id)
		var ie *registry.IncompatibleError
		if !errors.Is(err, registry.ErrIncompatible) || !errors.As(err, &ie) || ie.Property != prop || ie.ReaderID != badID ||
			!strings.Contains(err.Error(), "TYPE_CHANGED at #/properties/address/properties/street") {
			t.Fatalf("id %d (0: latest): err = %v, want %s's IncompatibleError at the referenced street", id, err, prop)
		}
	}
}
