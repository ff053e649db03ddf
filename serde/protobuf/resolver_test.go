package protobuf

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb"
	"github.com/kprod-io/kprod/serde/registry"
)

func newResolver(t testing.TB, url string, scfg registry.SerdeConfig) *registry.Resolver {
	t.Helper()
	c, err := registry.New(registry.Config{URLs: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return registry.NewResolver(c, scfg, false)
}

// Through the real Resolver and HTTP: address.proto is registered under its own
// name and looked up for its version, then customer.proto is registered naming it;
// concurrent first records and later ones ask nothing more.
func TestRegistersReferencesOnce(t *testing.T) {
	reg, url := newHTTPRegistry(t)
	s, err := NewSerializer[*testpb.Customer](newResolver(t, url, registry.SerdeConfig{}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.Serialize("orders", customer()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for range 5 {
		if _, err := s.Serialize("orders", customer()); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"POST /subjects/address.proto/versions", "POST /subjects/address.proto", "POST /subjects/orders-value/versions"}
	if got := reg.seen(); !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	v := reg.subject("orders-value")
	if len(v) != 1 || v[0].SchemaType != "PROTOBUF" || len(v[0].References) != 1 ||
		v[0].References[0]["name"] != "address.proto" || v[0].References[0]["subject"] != "address.proto" || v[0].References[0]["version"] != 1.0 {
		t.Fatalf("registered %+v", v)
	}
	if a := reg.subject("address.proto"); len(a) != 1 || !strings.Contains(a[0].Schema, "message Address") {
		t.Fatalf("address.proto %+v", a)
	}
}

// With auto.register.schemas=false the references and the schema are looked up;
// with use.latest.version the references take their subjects' latest versions.
func TestReferencesWithoutAutoRegister(t *testing.T) {
	no := false
	reg, url := newHTTPRegistry(t)
	s, _ := NewSerializer[*testpb.Customer](newResolver(t, url, registry.SerdeConfig{AutoRegisterSchemas: &no}), Options{})
	if _, err := s.Serialize("orders", customer()); err == nil {
		t.Fatal("lookup of an unregistered reference succeeded")
	}
	if got := reg.seen(); !slices.Equal(got, []string{"POST /subjects/address.proto"}) {
		t.Fatalf("requests %v", got)
	}

	reg, url = newHTTPRegistry(t)
	reg.add("address.proto", "syntax = \"proto3\"; package kprod.test; message Address { string street = 1; }")
	latest := reg.add("orders-value", "syntax = \"proto3\"; package kprod.test; message Customer { int32 id = 1; }")
	f := false
	s, _ = NewSerializer[*testpb.Customer](newResolver(t, url, registry.SerdeConfig{AutoRegisterSchemas: &no, UseLatestVersion: true, LatestCompatibilityStrict: &f}), Options{})
	b, err := s.Serialize("orders", customer())
	if err != nil {
		t.Fatal(err)
	}
	if id := int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4]); id != latest || b[5] != 0 {
		t.Fatalf("id %d index %x, want %d 00", id, b[5], latest)
	}
	want := []string{"GET /subjects/address.proto/versions/latest", "GET /subjects/orders-value/versions/latest"}
	if got := reg.seen(); !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
}

// After the first record, serializing into a reused buffer allocates nothing.
func TestNoAllocsAfterFirst(t *testing.T) {
	_, url := newHTTPRegistry(t)
	s, _ := NewSerializer[*testpb.Customer](newResolver(t, url, registry.SerdeConfig{}), Options{})
	c := customer()
	buf, err := s.AppendSerialize(nil, "orders", c)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { buf, _ = s.AppendSerialize(buf[:0], "orders", c) }); n != 0 {
		t.Fatalf("%v allocations per record", n)
	}
}
