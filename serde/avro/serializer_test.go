package avro_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/kprod-io/kprod/serde"
	avroserde "github.com/kprod-io/kprod/serde/avro"
	"github.com/kprod-io/kprod/serde/registry"
)

// customerSchema is the seeds' Customer (KafkaAvroSerializer example), with its
// odd spacing kept: the registry must get exactly this text.
const customerSchema = `{"namespace": "customerManagement.avro", "type": "record", "name": "Customer",
 "fields": [{"name": "id", "type": "int"}, {"name": "name", "type": "string"},
            {"name": "email", "type": ["null","string"], "default": null}]}`

type Customer struct {
	ID    int32   `avro:"id"`
	Name  string  `avro:"name"`
	Email *string `avro:"email"`
}

func ptr[T any](v T) *T { return &v }

// split checks the Confluent header and returns the id and the payload.
func split(t *testing.T, b []byte) (int, []byte) {
	t.Helper()
	if len(b) < 5 || b[0] != 0 {
		t.Fatalf("no Confluent header: % x", b)
	}
	return int(binary.BigEndian.Uint32(b[1:5])), b[5:]
}

// decodeGoavro decodes payload with linkedin/goavro, an independent implementation.
func decodeGoavro(t *testing.T, schema string, payload []byte) any {
	t.Helper()
	c, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatalf("goavro: %v", err)
	}
	v, rest, err := c.NativeFromBinary(payload)
	if err != nil || len(rest) != 0 {
		t.Fatalf("goavro decode: %v (rest % x)", err, rest)
	}
	return v
}

// encodeGoavro encodes a goavro native value, for byte-for-byte comparisons.
func encodeGoavro(t *testing.T, schema string, v any) []byte {
	t.Helper()
	c, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatalf("goavro: %v", err)
	}
	b, err := c.BinaryFromNative(nil, v)
	if err != nil {
		t.Fatalf("goavro encode: %v", err)
	}
	return b
}

func TestCustomerStructMapAndPointer(t *testing.T) {
	f := newFakeRegistry(t)
	cfg := avroserde.Config{Client: f.client(t)}
	want := encodeGoavro(t, customerSchema, map[string]any{"id": int32(1), "name": "yifan", "email": map[string]any{"string": "y@example.com"}})
	wantNull := encodeGoavro(t, customerSchema, map[string]any{"id": int32(2), "name": "bo", "email": nil})

	byValue, err := avroserde.NewSerializer[Customer](customerSchema, cfg)
	if err != nil {
		t.Fatal(err)
	}
	byPtr, _ := avroserde.NewSerializer[*Customer](customerSchema, cfg)
	byMap, _ := avroserde.NewSerializer[map[string]any](customerSchema, cfg)

	outs := map[string][2][]byte{}
	b1, err1 := byValue.Serialize("customerContacts", Customer{ID: 1, Name: "yifan", Email: ptr("y@example.com")})
	b2, err2 := byValue.Serialize("customerContacts", Customer{ID: 2, Name: "bo"})
	outs["struct"] = [2][]byte{b1, b2}
	b1, err3 := byPtr.Serialize("customerContacts", &Customer{ID: 1, Name: "yifan", Email: ptr("y@example.com")})
	b2, err4 := byPtr.Serialize("customerContacts", &Customer{ID: 2, Name: "bo"})
	outs["pointer"] = [2][]byte{b1, b2}
	b1, err5 := byMap.Serialize("customerContacts", map[string]any{"id": 1, "name": "yifan", "email": "y@example.com"})
	b2, err6 := byMap.Serialize("customerContacts", map[string]any{"id": 2, "name": "bo"}) // email from its default
	outs["map"] = [2][]byte{b1, b2}
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		t.Fatal(err)
	}
	id := f.ids[customerSchema]
	if id == 0 {
		t.Fatalf("the schema text was not registered verbatim; registered: %v", f.ids)
	}
	if n := len(f.ids); n != 1 {
		t.Fatalf("%d schemas registered, want 1", n)
	}
	if got := f.subjects["customerContacts-value"]; !reflect.DeepEqual(got, []int{id}) {
		t.Fatalf("subject customerContacts-value has %v, want [%d]", got, id)
	}
	for name, o := range outs {
		for i, w := range [][]byte{want, wantNull} {
			gotID, payload := split(t, o[i])
			if gotID != id || !bytes.Equal(payload, w) {
				t.Errorf("%s #%d: id %d payload % x, want id %d payload % x", name, i, gotID, payload, id, w)
			}
		}
	}
}

