package protodiff

import (
	"strings"

	"google.golang.org/protobuf/types/descriptorpb"
)

// Files is one side of a comparison: a schema's file and the files it imports,
// parsed but not linked (an import that is missing, such as a well-known type the
// registry has built in, leaves its types unresolved, compared by name).
type Files struct {
	Main    *descriptorpb.FileDescriptorProto
	Imports []*descriptorpb.FileDescriptorProto
}

// typeInfo is a message or enum declared in one side's files.
type typeInfo struct {
	pkg    string
	msg    *descriptorpb.DescriptorProto     // nil for an enum
	enum   *descriptorpb.EnumDescriptorProto // nil for a message
	isMap  bool                              // a map field's synthetic entry message
	proto3 bool                              // declared in a proto3 file
}

// types indexes every message and enum of fs by full name (no leading dot), as
// Confluent's Context.collectTypeInfo does over a schema and its dependencies.
func types(fs Files) map[string]*typeInfo {
	m := map[string]*typeInfo{}
	files := append([]*descriptorpb.FileDescriptorProto{fs.Main}, fs.Imports...)
	for _, f := range files {
		if f == nil {
			continue
		}
		pkg := f.GetPackage()
		p3 := f.GetSyntax() == "proto3"
		prefix := ""
		if pkg != "" {
			prefix = pkg + "."
		}
		var walk func(scope string, msgs []*descriptorpb.DescriptorProto, enums []*descriptorpb.EnumDescriptorProto)
		walk = func(scope string, msgs []*descriptorpb.DescriptorProto, enums []*descriptorpb.EnumDescriptorProto) {
			for _, e := range enums {
				if _, dup := m[scope+e.GetName()]; !dup {
					m[scope+e.GetName()] = &typeInfo{pkg: pkg, enum: e, proto3: p3}
				}
			}
			for _, d := range msgs {
				name := scope + d.GetName()
				if _, dup := m[name]; !dup {
					m[name] = &typeInfo{pkg: pkg, msg: d, isMap: d.GetOptions().GetMapEntry(), proto3: p3}
				}
				walk(name+".", d.GetNestedType(), d.GetEnumType())
			}
		}
		walk(prefix, f.GetMessageType(), f.GetEnumType())
	}
	return m
}

// side is one schema's view during a walk: its types, package and the scope of
// the message being compared, for resolving a field's type name.
type side struct {
	types  map[string]*typeInfo
	pkg    string
	proto3 bool     // the file being compared is proto3: its fields have no optional label
	scope  []string // enclosing message names, innermost last
}

// resolve finds a type name as protoc would from the current scope: a leading dot
// is fully qualified; else the innermost enclosing scope that declares it wins
// (Confluent's Context.resolveFull). It returns "" when no file declares it.
func (s *side) resolve(name string) (string, *typeInfo) {
	if strings.HasPrefix(name, ".") {
		if t := s.types[name[1:]]; t != nil {
			return name[1:], t
		}
		return "", nil
	}
	var prefix []string
	if s.pkg != "" {
		prefix = strings.Split(s.pkg, ".")
	}
	prefix = append(prefix, s.scope...)
	for i := len(prefix); i > 0; i-- {
		n := strings.Join(prefix[:i], ".") + "." + name
		if t := s.types[n]; t != nil {
			return n, t
		}
	}
	if t := s.types[name]; t != nil {
		return name, t
	}
	return "", nil
}
