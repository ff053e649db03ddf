package protodiff

import (
	"strings"

	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"
)

// kind is what a field holds, whose change no reader survives.
type kind int

const (
	scalarKind kind = iota
	messageKind
	mapKind
)

// wireGroup groups the scalar types one reader can decode for another, as
// Confluent's FieldSchemaDiff.scalarKind does after the Protobuf guide's "Updating
// a message type": varints, zigzag varints, 32- and 64-bit fixed, float, double and
// length-delimited. An enum reads as a varint.
func wireGroup(scalar string) string {
	switch scalar {
	case "int32", "int64", "uint32", "uint64", "bool", "enum":
		return "varint"
	case "sint32", "sint64":
		return "zigzag"
	case "string", "bytes":
		return "string or bytes"
	case "fixed32", "sfixed32":
		return "fixed32"
	case "fixed64", "sfixed64":
		return "fixed64"
	}
	return scalar // float, double
}

// fieldType is a field's declared type: a scalar's name, or a type name to resolve.
type fieldType struct {
	scalar, name string
}

func typeOf(f *descriptorpb.FieldDescriptorProto) fieldType {
	switch t := f.GetType(); {
	case f.Type == nil, t == descriptorpb.FieldDescriptorProto_TYPE_MESSAGE,
		t == descriptorpb.FieldDescriptorProto_TYPE_ENUM, t == descriptorpb.FieldDescriptorProto_TYPE_GROUP:
		return fieldType{name: f.GetTypeName()}
	default:
		return fieldType{scalar: strings.ToLower(strings.TrimPrefix(t.String(), "TYPE_"))}
	}
}

// label is the field's label as Java's ProtobufSchema gives it: none for a proto3
// field without "optional" and for a oneof member, else optional, required or repeated.
func label(f *descriptorpb.FieldDescriptorProto, proto3, inOneof bool) string {
	switch {
	case inOneof:
		return ""
	case f.GetProto3Optional():
		return "optional"
	}
	switch f.GetLabel() {
	case descriptorpb.FieldDescriptorProto_LABEL_REPEATED:
		return "repeated"
	case descriptorpb.FieldDescriptorProto_LABEL_REQUIRED:
		if !proto3 {
			return "required"
		}
	case descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL:
		if !proto3 {
			return "optional"
		}
	}
	return ""
}

// field compares two fields of one number (Confluent's FieldSchemaDiff).
func (c *cmp) field(wf, rf *descriptorpb.FieldDescriptorProto, wOneof, rOneof bool) {
	if wf.GetName() != rf.GetName() {
		c.walk.Add(FieldNameChanged)
	}
	c.labelsAndTypes(label(wf, c.w.proto3, wOneof), label(rf, c.r.proto3, rOneof), typeOf(wf), typeOf(rf))
}

// resolved is a field type looked up on one side.
type resolved struct {
	fieldType
	full string    // full name, "" when not resolved
	info *typeInfo // nil when not resolved
}

func (c *cmp) resolve(s *side, t fieldType) resolved {
	r := resolved{fieldType: t}
	if t.scalar == "" {
		r.full, r.info = s.resolve(t.name)
	}
	return r
}

func (r resolved) kind() kind {
	switch {
	case r.scalar != "":
		return scalarKind
	case r.info == nil:
		return messageKind
	case r.info.enum != nil:
		return scalarKind
	case r.info.isMap:
		return mapKind
	}
	return messageKind
}

func (r resolved) group() string {
	if r.scalar != "" {
		return wireGroup(r.scalar)
	}
	return wireGroup("enum")
}

func (c *cmp) labelsAndTypes(wl, rl string, wt, rt fieldType) {
	w, r := c.resolve(&c.w, wt), c.resolve(&c.r, rt)
	if w.kind() != r.kind() {
		c.walk.Add(FieldKindChanged)
		return
	}
	switch w.kind() {
	case scalarKind:
		if w.group() != r.group() {
			c.walk.Add(FieldScalarKindChanged)
			return
		}
		if wl != "" && rl != "" && wl != rl {
			if w.group() == "string or bytes" {
				c.walk.Add(FieldStringOrBytesLabelChanged)
			} else {
				c.walk.Add(FieldNumericLabelChanged)
			}
		}
	case messageKind:
		c.messageTypes(w, r)
	case mapKind:
		wk, wv := entryTypes(w.info.msg)
		rk, rv := entryTypes(r.info.msg)
		c.labelsAndTypes("", "", wk, rk)
		c.labelsAndTypes("", "", wv, rv)
	}
}

// entryTypes returns a map entry message's key and value types.
func entryTypes(m *descriptorpb.DescriptorProto) (key, value fieldType) {
	for _, f := range m.GetField() {
		switch f.GetNumber() {
		case 1:
			key = typeOf(f)
		case 2:
			value = typeOf(f)
		}
	}
	return key, value
}

// messageTypes compares the message types of two fields: the same name within
// their packages, and compatible content (Confluent's compareMessageTypes).
func (c *cmp) messageTypes(w, r resolved) {
	if w.info == nil || r.info == nil {
		// One side's type is not in the files given (a well-known type the registry
		// has built in): compare the names as written, a qualified name matching its
		// own unqualified tail.
		if !sameName(strings.TrimPrefix(w.name, "."), strings.TrimPrefix(r.name, ".")) {
			c.walk.Add(FieldNamedTypeChanged)
		}
		return
	}
	wl, rl := localName(w.full, w.info.pkg), localName(r.full, r.info.pkg)
	if wl != rl {
		c.walk.Add(FieldNamedTypeChanged)
		return
	}
	key := [2]*descriptorpb.DescriptorProto{w.info.msg, r.info.msg}
	m, ok := c.memo[key]
	if !ok {
		sub := &cmp{
			walk:   c.walk.Sub(),
			w:      side{types: c.w.types, pkg: w.info.pkg, proto3: w.info.proto3},
			r:      side{types: c.r.types, pkg: r.info.pkg, proto3: r.info.proto3},
			scope:  strings.Split(wl, "."),
			onPath: c.onPath,
			memo:   c.memo,
		}
		sub.w.scope, sub.r.scope = sub.scope, sub.scope
		sub.message(w.info.msg, r.info.msg)
		m = memoEntry{diffs: sub.walk.Differences(), ok: sub.walk.Compatible()}
		c.memo[key] = m
	}
	c.walk.AddAll(m.diffs)
	if !m.ok {
		c.walk.Add(FieldNamedTypeChanged)
	}
}

// memoEntry is a compared pair of messages: a message type used by many fields is
// compared once, so that types sharing types cost no exponential walk.
type memoEntry struct {
	diffs []schemadiff.Difference
	ok    bool
}

func localName(full, pkg string) string {
	if pkg != "" && strings.HasPrefix(full, pkg+".") {
		return full[len(pkg)+1:]
	}
	return full
}

func sameName(a, b string) bool {
	return a == b || strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a)
}
