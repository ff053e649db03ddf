package jsonschema

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/registry"
)

// customerSchema is shaped as Java's JSON Schema generator writes a class (what
// KafkaJsonSchemaSerializer registers for a POJO): draft 7, closed, and each nullable
// field a oneOf of null and its type (json.oneof.for.nullables=true, the default).
const customerSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Customer",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "name": {"oneOf": [{"type": "null", "title": "Not included"}, {"type": "string"}]},
    "email": {"oneOf": [{"type": "null", "title": "Not included"}, {"type": "string", "format": "email"}]},
    "tags": {"oneOf": [{"type": "null", "title": "Not included"}, {"type": "array", "items": {"type": "string"}}]},
    "address": {"oneOf": [{"type": "null", "title": "Not included"}, {"$ref": "#/definitions/Address"}]},
    "age": {"type": "integer", "minimum": 0}
  },
  "required": ["age"],
  "definitions": {
    "Address": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "street": {"oneOf": [{"type": "null", "title": "Not included"}, {"type": "string"}]},
        "zip": {"type": "string", "pattern": "^[0-9]{5}$"}
      },
      "required": ["zip"]
    }
  }
}`

type Address struct {
	Street *string `json:"street"`
	Zip    string  `json:"zip"`
}

type Customer struct {
	Name    *string  `json:"name"`
	Email   *string  `json:"email,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Address *Address `json:"address,omitempty"`
	Age     int      `json:"age"`
}

func ptr[T any](v T) *T { return &v }

func header(id int) []byte {
	return binary.BigEndian.AppendUint32([]byte{0}, uint32(id))
}

func newTest[T any](t *testing.T, r *fakeResolver, schema string, opts Options) *Serializer[T] {
	t.Helper()
	s, err := newSerializer[T](r, schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The wire format is Confluent's: magic 0, the id as four big-endian bytes, then the
// JSON text, for structs, maps and raw JSON alike; and the schema registered is the
// text given, byte for byte, of type JSON, named by its title.
func TestWireBytes(t *testing.T) {
	r := &fakeResolver{id: 0x01020304}
	cases := []struct {
		name string
		ser  func() ([]byte, error)
		want string
	}{
		{"struct", func() ([]byte, error) {
			return newTest[Customer](t, r, customerSchema, Options{}).Serialize("t", Customer{Name: ptr("Ann <&>"), Age: 42})
		}, `{"name":"Ann <&>","age":42}`},
		{"struct pointer", func() ([]byte, error) {
			return newTest[*Customer](t, r, customerSchema, Options{}).Serialize("t", &Customer{Age: 1})
		}, `{"name":null,"age":1}`},
		{"map", func() ([]byte, error) {
			return newTest[map[string]any](t, r, customerSchema, Options{}).Serialize("t", map[string]any{"age": 7, "name": "Bo"})
		}, `{"age":7,"name":"Bo"}`},
		{"raw JSON is compacted", func() ([]byte, error) {
			return newTest[json.RawMessage](t, r, customerSchema, Options{}).Serialize("t", json.RawMessage("{ \"age\" : 3 ,\n \"name\": \"<x>\" }"))
		}, `{"age":3,"name":"<x>"}`},
		{"raw JSON null is JSON's null, not a tombstone", func() ([]byte, error) {
			return newTest[json.RawMessage](t, r, `true`, Options{}).Serialize("t", json.RawMessage("null"))
		}, `null`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.ser()
			if err != nil {
				t.Fatal(err)
			}
			want := append(header(0x01020304), c.want...)
			if !bytes.Equal(got, want) {
				t.Fatalf("got  %q\nwant %q", got, want)
			}
		})
	}
	for _, s := range r.asked {
		if s.Type != "JSON" || (s.Text != customerSchema && s.Text != "true") || len(s.References) != 0 {
			t.Fatalf("registered %+v, want the given text of type JSON", s)
		}
	}
	if r.names[0] != "Customer" {
		t.Fatalf("record name %q, want the schema's title", r.names[0])
	}
}

// AppendSerialize appends after what dst holds and gives the same bytes as Serialize.
func TestAppendSerialize(t *testing.T) {
	s := newTest[Customer](t, &fakeResolver{id: 9}, customerSchema, Options{FailInvalidSchema: true})
	dst := []byte("key")
	got, err := s.AppendSerialize(dst, "t", Customer{Age: 5})
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte("key"), header(9)...), `{"name":null,"age":5}`...)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	one, _ := s.Serialize("t", Customer{Age: 5})
	if !bytes.Equal(one, got[3:]) {
		t.Fatalf("Serialize %q differs from AppendSerialize %q", one, got[3:])
	}
}

