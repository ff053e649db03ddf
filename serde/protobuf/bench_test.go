package protobuf

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb"
	"github.com/kprod-io/kprod/serde/registry"
)

// BenchmarkAppendSerialize is the per-record cost once the schema id is cached;
// "marshal-only" is proto.MarshalAppend alone, so the difference is what the
// serializer adds (nil check, type lookup, id lookup, header and index).
func BenchmarkAppendSerialize(b *testing.B) {
	_, url := newHTTPRegistry(b)
	c := customer()
	buf := make([]byte, 0, 256)
	b.Run("generated", func(b *testing.B) {
		s, _ := NewSerializer[*testpb.Customer](newResolver(b, url, registry.SerdeConfig{}), Options{})
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = s.AppendSerialize(buf[:0], "t", c)
		}
	})
	b.Run("any-message", func(b *testing.B) {
		s, _ := NewSerializer[proto.Message](newResolver(b, url, registry.SerdeConfig{}), Options{})
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = s.AppendSerialize(buf[:0], "t", c)
		}
	})
	b.Run("marshal-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = proto.MarshalOptions{}.MarshalAppend(buf[:0], c)
		}
	})
	b.Run("dynamic-protojson", func(b *testing.B) {
		s, err := NewDynamicSerializer(newResolver(b, url, registry.SerdeConfig{}),
			`syntax = "proto3"; message Customer { int32 id = 1; string name = 2; repeated string tags = 5; }`, DynamicOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = s.AppendSerialize(buf[:0], "t", `{"id":7,"name":"yifan","tags":["a","b"]}`)
		}
	})
}
