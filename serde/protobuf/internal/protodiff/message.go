package protodiff

import (
	"slices"
	"strconv"

	"google.golang.org/protobuf/types/descriptorpb"
)

// fields is a message's fields by number, with the oneof each belongs to ("" for
// none; a proto3 optional field's synthetic oneof is none, as Java's
// ProtobufSchema leaves it out) and each oneof's members.
type fields struct {
	byTag  map[int32]*descriptorpb.FieldDescriptorProto
	oneof  map[int32]string
	oneofs map[string][]int32
}

func collect(m *descriptorpb.DescriptorProto) fields {
	f := fields{byTag: map[int32]*descriptorpb.FieldDescriptorProto{}, oneof: map[int32]string{}, oneofs: map[string][]int32{}}
	decls := m.GetOneofDecl()
	for _, fd := range m.GetField() {
		f.byTag[fd.GetNumber()] = fd
		if fd.OneofIndex == nil || fd.GetProto3Optional() {
			continue
		}
		i := int(fd.GetOneofIndex())
		if i < 0 || i >= len(decls) {
			continue
		}
		name := decls[i].GetName()
		f.oneof[fd.GetNumber()] = name
		f.oneofs[name] = append(f.oneofs[name], fd.GetNumber())
	}
	return f
}

// message compares two messages of the same name (Confluent's MessageSchemaDiff):
// fields by number across the whole message, whatever oneof holds them, then the
// oneofs themselves, then the nested types.
//
// A message met again while it is being compared (a recursive type) is assumed
// compatible there: its comparison in progress decides.
func (c *cmp) message(wm, rm *descriptorpb.DescriptorProto) {
	if c.onPath[wm] {
		return
	}
	c.onPath[wm] = true
	defer delete(c.onPath, wm)
	c.messageFields(wm, rm)
	c.typeElements(wm.GetNestedType(), wm.GetEnumType(), rm.GetNestedType(), rm.GetEnumType())
}

func (c *cmp) messageFields(wm, rm *descriptorpb.DescriptorProto) {
	w, r := collect(wm), collect(rm)

	// A oneof gone with all its members is a deletion, compatible; one whose members
	// partly survive reports the lost ones below.
	deleted := map[string]bool{}
	for name, tags := range w.oneofs {
		if _, ok := r.oneofs[name]; ok {
			continue
		}
		if !slices.ContainsFunc(tags, func(t int32) bool { return r.byTag[t] != nil }) {
			deleted[name] = true
		}
	}

	// Fields that could all be set together in the writer's data and are one oneof
	// in the reader's: the reader keeps one of them only.
	for _, name := range sortedKeys(r.oneofs) {
		groups := map[string]bool{}
		movedIn := 0
		for _, t := range r.oneofs[name] {
			if o, ok := w.oneof[t]; ok {
				groups["oneof:"+o] = true
			} else if w.byTag[t] != nil {
				groups["field:"+strconv.Itoa(int(t))] = true
				movedIn++
			}
		}
		if len(groups) > 1 {
			if movedIn > 1 {
				c.walk.AddAt(name, MultipleFieldsMovedToOneof)
			} else {
				c.walk.AddAt(name, FieldMovedToExistingOneof)
			}
		}
	}

	for _, name := range unionKeys(w.oneofs, r.oneofs) {
		if _, ok := r.oneofs[name]; !ok {
			c.walk.AddAt(name, OneofRemoved)
		} else if _, ok := w.oneofs[name]; !ok {
			c.walk.AddAt(name, OneofAdded)
		}
	}

	tags := make([]int32, 0, len(w.byTag)+len(r.byTag))
	for t := range w.byTag {
		tags = append(tags, t)
	}
	for t := range r.byTag {
		if w.byTag[t] == nil {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	for _, t := range tags {
		wf, rf := w.byTag[t], r.byTag[t]
		wo, ro := w.oneof[t], r.oneof[t]
		switch {
		case rf == nil:
			switch {
			case wo != "":
				if !deleted[wo] {
					c.walk.AddAt(wo+"/"+fieldElem(wf), OneofFieldRemoved)
				}
			case wf.GetLabel() == descriptorpb.FieldDescriptorProto_LABEL_REQUIRED:
				c.walk.AddAt(fieldElem(wf), RequiredFieldRemoved)
			default:
				c.walk.AddAt(fieldElem(wf), FieldRemoved)
			}
		case wf == nil:
			switch {
			case ro != "":
				c.walk.AddAt(ro+"/"+fieldElem(rf), OneofFieldAdded)
			case rf.GetLabel() == descriptorpb.FieldDescriptorProto_LABEL_REQUIRED:
				c.walk.AddAt(fieldElem(rf), RequiredFieldAdded)
			default:
				c.walk.AddAt(fieldElem(rf), FieldAdded)
			}
		default:
			if wo != "" && ro == "" {
				c.walk.AddAt(fieldElem(rf), OneofFieldMovedToTopLevel)
			}
			elem := fieldElem(rf)
			if ro != "" {
				elem = ro + "/" + elem
			}
			leave := c.walk.Enter(elem)
			c.field(wf, rf, wo != "", ro != "")
			leave()
		}
	}
}

// fieldElem names a field in a path: its number, as Confluent's paths do, and its name.
func fieldElem(f *descriptorpb.FieldDescriptorProto) string {
	return strconv.Itoa(int(f.GetNumber())) + "(" + f.GetName() + ")"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
