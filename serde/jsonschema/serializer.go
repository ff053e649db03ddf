package jsonschema

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"

	js "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/registry"
)

// Options are the JSON Schema serializer's own settings, beside the registry's
// (registry.SerdeConfig, given to the Resolver). The zero value is Java's defaults.
type Options struct {
	// FailInvalidSchema is json.fail.invalid.schema: check every value against the
	// schema and refuse one that does not match. Default false, as in Java, where the
	// value is then written unchecked.
	FailInvalidSchema bool
	// References are the schemas this one imports with "$ref", registered with it.
	References []Reference
}

// Reference is a schema imported by the serializer's schema: registered under Subject
// at Version, and "$ref"erred to by Name (e.g. "address.json"), as a Confluent schema
// reference. Text is its schema text, used to compile the importing schema.
type Reference struct {
	// Name is how the importing schema refers to it: the "$ref" of the importing schema, e.g. "address.json".
	Name string
	// Subject and Version are where it is registered.
	Subject string
	Version int
	// Text is its schema text.
	Text string
}

// Serializer writes values of type T as JSON in the Confluent wire format, with the
// id of its JSON Schema. It implements serde.Serializer[T] and
// serde.AppendSerializer[T] and is safe for concurrent use.
type Serializer[T any] struct {
	r        resolver
	schema   registry.Schema
	title    string
	compiled *js.Schema // the schema as given
	validate bool
	refs     []Reference
	nilable  bool // T can be nil: a nil value is a tombstone

	client *registry.Client // made by FromProperties, closed by Close; nil otherwise

	others sync.Map // registry.Schema.Text -> *js.Schema: schemas the resolver chose instead (use.latest.version)
}

// resolver is what the serializer needs of a *registry.Resolver; tests give a fake.
type resolver interface {
	ID(ctx context.Context, topic, recordName string, s registry.Schema) (int, registry.Schema, error)
}

var (
	_ serde.Serializer[any]       = (*Serializer[any])(nil)
	_ serde.AppendSerializer[any] = (*Serializer[any])(nil)
)

// NewSerializer returns a serializer that writes values with schemaText, registered
// (or looked up, per r's configuration) exactly as given, of type "JSON". The schema
// is compiled now: text that is not a valid JSON Schema fails here, naming the problem.
// The registry is not contacted until the first record.
func NewSerializer[T any](r *registry.Resolver, schemaText string, opts Options) (*Serializer[T], error) {
	if r == nil {
		return nil, errors.New("jsonschema: no registry resolver")
	}
	s, err := newSerializer[T](r, schemaText, opts)
	if err != nil {
		return nil, err
	}
	local := map[string]string{}
	for _, ref := range opts.References {
		local[ref.Name] = ref.Text
	}
	r.SetCompatibilityCheck(compatCheck(local))
	return s, nil
}

func newSerializer[T any](r resolver, schemaText string, opts Options) (*Serializer[T], error) {
	doc, err := parseSchema(schemaText)
	if err != nil {
		return nil, fmt.Errorf("jsonschema: %w", err)
	}
	var refs []registry.Reference
	for i, ref := range opts.References {
		if ref.Name == "" || ref.Subject == "" {
			return nil, fmt.Errorf("jsonschema: reference %d needs a name and a subject", i)
		}
		refs = append(refs, registry.Reference{Name: ref.Name, Subject: ref.Subject, Version: ref.Version})
	}
	compiled, err := compile(doc, opts.References)
	if err != nil {
		return nil, fmt.Errorf("jsonschema: %w", err)
	}
	s := &Serializer[T]{
		r:        r,
		schema:   registry.Schema{Type: "JSON", Text: schemaText, References: refs},
		title:    title(doc),
		compiled: compiled,
		validate: opts.FailInvalidSchema,
		refs:     append([]Reference(nil), opts.References...),
	}
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		s.nilable = true
	}
	return s, nil
}

