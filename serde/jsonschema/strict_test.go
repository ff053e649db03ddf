package jsonschema

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/registry"
)

// registryWith serves one JSON schema as the latest version of t-value (id 5,
// version 2) and as id 5, counting the requests.
func registryWith(t *testing.T, schema string) (string, *atomic.Int32) {
	var n atomic.Int32
	body := `{"subject":"t-value","version":2,"id":5,"schemaType":"JSON","schema":` + quote(schema) + `}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		if r.Method == http.MethodGet && (r.URL.Path == "/subjects/t-value/versions/latest" || r.URL.Path == "/schemas/ids/5") {
			w.Write([]byte(body))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error_code":40401,"message":"not here"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// use.latest.version and use.schema.id with their strict properties at Java's
// default (true): the registry's schema must read what the serializer's writes, as
// Java's KafkaJsonSchemaSerializer checks with JsonSchema.isBackwardCompatible. A
// compatible one writes the registry's id, once checked for all records; an
// incompatible one fails Serialize with an *registry.IncompatibleError naming the
// first incompatibility; the property set to false writes unchecked.
func TestCompatibilityStrict(t *testing.T) {
	const writer = `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}}}`
	for mode, prop := range map[string]string{"use.latest.version": "latest.compatibility.strict", "use.schema.id": "id.compatibility.strict"} {
		for _, tc := range []struct {
			name, latest, strict, fail string
		}{
			{"compatible", `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"number"}}}`, "", ""},
			{"compatible, strict", `{"type":"object","properties":{"name":{"type":"string"}}}`, "true", ""},
			{"incompatible", `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"string"}}}`, "", "TYPE_CHANGED at #/properties/age"},
			{"incompatible, unchecked", `{"type":"object","properties":{"age":{"type":"string"}}}`, "false", ""},
		} {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				url, requests := registryWith(t, tc.latest)
				props := map[string]string{"schema.registry.url": url, "auto.register.schemas": "false"}
				props[mode] = map[string]string{"use.latest.version": "true", "use.schema.id": "5"}[mode]
				if tc.strict != "" {
					props[prop] = tc.strict
				}
				s, err := FromProperties[map[string]any](props, false, writer)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				for range 3 {
					out, err := s.Serialize("t", map[string]any{"name": "x"})
					if tc.fail == "" {
						if err != nil || len(out) < 5 || out[4] != 5 {
							t.Fatalf("% x, %v", out, err)
						}
						continue
					}
					var ie *registry.IncompatibleError
					var se *serde.SerializationError
					if !errors.As(err, &se) || !errors.Is(err, registry.ErrIncompatible) || !errors.As(err, &ie) ||
						ie.Property != prop || ie.ReaderID != 5 || !strings.Contains(err.Error(), tc.fail) {
						t.Fatalf("err = %v, want an IncompatibleError naming %s and %q", err, prop, tc.fail)
					}
				}
				if want := int32(1); tc.fail == "" && requests.Load() != want {
					t.Fatalf("%d registry requests for 3 records, want %d", requests.Load(), want)
				}
			})
		}
	}
}
