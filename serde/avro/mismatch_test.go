package avro_test

import (
	"errors"
	"strings"
	"testing"

	avroserde "github.com/kprod-io/kprod/serde/avro"
)

// Every kind of mismatch names its field: nil where null is not allowed, int
// overflow, unknown enum symbol, wrong fixed size, decimal that does not fit,
// wrong logical type input, wrong array item, map value and union branch.
func TestEveryMismatchNamesItsField(t *testing.T) {
	const schema = `{"type":"record","name":"R","fields":[
	 {"name":"i","type":"int","default":0},
	 {"name":"s","type":"string","default":""},
	 {"name":"e","type":{"type":"enum","name":"E","symbols":["A"]},"default":"A"},
	 {"name":"f","type":{"type":"fixed","name":"F","size":2},"default":"ab"},
	 {"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2},"default":""},
	 {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"},"default":0},
	 {"name":"a","type":{"type":"array","items":"int"},"default":[]},
	 {"name":"m","type":{"type":"map","values":"int"},"default":{}},
	 {"name":"u","type":["null","int"],"default":null}]}`
	f := newFakeRegistry(t)
	s, _ := avroserde.NewSerializer[map[string]any](schema, avroserde.Config{Client: f.client(t)})
	for _, v := range []map[string]any{
		{"s": nil}, {"i": int64(1) << 40}, {"e": "B"}, {"f": []byte{1}}, {"d": "x"}, {"d": "123.456"}, {"d": 99999.0}, {"ts": "yesterday"},
		{"a": []any{1, "x"}}, {"m": map[string]any{"k": "x"}}, {"u": "x"}, {"a": "notarray"},
	} {
		_, err := s.Serialize("t", v)
		var ve *avroserde.ValueError
		var field string
		for k := range v {
			field = k
		}
		if !errors.As(err, &ve) || ve.Field != field || !strings.Contains(err.Error(), `field "`+field+`"`) {
			t.Errorf("%v: err = %v, want a ValueError for field %q", v, err, field)
		}
	}
	if f.total() != 0 {
		t.Fatalf("%d registry requests for values that do not match", f.total())
	}
}
