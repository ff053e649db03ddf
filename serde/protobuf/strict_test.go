package protobuf

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb"
	"github.com/kprod-io/kprod/serde/registry"
)

// protoRegistry serves one .proto text as the latest version of t-value (id 7,
// version 2) and as id 7, counting the requests.
func protoRegistry(t *testing.T, schema string) (string, *atomic.Int32) {
	var n atomic.Int32
	body := `{"subject":"t-value","version":2,"id":7,"schemaType":"PROTOBUF","schema":` + jsonQuote(schema) + `}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		if r.Method == http.MethodGet && (r.URL.Path == "/subjects/t-value/versions/latest" || r.URL.Path == "/schemas/ids/7") {
			w.Write([]byte(body))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error_code":40401,"message":"not here"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func jsonQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// Under use.latest.version or use.schema.id with the strict property at Java's
// default (true), the registry's schema must read what the message's writes, as
// Java's ProtobufSchema.isBackwardCompatible decides: compatible writes the
// registry's id and the path into its schema, once checked for all records;
// incompatible fails Serialize with an *registry.IncompatibleError naming the field;
// false writes unchecked. Generated and dynamic serializers alike.
func TestCompatibilityStrict(t *testing.T) {
	const pkg = "syntax = \"proto3\";\npackage kprod.test.plain;\n"
	for mode, prop := range map[string]string{"use.latest.version": "latest.compatibility.strict", "use.schema.id": "id.compatibility.strict"} {
		for _, tc := range []struct {
			name, latest, strict, fail string
		}{
			{"compatible", pkg + "message Other { bool b = 1; }\nmessage Plain { string text = 1; uint64 n = 2; string more = 3; }", "", ""},
			{"incompatible", pkg + "message Plain { string text = 1; double n = 2; }", "true", "FIELD_SCALAR_KIND_CHANGED at Plain/2(n)"},
			{"other package", "syntax = \"proto3\";\npackage elsewhere;\nmessage Plain { string text = 1; int64 n = 2; }", "", "PACKAGE_CHANGED"},
			{"incompatible, unchecked", pkg + "message Plain { bytes n = 2; }", "false", ""},
		} {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				url, requests := protoRegistry(t, tc.latest)
				props := map[string]string{"schema.registry.url": url, "auto.register.schemas": "false"}
				props[mode] = map[string]string{"use.latest.version": "true", "use.schema.id": "7"}[mode]
				if tc.strict != "" {
					props[prop] = tc.strict
				}
				gen, err := FromProperties[*testpb.Plain](props, false)
				if err != nil {
					t.Fatal(err)
				}
				defer gen.Close()
				dyn, err := DynamicFromProperties(props, false, pkg+"message Plain { string text = 1; int64 n = 2; }", DynamicOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer dyn.Close()
				serialize := map[string]func() ([]byte, error){
					"generated": func() ([]byte, error) { return gen.Serialize("t", &testpb.Plain{Text: "x", N: 1}) },
					"dynamic":   func() ([]byte, error) { return dyn.Serialize("t", `{"text":"x","n":"1"}`) },
				}
				for kind, f := range serialize {
					for range 3 {
						out, err := f()
						if tc.fail == "" {
							if err != nil || len(out) < 5 || out[4] != 7 {
								t.Fatalf("%s: % x, %v", kind, out, err)
							}
							continue
						}
						var ie *registry.IncompatibleError
						if !errors.Is(err, registry.ErrIncompatible) || !errors.As(err, &ie) || ie.Property != prop ||
							!strings.Contains(err.Error(), tc.fail) {
							t.Fatalf("%s: err = %v, want an IncompatibleError naming %s and %q", kind, err, prop, tc.fail)
						}
					}
				}
				if tc.fail == "" && requests.Load() != 2 {
					t.Fatalf("%d registry requests for 3 records of each serializer, want 2", requests.Load())
				}
			})
		}
	}
}
