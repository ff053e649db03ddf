package avro_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/avro"

	avroserde "github.com/kprod-io/kprod/serde/avro"
)

const jsonTestSchema = `{"type": "record", "name": "Order", "namespace": "com.example",
 "fields": [
  {"name": "id", "type": "long"},
  {"name": "qty", "type": "int"},
  {"name": "note", "type": ["null", "string"], "default": null},
  {"name": "n", "type": ["int", "long"]},
  {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
  {"name": "tag", "type": {"type": "fixed", "name": "Tag", "size": 2}},
  {"name": "raw", "type": "bytes"},
  {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
  {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "ratio", "type": "double"},
  {"name": "ok", "type": "boolean"},
  {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line",
     "fields": [{"name": "sku", "type": "string"}, {"name": "st", "type": "Status"}]}}},
  {"name": "attrs", "type": {"type": "map", "values": "float"}},
  {"name": "first", "type": ["null", "Line"], "default": null},
  {"name": "extra", "type": "string", "default": "none"}
 ]}`

const jsonTestLine = `{"id": 9007199254740993, "qty": 3, "note": {"string": "fast"}, "n": {"long": 5},
 "status": "PAID", "tag": "\u00ff\u0001", "raw": "a\u0000\u00e9", "price": "\u0004\u00d2",
 "at": 1700000000123, "ratio": 0.5, "ok": true,
 "lines": [{"sku": "A-1", "st": "NEW"}], "attrs": {"w": 1.5},
 "first": {"com.example.Line": {"sku": "B", "st": "PAID"}}}`

// A line in Avro's JSON encoding encodes, through the serializer, to the same
// Avro binary as the equivalent native value.
func TestJSONReaderEncodesAsNative(t *testing.T) {
	r, err := avroserde.NewJSONReader(jsonTestSchema)
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.Decode([]byte(jsonTestLine))
	if err != nil {
		t.Fatal(err)
	}
	reg := newFakeRegistry(t)
	s, err := avroserde.NewSerializer[any](jsonTestSchema, avroserde.Config{Client: reg.client(t)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Serialize("orders", v)
	if err != nil {
		t.Fatal(err)
	}
	sch := avro.MustParse(jsonTestSchema)
	var back map[string]any
	if _, err := sch.Decode(got[5:], &back); err != nil {
		t.Fatalf("decoding what the serializer wrote: %v", err)
	}
	// Java's JsonDecoder over the same line gives these; check the fields the
	// JSON encoding makes tricky.
	if back["id"] != int64(9007199254740993) {
		t.Errorf("id = %v: a long beyond float64's precision lost digits", back["id"])
	}
	if back["note"] != "fast" || back["n"] != int64(5) || back["extra"] != "none" || back["status"] != "PAID" {
		t.Errorf("note %v n %#v extra %v status %v", back["note"], back["n"], back["extra"], back["status"])
	}
	if tag := back["tag"]; string(toBytes(tag)) != "\xff\x01" {
		t.Errorf("tag = %#v", tag)
	}
	if raw := back["raw"]; string(toBytes(raw)) != "a\x00\xe9" {
		t.Errorf("raw = %#v", raw)
	}
	// The n branch must be long (index 1): the tagged form chose it.
	bin, err := sch.Encode(map[string]any{"n": map[string]any{"long": int64(5)}, "id": int64(9007199254740993), "qty": int32(3),
		"note": "fast", "status": "PAID", "tag": []byte{0xff, 1}, "raw": []byte("a\x00\xe9"),
		"price": back["price"], "at": back["at"], "ratio": 0.5, "ok": true,
		"lines": []any{map[string]any{"sku": "A-1", "st": "NEW"}}, "attrs": map[string]any{"w": float32(1.5)},
		"first": map[string]any{"sku": "B", "st": "PAID"}, "extra": "none"})
	if err != nil {
		t.Fatal(err)
	}
	if string(bin) != string(got[5:]) {
		t.Errorf("serializer wrote % x\nnative encodes % x", got[5:], bin)
	}
}

func toBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return nil
}

// Java's JsonDecoder refuses these; each error names the field.
func TestJSONReaderRejectsNamingTheField(t *testing.T) {
	r, err := avroserde.NewJSONReader(jsonTestSchema)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ from, to, field, says string }{
		{`"note": {"string": "fast"}`, `"note": {"string": "fast", "int": 1}`, "note", `a union value is null or an object naming its branch`},
		{`"note": {"string": "fast"}`, `"note": "fast"`, "note", `{"string": ...}`},
		{`"note": {"string": "fast"}`, `"note": {"int": 1}`, "note", `has no branch "int"`},
		{`"note": {"string": "fast"}`, `"note": {"string": 1}`, "note", `wants a string, got the number 1`},
		{`"qty": 3`, `"qty": 4294967296`, "qty", "integer of 32 bits"},
		{`"qty": 3`, `"qty": 1.5`, "qty", "integer"},
		{`"status": "PAID"`, `"status": "LOST"`, "status", `no symbol "LOST"`},
		{`"tag": "\u00ff\u0001"`, `"tag": "abc"`, "tag", "wants 2 bytes, got 3"},
		{`"raw": "a\u0000\u00e9"`, `"raw": "€"`, "raw", "U+20AC"},
		{`"ok": true`, `"ok": "yes"`, "ok", "true or false"},
		{`"lines": [{"sku": "A-1", "st": "NEW"}]`, `"lines": [{"sku": "A-1"}]`, "lines[0].st", "missing"},
		{`"attrs": {"w": 1.5}`, `"attrs": {"w": "heavy"}`, "attrs.w", "number"},
		{`"first": {"com.example.Line"`, `"first": {"Line"`, "first", `has no branch "Line"`},
		{`"ratio": 0.5`, `"ratio": 0.5, "bogus": 1`, "bogus", "no such field"},
		{`"id": 9007199254740993, `, ``, "id", "missing, and the field has no default"},
	} {
		line := strings.Replace(jsonTestLine, tc.from, tc.to, 1)
		if line == jsonTestLine {
			t.Fatalf("%s: edit did not apply", tc.from)
		}
		_, err := r.Decode([]byte(line))
		var ve *avroserde.ValueError
		if !errors.As(err, &ve) {
			t.Errorf("%s: error %v, want a *ValueError", tc.to, err)
			continue
		}
		if ve.Field != tc.field || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v (field %q), want field %q saying %q", tc.to, err, ve.Field, tc.field, tc.says)
		}
	}
}

