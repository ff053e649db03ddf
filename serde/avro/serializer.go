package avro

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/twmb/avro"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/registry"
)

// Config says where a Serializer registers its schema and how it picks the id.
type Config struct {
	// Client is the schema registry client; required. The Serializer does not own it.
	Client *registry.Client
	// Serde is the serializer configuration of Confluent's Java serializers
	// (auto.register.schemas, use.latest.version, the subject name strategies, ...);
	// its zero value is Java's defaults.
	Serde registry.SerdeConfig
	// Key makes a key serializer: key.subject.name.strategy, "<topic>-key" subjects.
	Key bool
}

// Serializer is the Avro serializer of keys or values of type T. It implements
// serde.Serializer[T] and serde.AppendSerializer[T] and is safe for concurrent use.
//
// T is a struct or a pointer to one (fields matched by avro tag, else by name), a
// map[string]any, or any type github.com/twmb/avro encodes for the schema. A nil
// pointer, nil map or nil interface serializes to nil, Kafka's null (a tombstone for
// a value), and registers nothing, as Java's serializer does with null.
//
// The registry is asked once per schema, on the first record of a topic (once per
// subject); afterwards AppendSerialize allocates nothing beyond the bytes it appends.
// That first record waits for the registry, bounded by registry.Config.Timeout per
// URL tried; a failure is returned (and not cached) so a later record asks again.
//
// For a map, a key the record lacks is filled from the field's default, as Java's
// GenericRecordBuilder fills it; for a struct, a field tagged `avro:",omitzero"` is.
type Serializer[T any] struct {
	reg      registry.Schema // the schema as registered: the user's text, verbatim
	schema   *avro.Schema    // reg compiled
	name     string          // reg's full name for the record name strategies, "" if unnamed
	resolver *registry.Resolver
	side     serde.Side
	keys     *shape // checks map keys against record fields; nil when T cannot hold a map

	// resolveFirst is set when the registry may hand back a schema other than reg
	// (use.schema.id, use.latest.version): the id must then be known before
	// encoding, with that schema. Otherwise the value is encoded first, so that a
	// value that does not match registers nothing.
	resolveFirst bool
	// others holds the compiled registry schemas other than reg, by text; copied
	// on write so that the per-record lookup takes no lock.
	others  atomic.Pointer[map[string]*avro.Schema]
	othersM sync.Mutex

	// ids caches, by topic, the id the resolver gave in the modes whose answer
	// never changes (registering, looking up): one short-string map lookup per
	// record instead of the resolver's, which hashes the whole schema text.
	ids  atomic.Pointer[map[string]int]
	idsM sync.Mutex

	// sizeHint is the length of Serialize's last record: the next one's slice is
	// made that big at once, so a fresh slice is one allocation, not append's
	// doublings from nothing (three for the seeds' 31-byte Customer).
	sizeHint atomic.Int32

	nilable bool      // T is a pointer, map or interface: nil is null
	boxed   bool      // T is not pointer-shaped: encode through a pooled *T, not an allocating any(v)
	pool    sync.Pool // *T, for boxed
	owned   *registry.Client
}

// NewSerializer returns a serializer that writes values of T with the Avro schema
// given as text, which it registers exactly as given.
func NewSerializer[T any](schema string, cfg Config) (*Serializer[T], error) {
	if schema == "" {
		return nil, errors.New("avro: empty schema (NewSerializerFor infers one from a Go struct)")
	}
	return newSerializer[T](schema, cfg)
}

// NewSerializerFor returns a serializer whose schema is inferred from the struct
// type T (or the struct *T points to) by github.com/twmb/avro's SchemaFor, from its
// avro field tags: `avro:"name"`, `avro:",default=0"`, `avro:",timestamp-micros"`,
// `avro:",decimal(10,2)"`, `avro:",uuid"`; a pointer field is a union with null,
// default null. Name and namespace set the record's full name (avro.WithName,
// avro.WithNamespace); without them the record is named after the Go type. The
// inferred text is what is registered. Giving the schema as text, with
// NewSerializer, keeps it under the user's control and is the primary way.
func NewSerializerFor[T any](cfg Config, opts ...avro.SchemaOpt) (*Serializer[T], error) {
	text, err := schemaFor[T](opts)
	if err != nil {
		return nil, err
	}
	return newSerializer[T](text, cfg)
}

func schemaFor[T any](opts []avro.SchemaOpt) (string, error) {
	s, err := avro.SchemaFor[T](opts...) // takes a struct or a pointer to one
	if err != nil {
		return "", fmt.Errorf("avro: inferring a schema from %v: %w", reflect.TypeFor[T](), err)
	}
	return s.String(), nil
}

func newSerializer[T any](text string, cfg Config) (*Serializer[T], error) {
	if cfg.Client == nil {
		return nil, errors.New("avro: Config.Client is nil: a schema registry client is required (schema.registry.url)")
	}
	sch, err := avro.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("avro: invalid schema: %w", err)
	}
	root := sch.Root()
	s := &Serializer[T]{
		reg:      registry.Schema{Type: "AVRO", Text: text},
		schema:   sch,
		name:     fullName(root),
		resolver: registry.NewResolver(cfg.Client, cfg.Serde, cfg.Key),
		side:     serde.SideValue,
	}
	if cfg.Key {
		s.side = serde.SideKey
	}
	auto := cfg.Serde.AutoRegisterSchemas == nil || *cfg.Serde.AutoRegisterSchemas
	s.resolveFirst = !auto && (cfg.Serde.UseSchemaID > 0 || cfg.Serde.UseLatestVersion)
	s.resolver.SetCompatibilityCheck(compatible)
	s.others.Store(&map[string]*avro.Schema{})
	s.ids.Store(&map[string]int{})

	t := reflect.TypeFor[T]()
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Interface:
		s.nilable = true
	default:
		s.boxed = true
		s.pool.New = func() any { return new(T) }
	}
	if canHoldMap(t) {
		s.keys = newShapes().of(root, "")
	}
	return s, nil
}

