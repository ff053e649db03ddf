package jsonschema

import (
	"encoding/json"
	"testing"

	"github.com/kprod-io/kprod/serde/registry"
)

// benchSerializer returns a serializer whose schema id is already cached, through a
// real *registry.Resolver, so the benchmark measures the per-record path.
func benchSerializer[T any](b *testing.B, validate bool) *Serializer[T] {
	_, url := newHTTPRegistry(b)
	c, err := registry.New(registry.Config{URLs: []string{url}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	s, err := NewSerializer[T](registry.NewResolver(c, registry.SerdeConfig{}, false), customerSchema, Options{FailInvalidSchema: validate})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkSerialize(b *testing.B) {
	cust := Customer{Name: ptr("Ann"), Email: ptr("ann@example.com"), Tags: []string{"gold", "eu"}, Address: &Address{Zip: "12345"}, Age: 42}
	raw, _ := json.Marshal(cust)
	for _, validate := range []bool{false, true} {
		name := "validate=false"
		if validate {
			name = "validate=true"
		}
		b.Run("struct/"+name, func(b *testing.B) {
			s := benchSerializer[Customer](b, validate)
			dst := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.AppendSerialize(dst[:0], "orders", cust); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("raw/"+name, func(b *testing.B) {
			s := benchSerializer[json.RawMessage](b, validate)
			dst := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.AppendSerialize(dst[:0], "orders", raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("pointer/validate=false", func(b *testing.B) {
		s := benchSerializer[*Customer](b, false)
		dst := make([]byte, 0, 256)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.AppendSerialize(dst[:0], "orders", &cust); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("struct/Serialize", func(b *testing.B) {
		s := benchSerializer[Customer](b, false)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Serialize("orders", cust); err != nil {
				b.Fatal(err)
			}
		}
	})
}
