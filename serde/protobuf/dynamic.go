package protobuf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/registry"
)

// DynamicOptions configure a DynamicSerializer.
type DynamicOptions struct {
	// MessageName is the message that values are, by full name ("shop.Order.Line")
	// or by name within the file's package ("Order.Line"). Default: the file's first
	// message, as Java's ProtobufSchema picks it.
	MessageName string
	// References are the files the schema imports (other than google/protobuf/*,
	// built in), registered under Subject at Version.
	References []Reference
}

// Reference is a .proto file imported by the serializer's schema under Name (e.g.
// "address.proto"), registered under Subject at Version, as a Confluent schema
// reference. Text is its .proto text, used to compile the importing schema.
type Reference struct {
	// Name is how the importing schema refers to it: the import of the importing schema, e.g. "address.proto".
	Name string
	// Subject and Version are where it is registered.
	Subject string
	Version int
	// Text is its schema text.
	Text string
}

// DynamicSerializer writes values of a message type given as .proto text, for
// callers without generated Go code, such as `kprod produce --property
// value.schema=...`. The text is registered exactly as given. Values are protojson
// text (string, []byte, json.RawMessage), map[string]any (as encoding/json decodes
// protojson), or a proto.Message of the same type; a value that does not match the
// message fails naming the field. It implements serde.Serializer[any] and is safe for
// concurrent use.
type DynamicSerializer struct {
	r      resolver
	md     protoreflect.MessageDescriptor
	name   string
	schema registry.Schema
	index  []byte
	other  indexCache

	client *registry.Client // made by DynamicFromProperties, closed by Close; nil otherwise
}

var (
	_ serde.Serializer[any]       = (*DynamicSerializer)(nil)
	_ serde.AppendSerializer[any] = (*DynamicSerializer)(nil)
)

// NewDynamicSerializer compiles protoText (with opts.References) now: text that is
// not valid .proto, or names no such message, fails here naming the problem. The
// registry is not contacted until the first record.
func NewDynamicSerializer(r *registry.Resolver, protoText string, opts DynamicOptions) (*DynamicSerializer, error) {
	if r == nil {
		return nil, errors.New("protobuf: no registry resolver")
	}
	s, err := newDynamic(r, protoText, opts)
	if err != nil {
		return nil, err
	}
	local := map[string]registry.Schema{}
	for _, ref := range opts.References {
		local[ref.Name] = registry.Schema{Type: "PROTOBUF", Text: ref.Text}
	}
	r.SetCompatibilityCheck(compatCheck(func(name string) (registry.Schema, bool) {
		sch, ok := local[name]
		return sch, ok
	}))
	return s, nil
}

// mainFile is the name the user's schema is compiled under, which compile errors
// show ("schema.proto:3:9: ..."); no reference may take it.
const mainFile = "schema.proto"

func newDynamic(r resolver, protoText string, opts DynamicOptions) (*DynamicSerializer, error) {
	sources := map[string]string{mainFile: protoText}
	var refs []registry.Reference
	for i, ref := range opts.References {
		if ref.Name == "" || ref.Subject == "" {
			return nil, fmt.Errorf("protobuf: reference %d needs a name and a subject", i)
		}
		if ref.Name == mainFile {
			return nil, fmt.Errorf("protobuf: reference %d: the name %q is the schema's own", i, mainFile)
		}
		sources[ref.Name] = ref.Text
		refs = append(refs, registry.Reference{Name: ref.Name, Subject: ref.Subject, Version: ref.Version})
	}
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(sources),
	})}
	files, err := c.Compile(context.Background(), mainFile)
	if err != nil {
		return nil, fmt.Errorf("protobuf: compiling the schema: %w", err)
	}
	fd := files[0]
	md, err := findMessage(fd, opts.MessageName)
	if err != nil {
		return nil, err
	}
	return &DynamicSerializer{
		r:      r,
		md:     md,
		name:   string(md.FullName()),
		schema: registry.Schema{Type: "PROTOBUF", Text: protoText, References: refs},
		index:  appendIndexes(nil, messageIndexes(md)),
	}, nil
}

// findMessage returns the message name names in fd, or its first message.
func findMessage(fd protoreflect.FileDescriptor, name string) (protoreflect.MessageDescriptor, error) {
	if name == "" {
		if fd.Messages().Len() == 0 {
			return nil, errors.New("protobuf: the schema defines no message")
		}
		return fd.Messages().Get(0), nil
	}
	full := protoreflect.FullName(name)
	if pkg := fd.Package(); pkg != "" && !strings.HasPrefix(name, string(pkg)+".") {
		full = protoreflect.FullName(string(pkg) + "." + name)
	}
	if md, ok := lookupMessage(fd, full); ok {
		return md, nil
	}
	if md, ok := lookupMessage(fd, protoreflect.FullName(name)); ok {
		return md, nil
	}
	return nil, fmt.Errorf("protobuf: the schema has no message %q", name)
}

