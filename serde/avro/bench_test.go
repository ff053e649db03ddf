package avro_test

import (
	"testing"

	"github.com/twmb/avro"

	avroserde "github.com/kprod-io/kprod/serde/avro"
)

// BenchmarkAppendSerialize is the per-record cost once the schema id is cached:
// the registry is asked on the first record only. "encode-only" is the bare
// encoder, so the difference is what the serializer adds (header, id lookup,
// nil check, key check for maps).
func BenchmarkAppendSerialize(b *testing.B) {
	f := startFakeRegistry()
	defer f.srv.Close()
	c := Customer{ID: 7, Name: "yifan", Email: ptr("y@example.com")}
	m := map[string]any{"id": 7, "name": "yifan", "email": "y@example.com"}
	buf := make([]byte, 0, 256)

	b.Run("pointer", func(b *testing.B) {
		s := newBench[*Customer](b, f)
		for b.Loop() {
			buf, _ = s.AppendSerialize(buf[:0], "t", &c)
		}
	})
	b.Run("value", func(b *testing.B) {
		s := newBench[Customer](b, f)
		for b.Loop() {
			buf, _ = s.AppendSerialize(buf[:0], "t", c)
		}
	})
	b.Run("map", func(b *testing.B) {
		s := newBench[map[string]any](b, f)
		for b.Loop() {
			buf, _ = s.AppendSerialize(buf[:0], "t", m)
		}
	})
	b.Run("encode-only", func(b *testing.B) {
		sch := avro.MustParse(customerSchema)
		for b.Loop() {
			buf, _ = sch.AppendEncode(buf[:0], &c)
		}
	})
}

func newBench[T any](b *testing.B, f *fakeRegistry) *avroserde.Serializer[T] {
	b.Helper()
	c := f.client(nil)
	s, err := avroserde.NewSerializer[T](customerSchema, avroserde.Config{Client: c})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	return s
}