// A nil value is Java's null: a tombstone (or null key), and nothing is registered.
func TestNilIsTombstone(t *testing.T) {
	r := &fakeResolver{id: 1}
	check := func(name string, b []byte, err error) {
		t.Helper()
		if err != nil || b != nil {
			t.Fatalf("%s: got %q, %v; want nil, nil", name, b, err)
		}
	}
	b, err := newTest[*Customer](t, r, customerSchema, Options{FailInvalidSchema: true}).AppendSerialize([]byte("x"), "t", nil)
	check("nil pointer", b, err)
	b, err = newTest[map[string]any](t, r, customerSchema, Options{}).Serialize("t", nil)
	check("nil map", b, err)
	b, err = newTest[json.RawMessage](t, r, customerSchema, Options{}).Serialize("t", nil)
	check("nil raw", b, err)
	b, err = newTest[any](t, r, customerSchema, Options{}).Serialize("t", nil)
	check("nil interface", b, err)
	b, err = newTest[any](t, r, customerSchema, Options{}).Serialize("t", (*Customer)(nil))
	check("interface holding a nil pointer", b, err)
	if r.calls != 0 {
		t.Fatalf("registry asked %d times for null values, want 0", r.calls)
	}
	if b, err := newTest[any](t, r, customerSchema, Options{}).Serialize("t", Customer{Age: 1}); b == nil || err != nil {
		t.Fatalf("interface holding a struct: %q, %v", b, err)
	}
}

// Java's default (json.fail.invalid.schema=false) writes a value without checking it.
func TestNoValidationByDefault(t *testing.T) {
	s := newTest[map[string]any](t, &fakeResolver{id: 1}, customerSchema, Options{})
	got, err := s.Serialize("t", map[string]any{"age": -1, "extra": true})
	if err != nil {
		t.Fatal(err)
	}
	if want := append(header(1), `{"age":-1,"extra":true}`...); !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// With json.fail.invalid.schema=true a value that does not match fails Serialize with
// a SerializationError whose ValidationError names the failing field's JSON pointer.
func TestValidationNamesTheField(t *testing.T) {
	cases := []struct {
		name    string
		value   string
		pointer string
		message string
	}{
		{"below minimum", `{"age":-1}`, "/age", "minimum"},
		{"not an integer", `{"age":1.5}`, "/age", "want integer"},
		{"missing required", `{"name":"x"}`, "/age", "missing property 'age'"},
		{"unknown property", `{"age":1,"nickname":"x"}`, "/nickname", "'nickname' not allowed"},
		{"nullable field of the wrong type", `{"age":1,"name":5}`, "/name", "'oneOf' failed, none matched"},
		{"nullable array item", `{"age":1,"tags":["a",2]}`, "/tags/1", "got number, want string"},
		{"nullable format", `{"age":1,"email":"not-an-email"}`, "/email", "email"},
		{"nested required through oneOf and $ref", `{"age":1,"address":{"street":"x"}}`, "/address/zip", "missing property 'zip'"},
		{"nested pattern", `{"age":1,"address":{"zip":"1234"}}`, "/address/zip", "does not match pattern"},
		{"escaped pointer", `{"age":1,"a/b~c":1}`, "/a~1b~0c", "not allowed"},
		{"not an object", `[1]`, "", "want object"},
	}
	r := &fakeResolver{id: 1}
	s := newTest[json.RawMessage](t, r, customerSchema, Options{FailInvalidSchema: true})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := s.Serialize("orders", json.RawMessage(c.value))
			if b != nil {
				t.Fatalf("got bytes %q for an invalid value", b)
			}
			var se *serde.SerializationError
			if !errors.As(err, &se) || se.Topic != "orders" {
				t.Fatalf("err = %v, want a *serde.SerializationError for topic orders", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError inside", err)
			}
			if ve.Pointer != c.pointer || !strings.Contains(ve.Message, c.message) {
				t.Fatalf("pointer %q message %q; want %q and a message with %q", ve.Pointer, ve.Message, c.pointer, c.message)
			}
			if !strings.Contains(err.Error(), `"`+c.pointer+`"`) {
				t.Fatalf("message %q does not name the pointer %q", err.Error(), c.pointer)
			}
		})
	}
}

