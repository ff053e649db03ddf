// Package protodiff decides whether a Protobuf schema can read what another
// writes, by the rules of Confluent's ProtobufSchema.isBackwardCompatible
// (io.confluent.kafka.schemaregistry.protobuf.diff): messages and fields are
// matched by name and by field number; adding or removing an optional field, a
// message or an enum constant is compatible; changing a field's kind (scalar,
// message, map), its scalar's wire group (varint, zigzag, fixed32, fixed64, float,
// double, length-delimited), its message type, its repeatedness for numbers, the
// file's package, or the required fields, or moving fields that were independent
// into one oneof, is not. A message referring to itself is assumed compatible on
// revisit.
package protodiff

import (
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"
)

// The kinds of difference, by Confluent's names (protobuf diff Difference.Type).
const (
	PackageChanged                 = "PACKAGE_CHANGED"
	MessageAdded                   = "MESSAGE_ADDED"
	MessageRemoved                 = "MESSAGE_REMOVED"
	MessageMoved                   = "MESSAGE_MOVED"
	EnumAdded                      = "ENUM_ADDED"
	EnumRemoved                    = "ENUM_REMOVED"
	EnumConstAdded                 = "ENUM_CONST_ADDED"
	EnumConstChanged               = "ENUM_CONST_CHANGED"
	EnumConstRemoved               = "ENUM_CONST_REMOVED"
	FieldAdded                     = "FIELD_ADDED"
	FieldRemoved                   = "FIELD_REMOVED"
	FieldNameChanged               = "FIELD_NAME_CHANGED"
	FieldKindChanged               = "FIELD_KIND_CHANGED"
	FieldScalarKindChanged         = "FIELD_SCALAR_KIND_CHANGED"
	FieldNamedTypeChanged          = "FIELD_NAMED_TYPE_CHANGED"
	FieldNumericLabelChanged       = "FIELD_NUMERIC_LABEL_CHANGED"
	FieldStringOrBytesLabelChanged = "FIELD_STRING_OR_BYTES_LABEL_CHANGED"
	RequiredFieldAdded             = "REQUIRED_FIELD_ADDED"
	RequiredFieldRemoved           = "REQUIRED_FIELD_REMOVED"
	OneofAdded                     = "ONEOF_ADDED"
	OneofRemoved                   = "ONEOF_REMOVED"
	OneofFieldAdded                = "ONEOF_FIELD_ADDED"
	OneofFieldRemoved              = "ONEOF_FIELD_REMOVED"
	OneofFieldMovedToTopLevel      = "ONEOF_FIELD_MOVED_TO_TOP_LEVEL"
	MultipleFieldsMovedToOneof     = "MULTIPLE_FIELDS_MOVED_TO_ONEOF"
	FieldMovedToExistingOneof      = "FIELD_MOVED_TO_EXISTING_ONEOF"
)

// compatible is Confluent's SchemaDiff.COMPATIBLE_CHANGES.
var compatible = schemadiff.Set(MessageAdded, MessageMoved, EnumAdded, EnumRemoved,
	EnumConstAdded, EnumConstChanged, EnumConstRemoved, FieldAdded, FieldRemoved,
	FieldNameChanged, FieldStringOrBytesLabelChanged, OneofAdded, OneofRemoved,
	OneofFieldAdded, OneofFieldMovedToTopLevel)

// Check returns nil when reader can read what writer writes, else a
// *schemadiff.Incompatibility naming the first incompatible change.
func Check(writer, reader Files) error {
	return Compare(writer, reader).Err()
}

// Compare walks writer (Confluent's "original") against reader (its "update")
// and returns every difference found.
func Compare(writer, reader Files) *schemadiff.Walk {
	c := &cmp{
		walk:   schemadiff.NewWalk(compatible),
		w:      side{types: types(writer), pkg: writer.Main.GetPackage()},
		r:      side{types: types(reader), pkg: reader.Main.GetPackage()},
		onPath: map[*descriptorpb.DescriptorProto]bool{},
		memo:   map[[2]*descriptorpb.DescriptorProto]memoEntry{},
	}
	c.w.proto3 = writer.Main.GetSyntax() == "proto3"
	c.r.proto3 = reader.Main.GetSyntax() == "proto3"
	if c.w.pkg != c.r.pkg {
		c.walk.Add(PackageChanged)
	}
	c.typeElements(writer.Main.GetMessageType(), writer.Main.GetEnumType(), reader.Main.GetMessageType(), reader.Main.GetEnumType())
	return c.walk
}

