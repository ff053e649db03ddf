package avro_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/kprod-io/kprod/serde"
	avroserde "github.com/kprod-io/kprod/serde/avro"
)

// FuzzSerialize feeds arbitrary schema text (which the serializer parses and walks
// for its key check) and arbitrary JSON values (generic maps, slices, numbers) to a
// serializer. It must never panic or hang; a failure must be a SerializationError;
// and bytes it writes must decode completely with linkedin/goavro, an independent
// implementation, whenever goavro accepts the schema.
func FuzzSerialize(f *testing.F) {
	for _, seed := range [][2]string{
		{customerSchema, `{"id": 1, "name": "yifan", "email": "y@example.com"}`},
		{customerSchema, `{"id": 1, "name": "yifan", "email": {"string": "y"}, "emial": 1}`},
		{`{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"],"default":null},{"name":"v","type":{"type":"array","items":"long"}}]}`,
			`{"v": [1, 2], "next": {"v": [], "next": {"L": {"v": [3]}}}}`},
		{`{"type":"record","name":"E","fields":[{"name":"ms","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}},{"name":"u","type":{"type":"string","logicalType":"uuid"}}]}`,
			`{"ms": "2026-12-04T15:10:46Z", "d": "12.34", "u": "123e4567-e89b-12d3-a456-426614174000"}`},
		{`{"type":"map","values":{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":0}]}}`, `{"x": {"a": 1}, "y": {"b": 2}}`},
		{`["null","string",{"type":"enum","name":"S","symbols":["A","B"]}]`, `{"S": "B"}`},
		{`{"type":"fixed","name":"F","size":2}`, `"ab"`},
	} {
		f.Add(seed[0], []byte(seed[1]))
	}
	reg := startFakeRegistry()
	defer reg.srv.Close()
	client := reg.client(nil)
	defer client.Close()
	f.Fuzz(func(t *testing.T, schema string, value []byte) {
		s, err := avroserde.NewSerializer[any](schema, avroserde.Config{Client: client})
		if err != nil {
			return
		}
		d := json.NewDecoder(bytes.NewReader(value))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return
		}
		b, err := s.Serialize("fuzz", v)
		if err != nil {
			var se *serde.SerializationError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a SerializationError", err, err)
			}
			return
		}
		if v == nil {
			if b != nil {
				t.Fatalf("nil value gave % x", b)
			}
			return
		}
		if len(b) < 5 || b[0] != 0 {
			t.Fatalf("no header: % x", b)
		}
		codec, err := goavro.NewCodec(schema)
		if err != nil {
			return // goavro is stricter about some schemas (interop trap 2)
		}
		if _, rest, err := codec.NativeFromBinary(b[5:]); err != nil || len(rest) != 0 {
			t.Fatalf("goavro cannot read what was written for %s: %v (rest % x, bytes % x)", value, err, rest, b)
		}
	})
}