// compatible is the Avro check behind latest.compatibility.strict and
// id.compatibility.strict: the registry's schema must read what the given one writes.
func compatible(reader, writer registry.Schema, _ registry.ReferenceLoader) error {
	r, err := avro.Parse(reader.Text)
	if err != nil {
		return fmt.Errorf("avro: the registry's schema does not parse: %w", err)
	}
	w, err := avro.Parse(writer.Text)
	if err != nil {
		return err
	}
	return avro.CheckCompatibility(w, r)
}

// fullName is a named schema's full name: a dotted name wins over the namespace,
// as the Avro specification says (and Java's RecordNameStrategy follows).
func fullName(n *avro.SchemaNode) string {
	switch n.Type {
	case "record", "enum", "fixed":
	default:
		return ""
	}
	for i := 0; i < len(n.Name); i++ {
		if n.Name[i] == '.' {
			return n.Name
		}
	}
	if n.Namespace == "" {
		return n.Name
	}
	return n.Namespace + "." + n.Name
}

// Schema returns the schema text the serializer registers.
func (s *Serializer[T]) Schema() string { return s.reg.Text }

// Close closes the registry client if the serializer created it (from properties).
func (s *Serializer[T]) Close() error {
	if s.owned != nil {
		return s.owned.Close()
	}
	return nil
}

// Serialize returns the record bytes for v: nil for a nil v, else the Confluent
// header and v's Avro encoding. A value that does not match the schema fails with
// a *serde.SerializationError wrapping a *ValueError that names the field.
func (s *Serializer[T]) Serialize(topic string, v T) ([]byte, error) {
	var dst []byte
	if n := s.sizeHint.Load(); n > 0 && !(s.nilable && isNil(any(v))) {
		dst = make([]byte, 0, n)
	}
	out, err := s.AppendSerialize(dst, topic, v)
	if n := len(out); n > 0 && n <= maxSizeHint && int32(n) != s.sizeHint.Load() {
		s.sizeHint.Store(int32(n))
	}
	return out, err
}

// maxSizeHint bounds sizeHint, so that one large record does not make every
// later slice large.
const maxSizeHint = 64 << 10

// AppendSerialize appends the record bytes for v to dst, as Serialize.
func (s *Serializer[T]) AppendSerialize(dst []byte, topic string, v T) ([]byte, error) {
	var x any
	if s.boxed {
		p := s.pool.Get().(*T)
		*p = v
		defer func() {
			var zero T
			*p = zero // drop references the pool would otherwise keep alive
			s.pool.Put(p)
		}()
		x = p
	} else {
		x = v // pointer-shaped or an interface already: no allocation
		if x == nil || isNil(x) {
			return nil, nil
		}
	}
	if s.keys != nil {
		if err := s.keys.check(x); err != nil {
			return nil, s.valueError(topic, err)
		}
	}
	start := len(dst)
	if s.resolveFirst {
		id, used, err := s.resolver.ID(context.Background(), topic, s.name, s.reg)
		if err != nil {
			return nil, s.registryError(topic, err)
		}
		sch, err := s.compiled(used)
		if err != nil {
			return nil, s.registryError(topic, err)
		}
		out, err := sch.AppendEncode(registry.AppendHeader(dst, id), x)
		if err != nil {
			return nil, s.valueError(topic, err)
		}
		return out, nil
	}
	// Encode first, behind a placeholder header, so that a value that does not
	// match fails before the schema is registered.
	out, err := s.schema.AppendEncode(registry.AppendHeader(dst, 0), x)
	if err != nil {
		return nil, s.valueError(topic, err)
	}
	id, ok := (*s.ids.Load())[topic]
	if !ok {
		if id, _, err = s.resolver.ID(context.Background(), topic, s.name, s.reg); err != nil {
			return nil, s.registryError(topic, err)
		}
		s.remember(topic, id)
	}
	registry.AppendHeader(out[:start], id)
	return out, nil
}

// maxTopicIDs bounds the ids cache; topics past it go through the resolver's cache.
const maxTopicIDs = 4096

func (s *Serializer[T]) remember(topic string, id int) {
	s.idsM.Lock()
	defer s.idsM.Unlock()
	old := *s.ids.Load()
	if len(old) >= maxTopicIDs {
		return
	}
	m := maps.Clone(old)
	m[topic] = id
	s.ids.Store(&m)
}

// isNil reports whether a pointer or map in x is nil. reflect.ValueOf does not
// allocate for a pointer-shaped x.
func isNil(x any) bool {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// compiled returns the compiled form of a schema the registry chose.
func (s *Serializer[T]) compiled(used registry.Schema) (*avro.Schema, error) {
	if used.Text == s.reg.Text {
		return s.schema, nil
	}
	if c, ok := (*s.others.Load())[used.Text]; ok {
		return c, nil
	}
	c, err := avro.Parse(used.Text)
	if err != nil {
		return nil, fmt.Errorf("avro: the registry's schema does not parse: %w", err)
	}
	s.othersM.Lock()
	defer s.othersM.Unlock()
	m := maps.Clone(*s.others.Load())
	m[used.Text] = c
	s.others.Store(&m)
	return c, nil
}

func (s *Serializer[T]) valueError(topic string, err error) error {
	return &serde.SerializationError{Side: s.side, Topic: topic, Err: newValueError(s.name, err)}
}

func (s *Serializer[T]) registryError(topic string, err error) error {
	return &serde.SerializationError{Side: s.side, Topic: topic, Err: err}
}
