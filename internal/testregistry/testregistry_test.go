package testregistry_test

import (
	"context"
	"testing"

	"github.com/kprod-io/kprod/internal/testregistry"
	"github.com/kprod-io/kprod/serde/registry"
)

// TestIndependentReader checks the harness end to end: a schema registered on the
// real registry, a record framed by registry.AppendHeader, read back by Confluent's
// Python deserializers.
func TestIndependentReader(t *testing.T) {
	url := testregistry.URL(t)
	c, err := registry.New(registry.Config{URLs: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	topic := testregistry.Name(t, "harness")
	r := registry.NewResolver(c, registry.SerdeConfig{}, false)
	id, _, err := r.ID(context.Background(), topic, "", registry.Schema{
		Text: `{"type":"record","name":"Customer","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	// Avro binary of {"id": 42, "name": "Ann"}: zigzag varint 84, then length 6 (3) and the bytes.
	data := append(registry.AppendHeader(nil, id), 84, 6, 'A', 'n', 'n')
	if got, want := testregistry.Decode(t, "avro", url, topic, false, data), `{"id": 42, "name": "Ann"}`; got != want {
		t.Fatalf("avro: %s, want %s", got, want)
	}

	kr := registry.NewResolver(c, registry.SerdeConfig{}, true)
	jid, _, err := kr.ID(context.Background(), topic, "", registry.Schema{Type: "JSON",
		Text: `{"title":"Key","type":"object","properties":{"k":{"type":"string"}}}`})
	if err != nil {
		t.Fatal(err)
	}
	data = append(registry.AppendHeader(nil, jid), `{"k":"v"}`...)
	if got, want := testregistry.Decode(t, "json", url, topic, true, data), `{"k": "v"}`; got != want {
		t.Fatalf("json: %s, want %s", got, want)
	}
}