func lookupMessage(fd protoreflect.FileDescriptor, full protoreflect.FullName) (protoreflect.MessageDescriptor, bool) {
	var find func(ms protoreflect.MessageDescriptors) protoreflect.MessageDescriptor
	find = func(ms protoreflect.MessageDescriptors) protoreflect.MessageDescriptor {
		for i := range ms.Len() {
			m := ms.Get(i)
			if m.IsMapEntry() { // map<k, v>'s synthetic entry: not a message of its own
				continue
			}
			if m.FullName() == full {
				return m
			}
			if r := find(m.Messages()); r != nil {
				return r
			}
		}
		return nil
	}
	md := find(fd.Messages())
	return md, md != nil
}

// MessageName returns the full name of the message the serializer writes, the record
// name RecordNameStrategy uses.
func (s *DynamicSerializer) MessageName() string { return s.name }

// Serialize returns the record bytes for v. A nil v is a null key or a tombstone: it
// returns nil and registers nothing.
func (s *DynamicSerializer) Serialize(topic string, v any) ([]byte, error) {
	return s.AppendSerialize(nil, topic, v)
}

// AppendSerialize appends v's record bytes to dst, as Serialize returns them.
func (s *DynamicSerializer) AppendSerialize(dst []byte, topic string, v any) ([]byte, error) {
	m, err := s.message(v)
	if err != nil {
		return nil, fail(topic, err)
	}
	if m == nil {
		return nil, nil
	}
	id, used, err := s.r.ID(context.Background(), topic, s.name, s.schema)
	if err != nil {
		return nil, fail(topic, fmt.Errorf("protobuf: schema id: %w", err))
	}
	index := s.index
	if used.Text != "" && used.Text != s.schema.Text {
		if index, err = s.other.encoded(used.Text, s.name); err != nil {
			return nil, fail(topic, err)
		}
	}
	dst = registry.AppendHeader(dst, id)
	dst = append(dst, index...)
	// A dynamic message ranges its fields in no set order; Deterministic writes them
	// by field number (and map entries sorted), as generated code and Java do, so
	// equal values give equal bytes.
	dst, err = proto.MarshalOptions{Deterministic: true}.MarshalAppend(dst, m)
	if err != nil {
		return nil, fail(topic, fmt.Errorf("protobuf: encoding %s: %w", s.name, err))
	}
	return dst, nil
}

// message turns v into a message of the serializer's type; nil for Java's null.
func (s *DynamicSerializer) message(v any) (proto.Message, error) {
	var text []byte
	switch x := v.(type) {
	case nil:
		return nil, nil
	case proto.Message:
		if !x.ProtoReflect().IsValid() {
			return nil, nil
		}
		if got := x.ProtoReflect().Descriptor().FullName(); got != s.md.FullName() {
			return nil, &ValueError{Message: s.name, Err: fmt.Errorf("value is a %s", got)}
		}
		return x, nil
	case string:
		text = []byte(x)
	case []byte:
		if x == nil {
			return nil, nil
		}
		text = x
	case json.RawMessage:
		if x == nil {
			return nil, nil
		}
		text = x
	case map[string]any:
		if x == nil {
			return nil, nil
		}
		b, err := json.Marshal(x)
		if err != nil {
			return nil, &ValueError{Message: s.name, Err: err}
		}
		text = b
	default:
		return nil, &ValueError{Message: s.name, Err: fmt.Errorf("unsupported value type %T (want protojson text, map[string]any or %s)", v, s.name)}
	}
	m := dynamicpb.NewMessage(s.md)
	if err := protojson.Unmarshal(text, m); err != nil {
		return nil, &ValueError{Message: s.name, Err: err}
	}
	return m, nil
}

// ValueError reports a value that is not a valid message of the serializer's type;
// Err (protojson's error) names the field.
type ValueError struct {
	// Message is the full name of the message type.
	Message string
	// Err is protojson's error, which names the field.
	Err error
}

// Error names the message type and the field that did not match.
func (e *ValueError) Error() string {
	return fmt.Sprintf("protobuf: value does not match message %s: %v", e.Message, e.Err)
}

// Unwrap returns Err.
func (e *ValueError) Unwrap() error { return e.Err }

// Close releases the registry client DynamicFromProperties made.
func (s *DynamicSerializer) Close() error {
	if s.client == nil {
		return nil
	}
	return s.client.Close()
}