// Serialize returns the record bytes for v: the wire-format header, then v's JSON.
// A nil v (nil pointer, map, slice, json.RawMessage or interface) is a null key or a
// tombstone: it returns nil and registers nothing, as Java's serializer does with null.
//
// The first record of a topic may contact the registry (bounded by the client's
// timeout); later ones use the resolver's cache. Any failure is a
// *serde.SerializationError; a value that does not match the schema wraps a
// *ValidationError, a registry failure a *registry.Error.
func (s *Serializer[T]) Serialize(topic string, v T) ([]byte, error) {
	return s.AppendSerialize(nil, topic, v)
}

// AppendSerialize appends v's record bytes to dst, as Serialize returns them.
func (s *Serializer[T]) AppendSerialize(dst []byte, topic string, v T) ([]byte, error) {
	if s.isNil(v) {
		return nil, nil
	}
	id, used, err := s.r.ID(context.Background(), topic, s.title, s.schema)
	if err != nil {
		return nil, fail(topic, fmt.Errorf("jsonschema: schema id: %w", err))
	}
	dst = registry.AppendHeader(dst, id)
	body := len(dst)
	dst, err = appendJSON(dst, v)
	if err != nil {
		return nil, fail(topic, fmt.Errorf("jsonschema: encoding: %w", err))
	}
	if s.validate {
		sch, err := s.compiledFor(used)
		if err != nil {
			return nil, fail(topic, err)
		}
		if err := validate(sch, dst[body:]); err != nil {
			return nil, fail(topic, err)
		}
	}
	return dst, nil
}

// Close releases the registry client FromProperties made; a serializer made with
// NewSerializer leaves its resolver's client to the caller. Serializing after Close
// may fail.
func (s *Serializer[T]) Close() error {
	if s.client == nil {
		return nil
	}
	return s.client.Close()
}

// compiledFor returns the compiled form of the schema the resolver chose: the
// serializer's own, or (use.latest.version, use.schema.id) the registry's, compiled
// once. The registry's schema may import only the references given in Options.
func (s *Serializer[T]) compiledFor(used registry.Schema) (*js.Schema, error) {
	if used.Text == "" || used.Text == s.schema.Text {
		return s.compiled, nil
	}
	if c, ok := s.others.Load(used.Text); ok {
		return c.(*js.Schema), nil
	}
	doc, err := parseSchema(used.Text)
	if err != nil {
		return nil, fmt.Errorf("jsonschema: the registry's schema: %w", err)
	}
	c, err := compile(doc, s.refs)
	if err != nil {
		return nil, fmt.Errorf("jsonschema: the registry's schema: %w", err)
	}
	actual, _ := s.others.LoadOrStore(used.Text, c)
	return actual.(*js.Schema), nil
}

// isNil reports whether v is Java's null: a nil pointer, map, slice or interface, or
// an interface holding one of those nil.
func (s *Serializer[T]) isNil(v T) bool {
	if !s.nilable {
		return false
	}
	rv := reflect.ValueOf(&v).Elem()
	if rv.Kind() == reflect.Interface && !rv.IsNil() {
		rv = rv.Elem()
		switch rv.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
		default:
			return false
		}
	}
	return rv.IsNil()
}

// fail wraps err as the producer reports serializer failures: the record was not sent.
func fail(topic string, err error) error {
	return &serde.SerializationError{Topic: topic, Err: err}
}

// appendJSON appends v's JSON to dst without HTML escaping, as Jackson writes it
// (encoding/json's Marshal would turn "<" into "\u003c"). Encoders are pooled, so the
// only allocation left is encoding/json's boxing of v.
func appendJSON(dst []byte, v any) ([]byte, error) {
	e := encoders.Get().(*encoder)
	e.w.b = dst
	err := e.enc.Encode(v)
	out := e.w.b
	e.w.b = nil
	encoders.Put(e)
	if err != nil {
		return nil, err
	}
	return out[:len(out)-1], nil // Encode ends the value with a newline
}

// encoder is a json.Encoder writing onto a caller's slice.
type encoder struct {
	w   appendWriter
	enc *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.w)
	e.enc.SetEscapeHTML(false)
	return e
}}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
