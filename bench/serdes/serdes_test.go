package serdes

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	hamba "github.com/hamba/avro/v2"

	"github.com/kprod-io/kprod/serde"
)

func newSet(tb testing.TB) *Set {
	tb.Helper()
	s, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// TestCrossDecode proves the benchmarks compare like with like: every Avro
// serializer writes the same bytes for the Customer (Avro's binary encoding has
// one form per value and schema), with the Confluent header and the registered
// id, and each output decodes back to the Customer with readers other than its
// writer's (goavro and hamba/avro). The JSON serializers' outputs carry their
// ids and decode to the same Customer.
func TestCrossDecode(t *testing.T) {
	s := newSet(t)
	want := Sample()

	outs := map[string][]byte{}
	var err error
	if outs["kprod-struct"], err = s.KprodStruct.Serialize(Topic, want); err != nil {
		t.Fatal(err)
	}
	if outs["kprod-map"], err = s.KprodMap.Serialize(Topic, SampleMap()); err != nil {
		t.Fatal(err)
	}
	if outs["franz-hamba"], err = s.FranzHamba.Encode(want); err != nil {
		t.Fatal(err)
	}
	if outs["goavro"], err = AppendGoavro(s.Goavro, nil, s.AvroID, GoavroNative()); err != nil {
		t.Fatal(err)
	}

	hs := hamba.MustParse(AvroSchema)
	first := outs["kprod-struct"]
	for name, b := range outs {
		if !bytes.Equal(b, first) {
			t.Errorf("%s wrote % x, kprod-struct % x", name, b, first)
		}
		if len(b) < 5 || b[0] != 0 || headerID(b) != s.AvroID {
			t.Fatalf("%s: header % x, want magic 0 and id %d", name, b[:min(5, len(b))], s.AvroID)
		}
		var got Customer
		if err := hamba.Unmarshal(hs, b[5:], &got); err != nil {
			t.Fatalf("%s: hamba/avro cannot read it: %v", name, err)
		}
		if !reflect.DeepEqual(&got, want) {
			t.Errorf("%s: hamba/avro read %+v, want %+v", name, got, *want)
		}
		native, rest, err := s.Goavro.NativeFromBinary(b[5:])
		if err != nil || len(rest) != 0 {
			t.Fatalf("%s: goavro cannot read it: %v (%d bytes left)", name, err, len(rest))
		}
		if !reflect.DeepEqual(native, GoavroNative()) {
			t.Errorf("%s: goavro read %v, want %v", name, native, GoavroNative())
		}
	}
	// franz-go's Serde reads what kprod wrote, by the id in its header.
	var got Customer
	if err := s.FranzHamba.Decode(first, &got); err != nil || !reflect.DeepEqual(&got, want) {
		t.Errorf("sr.Serde decoded kprod's record to %+v, %v; want %+v", got, err, *want)
	}

	jsonOuts := map[string][]byte{}
	if jsonOuts["kprod-jsonschema"], err = s.KprodJSON.Serialize(Topic, want); err != nil {
		t.Fatal(err)
	}
	if jsonOuts["franz-json"], err = s.FranzJSON.Encode(want); err != nil {
		t.Fatal(err)
	}
	for name, b := range jsonOuts {
		if len(b) < 5 || b[0] != 0 || headerID(b) <= 0 {
			t.Fatalf("%s: header % x", name, b[:min(5, len(b))])
		}
		var got Customer
		if err := json.Unmarshal(b[5:], &got); err != nil || !reflect.DeepEqual(&got, want) {
			t.Errorf("%s: read %+v, %v; want %+v", name, got, err, *want)
		}
	}
	if headerID(jsonOuts["kprod-jsonschema"]) != s.JSONID {
		t.Errorf("kprod-jsonschema id %d, want %d", headerID(jsonOuts["kprod-jsonschema"]), s.JSONID)
	}
	if !bytes.Equal(jsonOuts["kprod-jsonschema"][5:], jsonOuts["franz-json"][5:]) {
		t.Errorf("JSON bodies differ: %s vs %s", jsonOuts["kprod-jsonschema"][5:], jsonOuts["franz-json"][5:])
	}
}

// TestNoAllocBeyondBytes is issue 12's cost criterion: with the id cached,
// kprod's Avro serializer allocates nothing per record on the path the typed
// producer takes (serde.Append into its reused buffer, typed.go), for a struct
// pointer or a map, and only the returned slice when Serialize makes a fresh one.
func TestNoAllocBeyondBytes(t *testing.T) {
	s := newSet(t)
	c, m := Sample(), SampleMap()
	buf := make([]byte, 0, 256)
	var err error
	for _, tc := range []struct {
		name string
		want float64
		f    func()
	}{
		{"struct/append", 0, func() { buf, err = serde.Append[*Customer](s.KprodStruct, buf[:0], Topic, c) }},
		{"map/append", 0, func() { buf, err = serde.Append[map[string]any](s.KprodMap, buf[:0], Topic, m) }},
		{"struct/new", 1, func() { _, err = s.KprodStruct.Serialize(Topic, c) }},
		{"map/new", 1, func() { _, err = s.KprodMap.Serialize(Topic, m) }},
	} {
		if got := testing.AllocsPerRun(100, tc.f); got != tc.want || err != nil {
			t.Errorf("%s: %v allocations per record (err %v), want %v", tc.name, got, err, tc.want)
		}
	}
}