func TestJSONReaderTopLevel(t *testing.T) {
	for _, tc := range []struct {
		schema, line string
		ok           bool
	}{
		{`"string"`, `"x"`, true},
		{`"string"`, `x`, false},
		{`"long"`, `12 13`, false},
		{`["null","string"]`, `null`, true},
		{`["null","string"]`, `{"string":"a"}`, true},
		{`{"type":"array","items":"int"}`, `[1,2]`, true},
		{`"int"`, ``, false},
	} {
		r, err := avroserde.NewJSONReader(tc.schema)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Decode([]byte(tc.line)); (err == nil) != tc.ok {
			t.Errorf("%s on %s: %v", tc.line, tc.schema, err)
		}
	}
}

// FuzzJSONReader: no input panics or hangs, what decodes also encodes, and to
// the same value as twmb/avro's own JSON decoder reads from the line (which also
// takes bare unions, so it is only the reference where ours accepts).
func FuzzJSONReader(f *testing.F) {
	f.Add([]byte(jsonTestLine))
	f.Add([]byte(`{"id":1}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[`))
	f.Add([]byte(`{"note":{"string":null}}`))
	r, err := avroserde.NewJSONReader(jsonTestSchema)
	if err != nil {
		f.Fatal(err)
	}
	sch := avro.MustParse(jsonTestSchema)
	f.Fuzz(func(t *testing.T, line []byte) {
		v, err := r.Decode(line)
		if err != nil {
			var ve *avroserde.ValueError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValueError", err)
			}
			return
		}
		got, err := sch.Encode(v)
		if err != nil {
			t.Fatalf("decoded %#v, which does not encode: %v", v, err)
		}
		var ref any
		if err := sch.DecodeJSON(line, &ref); err != nil {
			return // e.g. duplicate keys, which encoding/json takes (last wins)
		}
		want, err := sch.Encode(ref)
		if err != nil {
			return
		}
		var a, b any
		if _, err := sch.Decode(got, &a); err != nil {
			t.Fatal(err)
		}
		if _, err := sch.Decode(want, &b); err != nil {
			t.Fatal(err)
		}
		// fmt prints maps sorted, so map order (random in Avro maps) does not matter.
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("line %q\nours      %v\nreference %v", line, a, b)
		}
	})
}

// Logical types are written in the JSON encoding as their underlying type; the
// values read must encode under the logical schema.
func TestJSONReaderLogicalTypes(t *testing.T) {
	for _, tc := range []struct{ schema, line string }{
		{`{"type": "int", "logicalType": "date"}`, `19000`},
		{`{"type": "int", "logicalType": "time-millis"}`, `3600000`},
		{`{"type": "long", "logicalType": "time-micros"}`, `3600000000`},
		{`{"type": "long", "logicalType": "timestamp-micros"}`, `1700000000000000`},
		{`{"type": "long", "logicalType": "local-timestamp-millis"}`, `1700000000000`},
		{`{"type": "string", "logicalType": "uuid"}`, `"0f8fad5b-d9cb-469f-a165-70867728950e"`},
		{`{"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}`, `"\u000f\u008f\u00ad\u005b\u00d9\u00cb\u0046\u009f\u00a1\u0065\u0070\u0086\u0077\u0028\u0095\u000e"`},
		{`{"type": "fixed", "name": "D", "size": 12, "logicalType": "duration"}`, `"\u0001\u0000\u0000\u0000\u0002\u0000\u0000\u0000\u0003\u0000\u0000\u0000"`},
		{`{"type": "fixed", "name": "P", "size": 4, "logicalType": "decimal", "precision": 8, "scale": 2}`, `"\u00ff\u00ff\u00fb\u002e"`},
		{`{"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 2}`, `"\u00fb\u002e"`},
		{`["null", {"type": "long", "logicalType": "timestamp-millis"}]`, `{"long": 1700000000000}`},
	} {
		r, err := avroserde.NewJSONReader(tc.schema)
		if err != nil {
			t.Fatal(err)
		}
		v, err := r.Decode([]byte(tc.line))
		if err != nil {
			t.Errorf("%s: %v", tc.schema, err)
			continue
		}
		sch := avro.MustParse(tc.schema)
		got, err := sch.Encode(v)
		if err != nil {
			t.Errorf("%s: %#v does not encode: %v", tc.schema, v, err)
			continue
		}
		// The same JSON through twmb/avro's own decoder gives the same binary.
		var ref any
		if err := sch.DecodeJSON([]byte(tc.line), &ref); err != nil {
			t.Fatalf("%s: reference decoder: %v", tc.schema, err)
		}
		want, err := sch.Encode(ref)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: encoded % x, reference % x", tc.schema, got, want)
		}
	}
}