// cmp is one comparison: the differences so far and both sides' scopes. onPath
// holds the writer's messages being compared, so that a recursive message is
// compared once (Confluent's Context.enterSchema).
type cmp struct {
	walk   *schemadiff.Walk
	w, r   side
	scope  []string
	onPath map[*descriptorpb.DescriptorProto]bool
	memo   map[[2]*descriptorpb.DescriptorProto]memoEntry
}

// enterName enters a message or enum of the current scope.
func (c *cmp) enterName(name string) func() {
	leave := c.walk.Enter(name)
	n := len(c.scope)
	c.scope = append(c.scope, name)
	c.w.scope, c.r.scope = c.scope, c.scope
	return func() {
		c.scope = c.scope[:n]
		c.w.scope, c.r.scope = c.scope, c.scope
		leave()
	}
}

// current is the full name of the current scope on side s.
func (c *cmp) current(s *side) string {
	if s.pkg == "" {
		return strings.Join(c.scope, ".")
	}
	return s.pkg + "." + strings.Join(c.scope, ".")
}

// typeElements compares the messages and enums declared at one level, by name.
func (c *cmp) typeElements(wMsgs []*descriptorpb.DescriptorProto, wEnums []*descriptorpb.EnumDescriptorProto,
	rMsgs []*descriptorpb.DescriptorProto, rEnums []*descriptorpb.EnumDescriptorProto) {
	wm, wi := indexMessages(wMsgs)
	rm, ri := indexMessages(rMsgs)
	for _, name := range unionKeys(wm, rm) {
		leave := c.enterName(name)
		w, r := wm[name], rm[name]
		switch {
		case r == nil:
			if t := c.w.types[c.current(&c.w)]; t == nil || !t.isMap {
				c.walk.Add(MessageRemoved)
			}
		case w == nil:
			if !r.GetOptions().GetMapEntry() {
				c.walk.Add(MessageAdded)
			}
		default:
			c.message(w, r)
			if wi[name] != ri[name] {
				// Compatible: the message index written is the reader schema's own.
				c.walk.Add(MessageMoved)
			}
		}
		leave()
	}
	we, re := indexEnums(wEnums), indexEnums(rEnums)
	for _, name := range unionKeys(we, re) {
		leave := c.enterName(name)
		switch w, r := we[name], re[name]; {
		case r == nil:
			c.walk.Add(EnumRemoved)
		case w == nil:
			c.walk.Add(EnumAdded)
		default:
			enum(c.walk, w, r)
		}
		leave()
	}
}

func indexMessages(ms []*descriptorpb.DescriptorProto) (map[string]*descriptorpb.DescriptorProto, map[string]int) {
	byName, index := map[string]*descriptorpb.DescriptorProto{}, map[string]int{}
	for i, m := range ms {
		byName[m.GetName()] = m
		index[m.GetName()] = i
	}
	return byName, index
}

func indexEnums(es []*descriptorpb.EnumDescriptorProto) map[string]*descriptorpb.EnumDescriptorProto {
	m := map[string]*descriptorpb.EnumDescriptorProto{}
	for _, e := range es {
		m[e.GetName()] = e
	}
	return m
}

// unionKeys returns the keys of a and b, sorted so that the report is deterministic.
func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// enum compares constants by number: every change is compatible (an unknown
// number reads as the enum's default), but it is reported.
func enum(w *schemadiff.Walk, wr, rd *descriptorpb.EnumDescriptorProto) {
	wv, rv := map[int32]string{}, map[int32]string{}
	for _, v := range wr.GetValue() {
		wv[v.GetNumber()] = v.GetName()
	}
	for _, v := range rd.GetValue() {
		rv[v.GetNumber()] = v.GetName()
	}
	nums := make([]int32, 0, len(wv)+len(rv))
	for n := range wv {
		nums = append(nums, n)
	}
	for n := range rv {
		if _, ok := wv[n]; !ok {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	for _, n := range nums {
		a, inW := wv[n]
		b, inR := rv[n]
		switch {
		case !inR:
			w.AddAt(strconv.Itoa(int(n)), EnumConstRemoved)
		case !inW:
			w.AddAt(strconv.Itoa(int(n)), EnumConstAdded)
		case a != b:
			w.AddAt(strconv.Itoa(int(n)), EnumConstChanged)
		}
	}
}
