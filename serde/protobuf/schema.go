package protobuf

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/bufbuild/protocompile/parser"
	"github.com/bufbuild/protocompile/reporter"
	"github.com/jhump/protoreflect/v2/protoprint"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/kprod-io/kprod/serde/registry"
)

// printFile returns fd as .proto text. A generated Go message carries its file's
// descriptor, not its source, so the text registered is printed from the
// descriptor, as Java's ProtobufSchema(Descriptor) does; the two printers lay the
// text out differently, but it declares the same file.
func printFile(fd protoreflect.FileDescriptor) (string, error) {
	p := protoprint.Printer{Compact: true}
	text, err := p.PrintProtoToString(fd)
	if err != nil {
		return "", fmt.Errorf("protobuf: printing %s as .proto text: %w", fd.Path(), err)
	}
	return text, nil
}

// isKnownType reports whether an import is one of the files Java's serializer
// leaves out of the references (skip.known.types, default true) because Confluent's
// registry and readers have them built in: ProtobufSchema.knownTypes(), protobuf's
// well-known types, google/type's common types and Confluent's own two.
func isKnownType(path string) bool {
	_, ok := knownTypes[path]
	return ok
}

var knownTypes = func() map[string]struct{} {
	m := map[string]struct{}{"confluent/meta.proto": {}, "confluent/type/decimal.proto": {}}
	for _, f := range []string{"any", "api", "descriptor", "duration", "empty", "field_mask",
		"source_context", "struct", "timestamp", "type", "wrappers"} {
		m["google/protobuf/"+f+".proto"] = struct{}{}
	}
	for _, f := range []string{"calendar_period", "color", "date", "datetime", "dayofweek", "decimal",
		"expr", "fraction", "interval", "latlng", "money", "month", "phone_number", "postal_address",
		"quaternion", "timeofday"} {
		m["google/type/"+f+".proto"] = struct{}{}
	}
	return m
}()

// fileSchemas resolves a generated file's schema and, depth first, the files it
// imports, each registered (or looked up) under a subject named after the import,
// as Java's DefaultReferenceSubjectNameStrategy names it. done holds the files
// resolved so far, by path; it must not be nil.
type fileSchemas struct {
	r         resolver
	skipKnown bool
	done      map[string]registry.Schema
}

func (f *fileSchemas) schema(ctx context.Context, fd protoreflect.FileDescriptor) (registry.Schema, error) {
	if s, ok := f.done[fd.Path()]; ok {
		return s, nil
	}
	text, err := printFile(fd)
	if err != nil {
		return registry.Schema{}, err
	}
	s := registry.Schema{Type: "PROTOBUF", Text: text}
	imports := fd.Imports()
	for i := range imports.Len() {
		dep := imports.Get(i).FileDescriptor
		if f.skipKnown && isKnownType(dep.Path()) {
			continue
		}
		ds, err := f.schema(ctx, dep)
		if err != nil {
			return registry.Schema{}, err
		}
		v, err := f.r.ReferenceVersion(ctx, dep.Path(), ds)
		if err != nil {
			return registry.Schema{}, fmt.Errorf("protobuf: reference %s: %w", dep.Path(), err)
		}
		s.References = append(s.References, registry.Reference{Name: dep.Path(), Subject: dep.Path(), Version: v})
	}
	f.done[fd.Path()] = s
	return s, nil
}

// indexCache holds the message-index paths of a message in schemas other than the
// serializer's own: under use.latest.version or use.schema.id the id written stands
// for the registry's schema, and, as in Java, the path must point into that one.
type indexCache struct {
	m sync.Map // indexKey -> []byte (encoded path)
}

type indexKey struct{ text, name string }

// encoded returns the encoded path of the message fullName in the .proto text, which
// is only parsed (its imports need not be known), once per text.
func (c *indexCache) encoded(text, fullName string) ([]byte, error) {
	k := indexKey{text, fullName}
	if v, ok := c.m.Load(k); ok {
		return v.([]byte), nil
	}
	idx, err := indexesInText(text, fullName)
	if err != nil {
		return nil, err
	}
	v, _ := c.m.LoadOrStore(k, appendIndexes(nil, idx))
	return v.([]byte), nil
}

// indexesInText finds the message fullName in .proto text and returns its path.
func indexesInText(text, fullName string) ([]int, error) {
	fdp, err := parseProto("schema.proto", text)
	if err != nil {
		return nil, err
	}
	prefix := fdp.GetPackage()
	if prefix != "" {
		prefix += "."
	}
	var find func(msgs []*descriptorpb.DescriptorProto, scope string, path []int) []int
	find = func(msgs []*descriptorpb.DescriptorProto, scope string, path []int) []int {
		for i, m := range msgs {
			name := scope + m.GetName()
			p := append(append([]int(nil), path...), i)
			if name == fullName {
				return p
			}
			if strings.HasPrefix(fullName, name+".") {
				if r := find(m.GetNestedType(), name+".", p); r != nil {
					return r
				}
			}
		}
		return nil
	}
	idx := find(fdp.GetMessageType(), prefix, nil)
	if idx == nil {
		return nil, fmt.Errorf("protobuf: the registry's schema has no message %s", fullName)
	}
	return idx, nil
}

// parseProto parses .proto text without linking it: enough to know its package and
// messages, whatever it imports.
func parseProto(name, text string) (*descriptorpb.FileDescriptorProto, error) {
	h := reporter.NewHandler(nil)
	ast, err := parser.Parse(name, strings.NewReader(text), h)
	if err != nil {
		return nil, fmt.Errorf("protobuf: parsing .proto text: %w", err)
	}
	res, err := parser.ResultFromAST(ast, true, h)
	if err != nil {
		return nil, fmt.Errorf("protobuf: parsing .proto text: %w", err)
	}
	return res.FileDescriptorProto(), nil
}
