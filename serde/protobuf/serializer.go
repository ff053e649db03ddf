package protobuf

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/registry"
)

// Options are the Protobuf serializer's own settings, beside the registry's
// (registry.SerdeConfig, given to the Resolver). The zero value is Java's defaults.
type Options struct {
	// RegisterKnownTypes is skip.known.types=false: also register as references the
	// imports Confluent has built in (google/protobuf's well-known types, google/type,
	// confluent/meta.proto). Default false: Java skips them.
	RegisterKnownTypes bool
}

// resolver is what the serializers need of a *registry.Resolver; tests give a fake.
type resolver interface {
	ID(ctx context.Context, topic, recordName string, s registry.Schema) (int, registry.Schema, error)
	ReferenceVersion(ctx context.Context, subject string, s registry.Schema) (int, error)
}

// Serializer writes generated Go Protobuf messages of type T in the Confluent wire
// format: the header, the message-index path of the message's type in its file, then
// the message's binary encoding. The schema is the message's .proto file, printed
// from its descriptor; the files it imports are registered as references. It
// implements serde.Serializer[T] and serde.AppendSerializer[T] and is safe for
// concurrent use.
//
// T is usually a generated pointer type (*pb.Customer); T = proto.Message serializes
// messages of any generated type, each under its own file's schema.
type Serializer[T proto.Message] struct {
	r    resolver
	opts Options

	types atomic.Pointer[map[protoreflect.MessageDescriptor]*msgType] // copied on write
	mu    sync.Mutex                                                  // serializes writers of types
	other indexCache

	filesMu sync.Mutex                 // serializes first resolutions of files
	files   map[string]registry.Schema // by file path: resolved once for all its message types

	client *registry.Client // made by FromProperties, closed by Close; nil otherwise
}

// msgType is what the serializer keeps per message type.
type msgType struct {
	md     protoreflect.MessageDescriptor
	name   string                          // full name: RecordNameStrategy's subject
	index  []byte                          // encoded message-index path in its own file
	schema atomic.Pointer[registry.Schema] // its file's, references resolved; nil until then
}

var (
	_ serde.Serializer[proto.Message]       = (*Serializer[proto.Message])(nil)
	_ serde.AppendSerializer[proto.Message] = (*Serializer[proto.Message])(nil)
)

// NewSerializer returns a serializer of generated messages of type T using r. The
// registry is not contacted until the first record.
func NewSerializer[T proto.Message](r *registry.Resolver, opts Options) (*Serializer[T], error) {
	if r == nil {
		return nil, errors.New("protobuf: no registry resolver")
	}
	s := newSerializer[T](r, opts)
	r.SetCompatibilityCheck(compatCheck(s.localFile))
	return s, nil
}

// localFile returns the schema of a file the serializer's messages import, as it
// registers it: the writer's side of a compatibility check.
func (s *Serializer[T]) localFile(path string) (registry.Schema, bool) {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	sch, ok := s.files[path]
	return sch, ok
}

func newSerializer[T proto.Message](r resolver, opts Options) *Serializer[T] {
	s := &Serializer[T]{r: r, opts: opts}
	s.types.Store(&map[protoreflect.MessageDescriptor]*msgType{})
	return s
}

// Serialize returns the record bytes for v. A nil v is a null key or a tombstone: it
// returns nil and registers nothing, as Java's serializer does with null.
//
// The first record of a message type resolves its file's imports and its schema id
// with the registry (bounded by the client's timeout); later ones use the caches. Any
// failure is a *serde.SerializationError; a registry failure wraps a *registry.Error.
func (s *Serializer[T]) Serialize(topic string, v T) ([]byte, error) {
	return s.AppendSerialize(nil, topic, v)
}

// AppendSerialize appends v's record bytes to dst, as Serialize returns them.
func (s *Serializer[T]) AppendSerialize(dst []byte, topic string, v T) ([]byte, error) {
	if any(v) == nil {
		return nil, nil
	}
	m := v.ProtoReflect()
	if !m.IsValid() { // a nil *pb.Customer
		return nil, nil
	}
	mt := s.typeOf(m.Descriptor())
	ctx := context.Background()
	sch, err := s.schemaOf(ctx, mt)
	if err != nil {
		return nil, fail(topic, err)
	}
	id, used, err := s.r.ID(ctx, topic, mt.name, sch)
	if err != nil {
		return nil, fail(topic, fmt.Errorf("protobuf: schema id: %w", err))
	}
	index := mt.index
	if used.Text != "" && used.Text != sch.Text {
		if index, err = s.other.encoded(used.Text, mt.name); err != nil {
			return nil, fail(topic, err)
		}
	}
	dst = registry.AppendHeader(dst, id)
	dst = append(dst, index...)
	dst, err = proto.MarshalOptions{}.MarshalAppend(dst, v)
	if err != nil {
		return nil, fail(topic, fmt.Errorf("protobuf: encoding %s: %w", mt.name, err))
	}
	return dst, nil
}

// typeOf returns md's entry, adding it on first use.
func (s *Serializer[T]) typeOf(md protoreflect.MessageDescriptor) *msgType {
	if mt, ok := (*s.types.Load())[md]; ok {
		return mt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.types.Load()
	if mt, ok := old[md]; ok {
		return mt
	}
	mt := &msgType{md: md, name: string(md.FullName()), index: appendIndexes(nil, messageIndexes(md))}
	c := make(map[protoreflect.MessageDescriptor]*msgType, len(old)+1)
	for k, v := range old {
		c[k] = v
	}
	c[md] = mt
	s.types.Store(&c)
	return mt
}

// schemaOf returns mt's file schema with its references resolved. Each file is
// resolved once for all its message types (and all files importing it); a failure is
// not kept, so the next record tries again.
func (s *Serializer[T]) schemaOf(ctx context.Context, mt *msgType) (registry.Schema, error) {
	if p := mt.schema.Load(); p != nil {
		return *p, nil
	}
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	if p := mt.schema.Load(); p != nil {
		return *p, nil
	}
	if s.files == nil {
		s.files = map[string]registry.Schema{}
	}
	f := fileSchemas{r: s.r, skipKnown: !s.opts.RegisterKnownTypes, done: s.files}
	sch, err := f.schema(ctx, mt.md.ParentFile())
	if err != nil {
		return registry.Schema{}, err
	}
	mt.schema.Store(&sch)
	return sch, nil
}

// Close releases the registry client FromProperties made; a serializer made with
// NewSerializer leaves its resolver's client to the caller.
func (s *Serializer[T]) Close() error {
	if s.client == nil {
		return nil
	}
	return s.client.Close()
}

// fail wraps err as the producer reports serializer failures: the record was not sent.
func fail(topic string, err error) error {
	return &serde.SerializationError{Topic: topic, Err: err}
}
