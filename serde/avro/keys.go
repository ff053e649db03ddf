package avro

import (
	"errors"
	"reflect"
	"strconv"

	"github.com/twmb/avro"
)

// shape is what the key check needs of a schema node. The encoder fills a
// record's missing map keys from defaults but ignores keys that are not fields,
// so a misspelt key ("emial") would silently send the default instead; Java's
// GenericRecord.put refuses an unknown field, and so does the serializer.
type shape struct {
	record bool
	name   string            // full name, for tagged union branches
	short  string            // name without namespace
	fields map[string]*shape // record fields; a nil value: no records below
	// badDefault lists the record's union fields whose default is not of the
	// union's first branch (the seeds' ["null","string"] with "default":"null").
	// The spec says a union default is of the first branch; the encoder would
	// fill an absent key from a later one, where Java's GenericRecordBuilder
	// fails, so an absent key for such a field is an error.
	badDefault []string
	elem       *shape // array items or map values
	isMap      bool
	branches   []*shape // union branches
	branchNm   []string // union branch names as a tagged union map spells them
	branchLT   []string // or, goavro's way, with the logical type: "long.timestamp-millis"
}

// shapes builds shapes, sharing one per named type so that recursive schemas end.
type shapes map[string]*shape

func newShapes() shapes { return shapes{} }

// of returns n's shape, or nil if no record is reachable from n.
func (ss shapes) of(n *avro.SchemaNode, ns string) *shape {
	s := ss.build(n, ns)
	if s == nil || !s.hasRecord(map[*shape]bool{}) {
		return nil
	}
	return s
}

func (ss shapes) build(n *avro.SchemaNode, ns string) *shape {
	switch n.Type {
	case "record", "error":
		full := fullName(&avro.SchemaNode{Type: "record", Name: n.Name, Namespace: n.Namespace})
		if s, ok := ss[full]; ok {
			return s
		}
		s := &shape{record: true, name: full, short: n.Name, fields: map[string]*shape{}}
		ss[full] = s
		for i := range n.Fields {
			f := &n.Fields[i]
			s.fields[f.Name] = ss.build(&f.Type, n.Namespace)
			if f.HasDefault && f.Type.Type == "union" && len(f.Type.Branches) > 0 &&
				(f.Type.Branches[0].Type == "null") != (f.Default == nil) {
				s.badDefault = append(s.badDefault, f.Name)
			}
		}
		return s
	case "array":
		if n.Items == nil {
			return &shape{}
		}
		return &shape{elem: ss.build(n.Items, ns)}
	case "map":
		if n.Values == nil {
			return &shape{}
		}
		return &shape{elem: ss.build(n.Values, ns), isMap: true}
	case "union":
		s := &shape{}
		for i := range n.Branches {
			b := &n.Branches[i]
			s.branches = append(s.branches, ss.build(b, ns))
			name := b.Type
			if full := fullName(b); full != "" {
				name = full
			}
			lt := ""
			if b.LogicalType != "" {
				lt = b.Type + "." + b.LogicalType
			}
			s.branchNm, s.branchLT = append(s.branchNm, name), append(s.branchLT, lt)
		}
		return s
	}
	if s, ok := ss[n.Type]; ok { // a reference to a named type
		return s
	}
	if ns != "" {
		if s, ok := ss[ns+"."+n.Type]; ok {
			return s
		}
	}
	return &shape{name: fullName(n)}
}

func (s *shape) hasRecord(seen map[*shape]bool) bool {
	if s == nil || seen[s] {
		return false
	}
	seen[s] = true
	if s.record {
		return true
	}
	if s.elem.hasRecord(seen) {
		return true
	}
	for _, b := range s.branches {
		if b.hasRecord(seen) {
			return true
		}
	}
	return false
}

// canHoldMap reports whether a value of t may contain a map[string]any.
func canHoldMap(t reflect.Type) bool {
	return canHold(t, map[reflect.Type]bool{})
}

func canHold(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Map:
		return t.Key().Kind() == reflect.String && (t.Elem().Kind() == reflect.Interface || canHold(t.Elem(), seen))
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return canHold(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if canHold(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// errBadDefault is the cause of a ValueError for an absent key whose default the
// schema gives in a branch other than the union's first.
var errBadDefault = errors.New("absent, and its default is not of the union's first branch, as the Avro specification requires (Java would not use it either): set the field")

// errNotField is the cause of a ValueError for a map key the record lacks.
var errNotField = errors.New("not a field of the record (the encoder would drop it)")

// check returns a *ValueError for the first map key, at any depth, that is not a
// field of its record. Values other than generic maps and slices are left to the
// encoder, which checks struct fields itself. It allocates only on error.
func (s *shape) check(v any) error {
	return s.walk(v, 0)
}

// maxDepth bounds the walk for a value that contains itself.
const maxDepth = 1000

func (s *shape) walk(v any, depth int) error {
	if s == nil || depth > maxDepth {
		return nil
	}
	switch {
	case s.record:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, name := range s.badDefault {
			if _, ok := m[name]; !ok {
				return &ValueError{Schema: s.name, Field: name, Err: errBadDefault}
			}
		}
		for k, fv := range m {
			f, ok := s.fields[k]
			if !ok {
				return &ValueError{Schema: s.name, Field: k, Err: errNotField}
			}
			if err := f.walk(fv, depth+1); err != nil {
				return prefix(err, k)
			}
		}
	case s.elem != nil && s.isMap:
		if m, ok := v.(map[string]any); ok {
			for k, ev := range m {
				if err := s.elem.walk(ev, depth+1); err != nil {
					return prefix(err, "["+strconv.Quote(k)+"]")
				}
			}
		}
	case s.elem != nil:
		if a, ok := v.([]any); ok {
			for i, ev := range a {
				if err := s.elem.walk(ev, depth+1); err != nil {
					return prefix(err, "["+strconv.Itoa(i)+"]")
				}
			}
		}
	case s.branches != nil:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if len(m) == 1 { // a tagged union value {"branch": value}?
			for k, bv := range m {
				for i, b := range s.branches {
					if s.branchNm[i] == k || s.branchLT[i] == k || (b.record && (b.short == k || b.name == k)) {
						return b.walk(bv, depth+1)
					}
				}
			}
		}
		// A bare map: check it against the union's only record branch; with
		// several, the encoder picks one and reports its own mismatch.
		var only *shape
		for _, b := range s.branches {
			if b.record {
				if only != nil {
					return nil
				}
				only = b
			}
		}
		return only.walk(v, depth+1)
	}
	return nil
}

// prefix puts the path element el before the error's field path.
func prefix(err error, el string) error {
	ve, ok := err.(*ValueError)
	if !ok {
		return err
	}
	switch {
	case ve.Field == "" || ve.Field[0] == '[':
		ve.Field = el + ve.Field
	default:
		ve.Field = el + "." + ve.Field
	}
	return ve
}