// Trap 5: Java writes nullable fields as oneOf with a null branch, and oneOf means
// exactly one. Go's nil pointers (JSON null), absent fields and set fields all match
// exactly one branch; a schema whose branches overlap refuses a value matching both.
func TestOneOfNullableAsJavaWritesIt(t *testing.T) {
	s := newTest[Customer](t, &fakeResolver{id: 3}, customerSchema, Options{FailInvalidSchema: true})
	valid := []Customer{
		{Age: 0},
		{Name: ptr("Ann"), Email: ptr("ann@example.com"), Tags: []string{"a"}, Address: &Address{Zip: "12345"}, Age: 30},
		{Address: &Address{Street: ptr("Main St"), Zip: "12345"}, Age: 30},
	}
	for _, v := range valid {
		if _, err := s.Serialize("t", v); err != nil {
			t.Errorf("%+v: %v", v, err)
		}
	}
	if _, err := s.Serialize("t", Customer{Address: &Address{Zip: "x"}}); err == nil {
		t.Fatal("a bad nested zip passed")
	}
	// null matches the null branch and also an untyped branch: oneOf fails.
	overlap := `{"type":"object","properties":{"n":{"oneOf":[{"type":"null"},{"type":["integer","null"]}]}}}`
	o := newTest[map[string]any](t, &fakeResolver{id: 4}, overlap, Options{FailInvalidSchema: true})
	if _, err := o.Serialize("t", map[string]any{"n": 1}); err != nil {
		t.Fatalf("one branch matched: %v", err)
	}
	_, err := o.Serialize("t", map[string]any{"n": nil})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Pointer != "/n" || !strings.Contains(ve.Message, "oneOf") {
		t.Fatalf("err = %v, want a oneOf failure at /n (valid against both branches)", err)
	}
}

// The schema is compiled once, and checked against the schema the resolver says the
// id stands for: under use.latest.version that is the subject's latest, as in Java.
func TestValidatesAgainstTheSchemaUsed(t *testing.T) {
	latest := registry.Schema{Type: "JSON", Text: `{"type":"object","properties":{"age":{"type":"integer","maximum":10}}}`}
	r := &fakeResolver{id: 5, used: &latest}
	s := newTest[map[string]any](t, r, customerSchema, Options{FailInvalidSchema: true})
	if _, err := s.Serialize("t", map[string]any{"age": 5, "extra": 1}); err != nil {
		t.Fatalf("valid against the latest schema: %v", err)
	}
	_, err := s.Serialize("t", map[string]any{"age": 11})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Pointer != "/age" {
		t.Fatalf("err = %v, want a failure at /age from the latest schema", err)
	}
	n := 0
	s.others.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("%d compiled schemas cached, want 1", n)
	}
}

// A registry failure fails Serialize as a SerializationError that keeps the cause.
func TestRegistryErrorIsSerializationError(t *testing.T) {
	cause := &registry.Error{Op: "POST /subjects/t-value/versions", Status: 409, Code: 409, Message: "incompatible"}
	s := newTest[Customer](t, &fakeResolver{err: cause}, customerSchema, Options{})
	_, err := s.Serialize("t", Customer{Age: 1})
	var se *serde.SerializationError
	if !errors.As(err, &se) || !errors.Is(err, registry.ErrIncompatible) {
		t.Fatalf("err = %v, want a SerializationError wrapping the registry's 409", err)
	}
}

