package jsonschema

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kprod-io/kprod/serde/registry"
)

// use.latest.version=true with latest.compatibility.strict left at Java's
// default (true): Java's KafkaJsonSchemaSerializer checks that the subject's
// latest schema can read what the given one writes. kprod has no JSON Schema
// compatibility checker, so it refuses the configuration at construction, naming
// the property, instead of writing unchecked; set to false, it writes with the
// latest's id.
func TestLatestCompatibilityStrictFailsAtConstruction(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		if r.Method == http.MethodGet && r.URL.Path == "/subjects/t-value/versions/latest" {
			w.Write([]byte(`{"subject":"t-value","version":1,"id":5,"schemaType":"JSON","schema":"{\"type\":\"string\"}"}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error_code":40401,"message":"not here"}`))
	}))
	defer srv.Close()
	props := map[string]string{
		"schema.registry.url":   srv.URL,
		"auto.register.schemas": "false",
		"use.latest.version":    "true",
	}
	for _, strict := range []string{"", "true"} {
		if strict != "" {
			props["latest.compatibility.strict"] = strict
		}
		s, err := FromProperties[any](props, false, `{"type":"string"}`)
		var ce *registry.ConfigError
		if !errors.As(err, &ce) || ce.Property != "latest.compatibility.strict" {
			if err == nil {
				s.Close()
			}
			t.Fatalf("latest.compatibility.strict=%q: %v", strict, err)
		}
	}
	props["latest.compatibility.strict"] = "false"
	s, err := FromProperties[any](props, false, `{"type":"string"}`)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Serialize("t", "hello")
	if err != nil || len(out) < 5 || out[4] != 5 {
		t.Fatalf("strict=false: % x, %v", out, err)
	}
}
