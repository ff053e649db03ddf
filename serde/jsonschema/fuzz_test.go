package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/registry"
)

// FuzzSerialize feeds arbitrary schema texts (a registry's answer under
// use.latest.version is one) and raw values: construction and Serialize may fail but
// never panic, a failure is a SerializationError, and a success is the header and the
// compacted value.
func FuzzSerialize(f *testing.F) {
	f.Add(customerSchema, `{"age":1,"name":null}`, true)
	f.Add(`{"type":"array","items":{"$ref":"#"}}`, `[[[]]]`, true)
	f.Add(`{"oneOf":[{"type":"null"},{"type":"string","pattern":"^a+$"}]}`, `"aaa"`, true)
	f.Add(`{"$schema":"https://json-schema.org/draft/2020-12/schema","$defs":{"a":{"$dynamicAnchor":"x"}}}`, `{}`, false)
	f.Add(`true`, `{"a":`, false)
	f.Fuzz(func(t *testing.T, schema, value string, validate bool) {
		s, err := newSerializer[json.RawMessage](&fakeResolver{id: 1}, schema, Options{FailInvalidSchema: validate})
		if err != nil {
			return
		}
		b, err := s.Serialize("t", json.RawMessage(value))
		if err != nil {
			var se *serde.SerializationError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a SerializationError", err)
			}
			return
		}
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(value)); err != nil {
			t.Fatalf("invalid JSON %q serialized", value)
		}
		if !bytes.Equal(b[:5], []byte{0, 0, 0, 0, 1}) || !bytes.Equal(b[5:], want.Bytes()) {
			t.Fatalf("bad record %q", b)
		}
		// A registry's latest schema is compiled and cached the same way.
		latest := registry.Schema{Type: "JSON", Text: schema + " "}
		s2, _ := newSerializer[json.RawMessage](&fakeResolver{id: 1, used: &latest}, `true`, Options{FailInvalidSchema: true})
		_, _ = s2.Serialize("t", json.RawMessage(value))
	})
}