// Bad schemas fail at construction, and a "$ref" never reads the disk or the network.
func TestBadSchemas(t *testing.T) {
	for name, text := range map[string]string{
		"not JSON":       `{"type":`,
		"not an object":  `"string"`,
		"bad keyword":    `{"type":"strin"}`,
		"file reference": `{"$ref":"file:///etc/passwd"}`,
		"web reference":  `{"$ref":"http://127.0.0.1:1/x.json"}`,
		"unknown name":   `{"$ref":"address.json"}`,
	} {
		if _, err := newSerializer[any](&fakeResolver{}, text, Options{}); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "jsonschema: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewSerializer[any](nil, `{}`, Options{}); err == nil {
		t.Error("nil resolver accepted")
	}
}

// References are registered with the schema and resolved by name when compiling.
func TestReferences(t *testing.T) {
	r := &fakeResolver{id: 8}
	addr := `{"type":"object","properties":{"zip":{"type":"string"}},"required":["zip"]}`
	s := newTest[json.RawMessage](t, r, `{"title":"Order","type":"object","properties":{"ship":{"$ref":"address.json"}}}`, Options{
		FailInvalidSchema: true,
		References:        []Reference{{Name: "address.json", Subject: "address", Version: 1, Text: addr}},
	})
	if _, err := s.Serialize("t", json.RawMessage(`{"ship":{"zip":"1"}}`)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Serialize("t", json.RawMessage(`{"ship":{}}`))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Pointer != "/ship/zip" {
		t.Fatalf("err = %v, want a failure at /ship/zip", err)
	}
	want := []registry.Reference{{Name: "address.json", Subject: "address", Version: 1}}
	if got := r.asked[0].References; len(got) != 1 || got[0] != want[0] {
		t.Fatalf("registered references %+v, want %+v", got, want)
	}
}

func TestTitle(t *testing.T) {
	for text, want := range map[string]string{
		`{"title":"com.example.Customer"}`: "com.example.Customer",
		`{"title":5}`:                      "5",
		`{"title":true}`:                   "true",
		`{"title":{"a":1}}`:                "",
		`{}`:                               "",
		`true`:                             "",
	} {
		doc, err := parseSchema(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := title(doc); got != want {
			t.Errorf("title(%s) = %q, want %q", text, got, want)
		}
	}
}

// A value encoding/json cannot write fails as a SerializationError, and the pooled
// encoder it used still works for the next value.
func TestEncodingErrorThenValid(t *testing.T) {
	s := newTest[map[string]any](t, &fakeResolver{id: 2}, customerSchema, Options{})
	for range 3 {
		_, err := s.Serialize("t", map[string]any{"age": math.NaN()})
		var se *serde.SerializationError
		var uv *json.UnsupportedValueError
		if !errors.As(err, &se) || !errors.As(err, &uv) {
			t.Fatalf("err = %v, want a SerializationError wrapping json's UnsupportedValueError", err)
		}
		b, err := s.Serialize("t", map[string]any{"age": 1})
		if want := append(header(2), `{"age":1}`...); err != nil || !bytes.Equal(b, want) {
			t.Fatalf("after an error: %q, %v", b, err)
		}
	}
}

// A reference name resolves against the root's "$id", as Everit does in Confluent's
// provider for drafts 4 to 7.
func TestReferencesUnderID(t *testing.T) {
	addr := `{"type":"object","required":["zip"]}`
	s := newTest[json.RawMessage](t, &fakeResolver{id: 8}, `{"$id":"https://example.com/schemas/order.json","type":"object","properties":{"ship":{"$ref":"address.json"}}}`, Options{
		FailInvalidSchema: true,
		References:        []Reference{{Name: "address.json", Subject: "address", Version: 1, Text: addr}},
	})
	_, err := s.Serialize("t", json.RawMessage(`{"ship":{}}`))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Pointer != "/ship/zip" {
		t.Fatalf("err = %v, want a failure at /ship/zip", err)
	}
}
