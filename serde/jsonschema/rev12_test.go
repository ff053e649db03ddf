package jsonschema

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// use.latest.version=true with latest.compatibility.strict left at Java's
// default (true): the subject's latest schema ({"type":"integer"}) cannot read
// what the given schema ({"type":"string"}) writes, so Java's
// KafkaJsonSchemaSerializer fails ("Incompatible schema"). kprod writes the
// record under the latest's id with no check (the Avro serializer does check).
func TestRev12LatestCompatibilityStrictJSONSchema(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		if r.Method == http.MethodGet && r.URL.Path == "/subjects/t-value/versions/latest" {
			w.Write([]byte(`{"subject":"t-value","version":1,"id":5,"schemaType":"JSON","schema":"{\"type\":\"integer\"}"}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error_code":40401,"message":"not here"}`))
	}))
	defer srv.Close()
	s, err := FromProperties[any](map[string]string{
		"schema.registry.url":   srv.URL,
		"auto.register.schemas": "false",
		"use.latest.version":    "true",
	}, false, `{"type":"string"}`)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Serialize("t", "hello")
	if err == nil {
		t.Fatalf("no error: wrote % x, a string under the integer schema's id 5", out)
	}
}
