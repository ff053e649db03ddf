package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/internal/testregistry"
	"github.com/kprod-io/kprod/serde/registry"
)

// These tests run against the real registry scripts/registry starts (Apicurio's
// Confluent-compatible API): the fake accepts invalid schemas and is always compatible.

func realClient(t *testing.T) (*registry.Client, string) {
	url := testregistry.URL(t)
	return client(t, registry.Config{URLs: []string{url}}), url
}

func TestRealRegisterLookupLatest(t *testing.T) {
	c, _ := realClient(t)
	ctx := context.Background()
	topic := testregistry.Name(t, "orders")
	auto := registry.NewResolver(c, registry.SerdeConfig{}, false)
	s := registry.Schema{Text: orderSchema}
	id, used, err := auto.ID(ctx, topic, "com.example.Order", s)
	if err != nil || id <= 0 || used.Text != orderSchema {
		t.Fatalf("register: %d %+v %v", id, used, err)
	}
	// Registered exactly as given, and readable by id.
	got, err := c.SchemaByID(ctx, id)
	if err != nil || got.Text != orderSchema || got.Type != "AVRO" {
		t.Fatalf("by id: %+v %v", got, err)
	}
	// A fresh resolver re-registering gets the same id; a lookup finds it.
	for _, cfg := range []registry.SerdeConfig{{}, {AutoRegisterSchemas: ptr(false)}} {
		again, _, err := registry.NewResolver(c, cfg, false).ID(ctx, topic, "", s)
		if err != nil || again != id {
			t.Fatalf("%+v: id %d %v, want %d", cfg, again, err, id)
		}
	}
	// use.latest.version writes with the subject's newest schema.
	v2 := strings.Replace(orderSchema, `}]}`, `},{"name":"note","type":["null","string"],"default":null}]}`, 1)
	id2, _, err := auto.ID(ctx, topic, "", registry.Schema{Text: v2})
	if err != nil || id2 == id {
		t.Fatalf("v2: %d %v", id2, err)
	}
	latest := registry.NewResolver(c, registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseLatestVersion: true}, false)
	lid, lused, err := latest.ID(ctx, topic, "", s)
	if err != nil || lid != id2 || lused.Text != v2 {
		t.Fatalf("latest: %d %+v %v, want %d", lid, lused, err, id2)
	}
	// use.schema.id names the schema to write with.
	pinned := registry.NewResolver(c, registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseSchemaID: id}, false)
	pid, pused, err := pinned.ID(ctx, topic, "", registry.Schema{Text: v2})
	if err != nil || pid != id || pused.Text != orderSchema {
		t.Fatalf("use.schema.id: %d %+v %v", pid, pused, err)
	}
	// Normalized registration of a whitespace variant finds the same schema.
	spaced := strings.ReplaceAll(orderSchema, ",", ", ")
	nid, _, err := registry.NewResolver(c, registry.SerdeConfig{NormalizeSchemas: true, AutoRegisterSchemas: ptr(false)}, false).
		ID(ctx, topic, "", registry.Schema{Text: spaced})
	if err != nil || nid != id {
		t.Fatalf("normalize.schemas lookup of a whitespace variant: id %d %v, want %d", nid, err, id)
	}
	// (Apicurio's lookup finds the variant without normalize too, so the query itself is
	// checked on the fake: TestNormalizeQuery.)
}

func TestRealErrors(t *testing.T) {
	c, url := realClient(t)
	ctx := context.Background()
	topic := testregistry.Name(t, "errs")
	lookup := registry.NewResolver(c, registry.SerdeConfig{AutoRegisterSchemas: ptr(false)}, false)
	if _, _, err := lookup.ID(ctx, topic, "", registry.Schema{Text: orderSchema}); !errors.Is(err, registry.ErrUnknownSubject) {
		t.Fatalf("lookup in an unknown subject: %v", err)
	}
	latest := registry.NewResolver(c, registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseLatestVersion: true}, false)
	if _, _, err := latest.ID(ctx, topic, "", registry.Schema{Text: orderSchema}); !errors.Is(err, registry.ErrUnknownSubject) {
		t.Fatalf("latest of an unknown subject: %v", err)
	}
	if _, err := c.SchemaByID(ctx, 1<<30); !errors.Is(err, registry.ErrUnknownSchema) {
		t.Fatalf("unknown id: %v", err)
	}
	auto := registry.NewResolver(c, registry.SerdeConfig{}, false)
	if _, _, err := auto.ID(ctx, topic, "", registry.Schema{Text: `{"type":"recor`}); !errors.Is(err, registry.ErrInvalidSchema) {
		t.Fatalf("invalid schema: %v", err)
	}
	if _, _, err := auto.ID(ctx, topic, "", registry.Schema{Text: orderSchema}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lookup.ID(ctx, topic, "", registry.Schema{Text: `"string"`}); !errors.Is(err, registry.ErrUnknownSchema) {
		t.Fatalf("lookup of a schema the subject lacks: %v", err)
	}
	// 409: a change BACKWARD compatibility forbids (a new field without a default).
	testregistry.SetCompatibility(t, url, topic+"-value", "BACKWARD")
	breaking := strings.Replace(orderSchema, `}]}`, `},{"name":"must","type":"string"}]}`, 1)
	_, _, err := auto.ID(ctx, topic, "", registry.Schema{Text: breaking})
	var re *registry.Error
	if !errors.Is(err, registry.ErrIncompatible) || !errors.As(err, &re) || re.Status != 409 || re.Retriable() {
		t.Fatalf("incompatible: %v", err)
	}
	// Failures are not cached: the same call fails again by asking again.
	if _, _, err := auto.ID(ctx, topic, "", registry.Schema{Text: breaking}); !errors.Is(err, registry.ErrIncompatible) {
		t.Fatalf("second try: %v", err)
	}
}

func TestRealProtobufAndJSONSchemaTypes(t *testing.T) {
	c, _ := realClient(t)
	ctx := context.Background()
	topic := testregistry.Name(t, "types")
	r := registry.NewResolver(c, registry.SerdeConfig{ValueSubjectNameStrategy: registry.TopicRecordNameStrategy}, false)
	for _, s := range []registry.Schema{
		{Type: "PROTOBUF", Text: "syntax = \"proto3\";\npackage com.example;\n\nmessage Customer {\n  string name = 1;\n}\n"},
		{Type: "JSON", Text: `{"title":"Customer","type":"object","properties":{"name":{"type":"string"}}}`},
	} {
		id, _, err := r.ID(ctx, topic, "com.example.Customer"+s.Type, s)
		if err != nil {
			t.Fatalf("%s: %v", s.Type, err)
		}
		got, err := c.SchemaByID(ctx, id)
		if err != nil || got.Type != s.Type {
			t.Fatalf("%s by id: %+v %v", s.Type, got, err)
		}
	}
}

func TestRealFailover(t *testing.T) {
	url := testregistry.URL(t)
	c := client(t, registry.Config{URLs: []string{deadURL(t), url}})
	r := registry.NewResolver(c, registry.SerdeConfig{}, false)
	if _, _, err := r.ID(context.Background(), testregistry.Name(t, "fo"), "", registry.Schema{Text: `"string"`}); err != nil {
		t.Fatal(err)
	}
}
