package avro_test

import (
	"bytes"
	"errors"
	"testing"

	avroserde "github.com/kprod-io/kprod/serde/avro"
)

// seedSchema is the seeds' Customer schema character for character, with its
// "default":"null", a string where the spec wants null (Avro 1.8's parser, which the
// seeds used, did not check defaults).
const seedSchema = `{"namespace": "customerManagement.avro", "type": "record", "name": "Customer","fields": [{"name": "id", "type": "int"}, {"name": "name", "type": "string"},{"name": "email", "type": ["null","string"], "default":"null"}]}`

func TestSeedSchemaAsWritten(t *testing.T) {
	f := newFakeRegistry(t)
	cfg := avroserde.Config{Client: f.client(t)}
	s, err := avroserde.NewSerializer[*Customer](seedSchema, cfg)
	if err != nil {
		t.Fatalf("the seeds' schema is refused: %v", err)
	}
	m, _ := avroserde.NewSerializer[map[string]any](seedSchema, cfg)
	want := []byte{0x02, 0x0a, 'y', 'i', 'f', 'a', 'n', 0x00} // id 1, "yifan", null email
	b1, err1 := s.Serialize("customerContacts", &Customer{ID: 1, Name: "yifan"})
	b2, err2 := m.Serialize("customerContacts", map[string]any{"id": 1, "name": "yifan", "email": nil})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	for _, b := range [][]byte{b1, b2} {
		if _, payload := split(t, b); !bytes.Equal(payload, want) {
			t.Fatalf("payload % x, want % x", payload, want)
		}
	}
	if f.ids[seedSchema] == 0 {
		t.Fatal("the seeds' text was not registered as written")
	}
	// The default is not a null, the union's first branch, so an absent email
	// is not filled with it (the encoder would write the string "null").
	_, err = m.Serialize("customerContacts", map[string]any{"id": 1, "name": "yifan"})
	var ve *avroserde.ValueError
	if !errors.As(err, &ve) || ve.Field != "email" {
		t.Fatalf("absent email: %v", err)
	}
	// Likewise a null default on a union whose first branch is not null (interop trap 2).
	const nullLast = `{"type":"record","name":"R","fields":[{"name":"a","type":["string","null"],"default":null},{"name":"b","type":["null","string"],"default":null}]}`
	r, err := avroserde.NewSerializer[map[string]any](nullLast, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Serialize("r", map[string]any{"a": "x"}); err != nil {
		t.Fatalf("b's default is fine: %v", err)
	}
	if _, err := r.Serialize("r", map[string]any{"b": "x"}); !errors.As(err, &ve) || ve.Field != "a" {
		t.Fatalf("absent a: %v", err)
	}
}

// A tagged union value names its branch, goavro's way too ("long.timestamp-millis"):
// the key check must not read the tag as a misspelt field of the record branch.
func TestTaggedUnionBranchNames(t *testing.T) {
	const schema = `{"type":"record","name":"T","namespace":"n","fields":[{"name":"u","type":["null",
	  {"type":"long","logicalType":"timestamp-millis"},
	  {"type":"record","name":"In","fields":[{"name":"x","type":"int"}]}]}]}`
	f := newFakeRegistry(t)
	s, err := avroserde.NewSerializer[map[string]any](schema, avroserde.Config{Client: f.client(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []any{
		nil,
		map[string]any{"long.timestamp-millis": int64(5)},
		map[string]any{"long": int64(5)},
		map[string]any{"n.In": map[string]any{"x": 1}},
		map[string]any{"In": map[string]any{"x": 1}},
		map[string]any{"x": 1},
	} {
		if _, err := s.Serialize("t", map[string]any{"u": u}); err != nil {
			t.Errorf("u=%v: %v", u, err)
		}
	}
	var ve *avroserde.ValueError
	if _, err := s.Serialize("t", map[string]any{"u": map[string]any{"n.In": map[string]any{"y": 1}}}); !errors.As(err, &ve) || ve.Field != "u.y" {
		t.Fatalf("misspelt field in a tagged branch: %v", err)
	}
}