func TestNilIsTombstoneAndRegistersNothing(t *testing.T) {
	f := newFakeRegistry(t)
	cfg := avroserde.Config{Client: f.client(t)}
	p, _ := avroserde.NewSerializer[*Customer](customerSchema, cfg)
	m, _ := avroserde.NewSerializer[map[string]any](customerSchema, cfg)
	a, _ := avroserde.NewSerializer[any](customerSchema, cfg)
	for name, run := range map[string]func() ([]byte, error){
		"pointer":        func() ([]byte, error) { return p.Serialize("t", nil) },
		"map":            func() ([]byte, error) { return m.Serialize("t", nil) },
		"any":            func() ([]byte, error) { return a.Serialize("t", nil) },
		"append-pointer": func() ([]byte, error) { return p.AppendSerialize(make([]byte, 3), "t", nil) },
		"append-map":     func() ([]byte, error) { return m.AppendSerialize(make([]byte, 3), "t", map[string]any(nil)) },
	} {
		b, err := run()
		if b != nil || err != nil {
			t.Errorf("%s: got %v, %v; want nil, nil", name, b, err)
		}
	}
	if n := f.total(); n != 0 {
		t.Fatalf("%d registry requests for null values, want 0", n)
	}
}

func TestMismatchNamesFieldAndRegistersNothing(t *testing.T) {
	const order = `{"type":"record","name":"com.example.Order","namespace":"ignored.ns","fields":[
	  {"name":"id","type":"long"},
	  {"name":"customer","type":{"type":"record","name":"Party","fields":[
	    {"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"int"}]}}]}},
	  {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"sku","type":"string"}]}}},
	  {"name":"note","type":["null","string"],"default":null}]}`
	f := newFakeRegistry(t)
	cfg := avroserde.Config{Client: f.client(t)}
	m, err := avroserde.NewSerializer[map[string]any](order, cfg)
	if err != nil {
		t.Fatal(err)
	}
	good := func() map[string]any {
		return map[string]any{"id": int64(1),
			"customer": map[string]any{"address": map[string]any{"zip": int32(1)}},
			"lines":    []any{map[string]any{"sku": "a"}, map[string]any{"sku": "b"}}}
	}
	tests := []struct {
		name, field string
		mutate      func(map[string]any)
	}{
		{"wrong-type", "id", func(v map[string]any) { v["id"] = "one" }},
		{"missing", "id", func(v map[string]any) { delete(v, "id") }},
		{"nested", "customer.address.zip", func(v map[string]any) {
			v["customer"].(map[string]any)["address"].(map[string]any)["zip"] = "x"
		}},
		{"union", "note", func(v map[string]any) { v["note"] = 5 }},
		{"misspelt", "noet", func(v map[string]any) { v["noet"] = "hi" }},
		{"misspelt-nested", "customer.address.zipp", func(v map[string]any) {
			v["customer"].(map[string]any)["address"].(map[string]any)["zipp"] = int32(1)
		}},
		{"misspelt-in-array", "lines[1].skew", func(v map[string]any) {
			v["lines"].([]any)[1].(map[string]any)["skew"] = "b"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := good()
			tt.mutate(v)
			b, err := m.AppendSerialize(nil, "orders", v)
			var se *serde.SerializationError
			var ve *avroserde.ValueError
			if !errors.As(err, &se) || !errors.As(err, &ve) {
				t.Fatalf("got %v, %v; want a SerializationError with a ValueError", b, err)
			}
			if se.Side != serde.SideValue || se.Topic != "orders" || ve.Field != tt.field || ve.Schema != "com.example.Order" {
				t.Fatalf("side %v topic %q field %q schema %q; want value, orders, %q, com.example.Order (%v)", se.Side, se.Topic, ve.Field, ve.Schema, tt.field, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("field %q", tt.field)) {
				t.Fatalf("message %q does not name the field", err)
			}
		})
	}
	if n := f.total(); n != 0 {
		t.Fatalf("%d registry requests for values that do not match, want 0", n)
	}
	if _, err := m.Serialize("orders", good()); err != nil {
		t.Fatal(err)
	}
	// A dotted name wins over the namespace (interop trap 3).
	if _, ok := f.subjects["orders-value"]; !ok {
		t.Fatalf("subjects %v", f.subjects)
	}
}

func TestStructMismatchNamesField(t *testing.T) {
	type Wrong struct {
		ID    string  `avro:"id"`
		Name  string  `avro:"name"`
		Email *string `avro:"email"`
	}
	f := newFakeRegistry(t)
	s, _ := avroserde.NewSerializer[Wrong](customerSchema, avroserde.Config{Client: f.client(t), Key: true})
	_, err := s.Serialize("c", Wrong{ID: "x"})
	var se *serde.SerializationError
	var ve *avroserde.ValueError
	if !errors.As(err, &se) || !errors.As(err, &ve) || ve.Field != "id" || se.Side != serde.SideKey {
		t.Fatalf("err = %v", err)
	}
	want := `kprod: serializing key for topic "c": avro: customerManagement.avro.Customer field "id": cannot use string with Avro type int`
	if err.Error() != want {
		t.Fatalf("message\n%s\nwant\n%s", err, want)
	}
}

func TestRegistryAskedOncePerSchema(t *testing.T) {
	f := newFakeRegistry(t)
	s, _ := avroserde.NewSerializer[*Customer](customerSchema, avroserde.Config{Client: f.client(t)})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := s.Serialize("a", &Customer{ID: int32(i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s.Serialize("b", &Customer{}) // another topic is another subject
	if a, b := f.count("POST", "/subjects/a-value/versions"), f.count("POST", "/subjects/b-value/versions"); a != 1 || b != 1 || f.total() != 2 {
		t.Fatalf("registrations a=%d b=%d total=%d; want 1, 1, 2", a, b, f.total())
	}
}

func TestAppendAllocatesNothingAfterFirst(t *testing.T) {
	f := newFakeRegistry(t)
	cfg := avroserde.Config{Client: f.client(t)}
	byPtr, _ := avroserde.NewSerializer[*Customer](customerSchema, cfg)
	byValue, _ := avroserde.NewSerializer[Customer](customerSchema, cfg)
	c := Customer{ID: 7, Name: "yifan", Email: ptr("y@example.com")}
	buf := make([]byte, 0, 256)
	for name, run := range map[string]func() error{
		"pointer": func() error { _, err := byPtr.AppendSerialize(buf[:0], "t", &c); return err },
		"value":   func() error { _, err := byValue.AppendSerialize(buf[:0], "t", c); return err },
	} {
		if err := run(); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(200, func() { run() }); a != 0 {
			t.Errorf("%s: %v allocations per AppendSerialize, want 0", name, a)
		}
	}
}

// Serialize returns a fresh slice per record: with the id cached that slice is
// its only allocation, made at the size of the previous record, not grown from
// nothing by append's doublings (three allocations for this Customer).
func TestSerializeAllocatesOnlyTheBytes(t *testing.T) {
	f := newFakeRegistry(t)
	cfg := avroserde.Config{Client: f.client(t)}
	byPtr, _ := avroserde.NewSerializer[*Customer](customerSchema, cfg)
	byMap, _ := avroserde.NewSerializer[map[string]any](customerSchema, cfg)
	c := Customer{ID: 7, Name: "yifan", Email: ptr("y@example.com")}
	m := map[string]any{"id": 7, "name": "yifan", "email": "y@example.com"}
	var out []byte
	var err error
	for name, run := range map[string]func(){
		"pointer":   func() { out, err = byPtr.Serialize("t", &c) },
		"map":       func() { out, err = byMap.Serialize("t", m) },
		"tombstone": func() { out, err = byPtr.Serialize("t", nil) },
	} {
		run()
		want := 1.0
		if name == "tombstone" {
			want = 0
		}
		if a := testing.AllocsPerRun(200, run); a != want || err != nil {
			t.Errorf("%s: %v allocations per Serialize (err %v), want %v", name, a, err, want)
		}
		if name != "tombstone" && (len(out) == 0 || cap(out) != len(out)) {
			t.Errorf("%s: len %d cap %d, want a slice of exactly the bytes", name, len(out), cap(out))
		}
	}
}

func TestSubjectStrategies(t *testing.T) {
	const dotted = `{"type":"record","name":"com.example.Order","namespace":"other","fields":[{"name":"id","type":"long"}]}`
	f := newFakeRegistry(t)
	for _, tt := range []struct {
		strategy registry.Strategy
		key      bool
		subject  string
	}{
		{registry.TopicNameStrategy, true, "orders-key"},
		{registry.TopicNameStrategy, false, "orders-value"},
		{registry.RecordNameStrategy, false, "com.example.Order"},
		{registry.TopicRecordNameStrategy, true, "orders-com.example.Order"},
	} {
		cfg := avroserde.Config{Client: f.client(t), Key: tt.key}
		cfg.Serde.KeySubjectNameStrategy, cfg.Serde.ValueSubjectNameStrategy = tt.strategy, tt.strategy
		s, err := avroserde.NewSerializer[map[string]any](dotted, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Serialize("orders", map[string]any{"id": 1}); err != nil {
			t.Fatal(err)
		}
		if f.count("POST", "/subjects/"+tt.subject+"/versions") != 1 {
			t.Errorf("%v key=%v: no registration under %q: %v", tt.strategy, tt.key, tt.subject, f.requests)
		}
	}
}

func TestUseLatestVersionEncodesWithRegistrySchema(t *testing.T) {
	// The registry's latest has a field the given schema lacks, with a default:
	// Java then writes with the latest schema, so the bytes follow it.
	const latest = `{"type":"record","name":"Customer","namespace":"customerManagement.avro","fields":[
	  {"name":"id","type":"int"},{"name":"name","type":"string"},
	  {"name":"email","type":["null","string"],"default":null},
	  {"name":"tier","type":"string","default":"basic"}]}`
	f := newFakeRegistry(t)
	id := f.add("c-value", latest)
	no := false
	cfg := avroserde.Config{Client: f.client(t)}
	cfg.Serde.AutoRegisterSchemas, cfg.Serde.UseLatestVersion = &no, true
	s, _ := avroserde.NewSerializer[map[string]any](customerSchema, cfg)
	b, err := s.Serialize("c", map[string]any{"id": 1, "name": "n"})
	if err != nil {
		t.Fatal(err)
	}
	gotID, payload := split(t, b)
	want := encodeGoavro(t, latest, map[string]any{"id": int32(1), "name": "n", "email": nil, "tier": "basic"})
	if gotID != id || !bytes.Equal(payload, want) {
		t.Fatalf("id %d payload % x; want %d % x", gotID, payload, id, want)
	}
	if f.count("POST", "/subjects/c-value/versions") != 0 {
		t.Fatal("registered with auto.register.schemas=false")
	}

	// An incompatible latest fails (latest.compatibility.strict), naming the property.
	f.add("d-value", `{"type":"record","name":"Customer","namespace":"customerManagement.avro","fields":[{"name":"id","type":"string"}]}`)
	_, err = s.Serialize("d", map[string]any{"id": 1, "name": "n"})
	if !errors.Is(err, registry.ErrIncompatible) || !strings.Contains(err.Error(), "latest.compatibility.strict") {
		t.Fatalf("err = %v", err)
	}
}

func TestLookupWithoutAutoRegister(t *testing.T) {
	f := newFakeRegistry(t)
	no := false
	cfg := avroserde.Config{Client: f.client(t)}
	cfg.Serde.AutoRegisterSchemas = &no
	s, _ := avroserde.NewSerializer[*Customer](customerSchema, cfg)
	if _, err := s.Serialize("c", &Customer{}); err == nil {
		t.Fatal("no error for a schema the registry does not have")
	}
	id := f.add("c-value", customerSchema)
	b, err := s.Serialize("c", &Customer{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := split(t, b); got != id {
		t.Fatalf("id %d, want %d", got, id)
	}
}

func TestLogicalTypesMatchGoavro(t *testing.T) {
	const schema = `{"type":"record","name":"Event","fields":[
	  {"name":"ms","type":{"type":"long","logicalType":"timestamp-millis"}},
	  {"name":"us","type":{"type":"long","logicalType":"timestamp-micros"}},
	  {"name":"day","type":{"type":"int","logicalType":"date"}},
	  {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
	  {"name":"id","type":{"type":"string","logicalType":"uuid"}},
	  {"name":"maybe","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null}]}`
	type Event struct {
		MS    time.Time  `avro:"ms"`
		US    time.Time  `avro:"us"`
		Day   time.Time  `avro:"day"`
		Price *big.Rat   `avro:"price"`
		ID    string     `avro:"id"`
		Maybe *time.Time `avro:"maybe"`
	}
	at := time.Date(2026, 12, 4, 15, 10, 46, 123456000, time.UTC)
	day := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	price := big.NewRat(199999, 100)
	f := newFakeRegistry(t)
	s, err := avroserde.NewSerializer[*Event](schema, avroserde.Config{Client: f.client(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, maybe := range []*time.Time{nil, &at} {
		b, err := s.Serialize("e", &Event{MS: at, US: at, Day: day, Price: price, ID: "123e4567-e89b-12d3-a456-426614174000", Maybe: maybe})
		if err != nil {
			t.Fatal(err)
		}
		_, payload := split(t, b)
		var m any
		if maybe != nil {
			m = map[string]any{"long.timestamp-millis": at}
		}
		want := encodeGoavro(t, schema, map[string]any{"ms": at, "us": at, "day": day, "price": price,
			"id": "123e4567-e89b-12d3-a456-426614174000", "maybe": m})
		if !bytes.Equal(payload, want) {
			t.Fatalf("maybe=%v: payload\n% x\nwant (goavro)\n% x", maybe, payload, want)
		}
		got := decodeGoavro(t, schema, payload).(map[string]any)
		if !got["ms"].(time.Time).Equal(at.Truncate(time.Millisecond)) || !got["us"].(time.Time).Equal(at.Truncate(time.Microsecond)) ||
			!got["day"].(time.Time).Equal(day) || got["price"].(*big.Rat).Cmp(price) != 0 {
			t.Fatalf("goavro read back %v", got)
		}
	}
}

func TestUnionsAndNamedTypesMatchGoavro(t *testing.T) {
	const schema = `{"type":"record","name":"Shape","namespace":"geo","fields":[
	  {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["CIRCLE","SQUARE"]}},
	  {"name":"hash","type":{"type":"fixed","name":"MD5","size":4}},
	  {"name":"other","type":["null","MD5"],"default":null},
	  {"name":"label","type":["null","string","long"],"default":null},
	  {"name":"origin","type":{"type":"record","name":"Point","fields":[{"name":"x","type":"double"},{"name":"y","type":"double","default":0}]}},
	  {"name":"points","type":{"type":"array","items":"Point"}},
	  {"name":"next","type":["null","Shape"],"default":null},
	  {"name":"tags","type":{"type":"map","values":"string"},"default":{}}]}`
	f := newFakeRegistry(t)
	s, err := avroserde.NewSerializer[map[string]any](schema, avroserde.Config{Client: f.client(t)})
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]any{
		"kind": "SQUARE", "hash": []byte{1, 2, 3, 4}, "other": []byte{5, 6, 7, 8}, "label": map[string]any{"long": int64(-3)},
		"origin": map[string]any{"x": 1.5}, "points": []any{map[string]any{"x": 2.0, "y": 3.0}},
		"next": map[string]any{"kind": "CIRCLE", "hash": []byte{0, 0, 0, 0}, "origin": map[string]any{"x": 0.0}, "points": []any{}},
	}
	b, err := s.Serialize("shapes", v)
	if err != nil {
		t.Fatal(err)
	}
	_, payload := split(t, b)
	next := map[string]any{"kind": "CIRCLE", "hash": []byte{0, 0, 0, 0}, "other": nil, "label": nil,
		"origin": map[string]any{"x": 0.0, "y": 0.0}, "points": []any{}, "next": nil, "tags": map[string]any{}}
	want := encodeGoavro(t, schema, map[string]any{
		"kind": "SQUARE", "hash": []byte{1, 2, 3, 4}, "other": map[string]any{"geo.MD5": []byte{5, 6, 7, 8}},
		"label": map[string]any{"long": int64(-3)}, "origin": map[string]any{"x": 1.5, "y": 0.0},
		"points": []any{map[string]any{"x": 2.0, "y": 3.0}}, "next": map[string]any{"geo.Shape": next}, "tags": map[string]any{}})
	if !bytes.Equal(payload, want) {
		t.Fatalf("payload\n% x\nwant (goavro)\n% x", payload, want)
	}
	// A misspelt key inside a union's record branch is caught too.
	v["next"].(map[string]any)["orign"] = map[string]any{}
	var ve *avroserde.ValueError
	if _, err := s.Serialize("shapes", v); !errors.As(err, &ve) || ve.Field != "next.orign" {
		t.Fatalf("err = %v", err)
	}
}

func TestNewSerializerFor(t *testing.T) {
	type Reading struct {
		Sensor string     `avro:"sensor"`
		At     time.Time  `avro:"at,timestamp-micros"`
		Value  float64    `avro:"value,default=0"`
		Note   *string    `avro:"note"`
		Next   *time.Time `avro:"next"`
	}
	f := newFakeRegistry(t)
	s, err := avroserde.NewSerializerFor[*Reading](avroserde.Config{Client: f.client(t)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	b, err := s.Serialize("r", &Reading{Sensor: "s1", At: at, Value: 2.5})
	if err != nil {
		t.Fatal(err)
	}
	id, payload := split(t, b)
	if f.texts[id] != s.Schema() {
		t.Fatalf("registered %q, serializer says %q", f.texts[id], s.Schema())
	}
	got := decodeGoavro(t, s.Schema(), payload).(map[string]any)
	if got["sensor"] != "s1" || !got["at"].(time.Time).Equal(at) || got["value"] != 2.5 || got["note"] != nil {
		t.Fatalf("goavro read back %v from schema %s", got, s.Schema())
	}
	if _, err := avroserde.NewSerializerFor[int](avroserde.Config{Client: f.client(t)}); err == nil {
		t.Fatal("no error inferring a schema from int")
	}
}

func TestConstructionErrors(t *testing.T) {
	f := newFakeRegistry(t)
	for name, run := range map[string]func() error{
		"no-client": func() error { _, err := avroserde.NewSerializer[any](customerSchema, avroserde.Config{}); return err },
		"empty": func() error {
			_, err := avroserde.NewSerializer[any]("", avroserde.Config{Client: f.client(t)})
			return err
		},
		"bad-schema": func() error {
			_, err := avroserde.NewSerializer[any](`{"type":"record"}`, avroserde.Config{Client: f.client(t)})
			return err
		},
	} {
		if err := run(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
