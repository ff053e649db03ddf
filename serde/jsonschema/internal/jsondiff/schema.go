package jsondiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// kind is a schema's class in the model Confluent's diff works on (Everit's
// Schema subclasses): two schemas of different kinds are a type change.
type kind int

const (
	kindEmpty    kind = iota // {} or true: anything
	kindFalse                // false: nothing
	kindNull                 // "type": "null"
	kindBoolean              // "type": "boolean"
	kindString               // "type": "string", or string keywords without a type
	kindNumber               // "type": "number" or "integer", or number keywords
	kindObject               // "type": "object", or object keywords
	kindArray                // "type": "array", or array keywords
	kindEnum                 // "enum"
	kindConst                // "const"
	kindCombined             // allOf, anyOf, oneOf; or several of the above at once (allOf)
	kindNot                  // "not"
	kindRef                  // "$ref", resolved when compared
)

// node is one schema.
type node struct {
	kind kind

	// annotations, compared for the report only
	id, title, description *string
	def                    *string // canonical JSON of "default"

	// string
	minLength, maxLength *int
	pattern              *string

	// number
	integer                  bool
	minimum, maximum         *big.Rat
	exclMinimum, exclMaximum *big.Rat
	multipleOf               *big.Rat

	// object
	properties      map[string]*node
	required        map[string]bool
	noAdditional    bool  // additionalProperties: false
	additional      *node // additionalProperties as a schema
	patternProps    []patternProp
	minProps        *int
	maxProps        *int
	propertyDeps    map[string][]string
	schemaDeps      map[string]*node
	unevaluatedProp *node // unevaluatedProperties (2019-09 and later)

	// array
	items          *node   // items as one schema for all
	itemList       []*node // items as an array (a tuple)
	noAdditionalIt bool    // additionalItems: false
	additionalIt   *node
	minItems       *int
	maxItems       *int
	unique         bool
	unevaluatedIt  *node // unevaluatedItems (2019-09 and later)
	minContains    *int
	maxContains    *int

	// enum and const: canonical JSON of each value
	values []string

	// combined
	criterion string // "allOf", "anyOf" or "oneOf"
	subs      []*node

	// not
	not *node

	// ref
	ref  string
	base *doc // the document the ref is resolved in
}

type patternProp struct {
	re *regexp.Regexp
	s  *node
}

// doc is one schema document: the schema's own, or a referenced one.
type doc struct {
	name string // the reference name, "" for the main schema
	root any
	set  *Set
}

// Set is one side of a comparison: a schema and the schemas it references by
// name ("$ref": "address.json"), each parsed once.
type Set struct {
	main   *doc
	byName map[string]*doc
	nodes  map[string]*node // by document name and JSON pointer
	refs   int              // $ref resolutions, bounded against hostile schemas
}

// maxRefHops bounds a chain of schemas that are only a "$ref" to the next.
const maxRefHops = 64

// NewSet parses a schema text and the texts it references, by reference name.
func NewSet(text string, refs map[string]string) (*Set, error) {
	s := &Set{byName: map[string]*doc{}, nodes: map[string]*node{}}
	root, err := decode(text)
	if err != nil {
		return nil, err
	}
	s.main = &doc{root: root, set: s}
	for name, t := range refs {
		r, err := decode(t)
		if err != nil {
			return nil, fmt.Errorf("reference %q: %w", name, err)
		}
		s.byName[name] = &doc{name: name, root: r, set: s}
	}
	return s, nil
}

func decode(text string) (any, error) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	if d.More() {
		return nil, fmt.Errorf("schema is not one JSON value")
	}
	return v, nil
}

// root returns the main schema's node.
func (s *Set) root() (*node, error) {
	return s.main.at("")
}

// at returns the node of the schema at JSON pointer ptr ("" is the root) in d.
func (d *doc) at(ptr string) (*node, error) {
	key := d.name + "#" + ptr
	if n, ok := d.set.nodes[key]; ok {
		return n, nil
	}
	v, err := pointer(d.root, ptr)
	if err != nil {
		return nil, err
	}
	n := d.parse(v, ptr)
	return n, nil
}

// pointer follows a JSON pointer (RFC 6901) into v.
func pointer(v any, ptr string) (any, error) {
	if ptr == "" {
		return v, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("unsupported reference fragment %q", ptr)
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("reference fragment %q: no %q", ptr, tok)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("reference fragment %q: no item %q", ptr, tok)
			}
			v = c[i]
		default:
			return nil, fmt.Errorf("reference fragment %q: %q is not in an object or array", ptr, tok)
		}
	}
	return v, nil
}

// resolve returns the schema a ref node names.
func (s *Set) resolve(n *node) (*node, error) {
	for hops := 0; n.kind == kindRef; hops++ {
		if hops > maxRefHops {
			return nil, fmt.Errorf("$ref %q: more than %d references in a row", n.ref, maxRefHops)
		}
		d, frag, err := s.target(n)
		if err != nil {
			return nil, err
		}
		next, err := d.at(frag)
		if err != nil {
			return nil, fmt.Errorf("$ref %q: %w", n.ref, err)
		}
		n = next
	}
	return n, nil
}

// target finds the document a $ref names and the pointer within it: "#/..." is the
// referring document's; "name#/..." is a reference given by that name (or whose
// name ends in the ref's last path segment, as a name resolved against "$id" does).
func (s *Set) target(n *node) (*doc, string, error) {
	docPart, frag, _ := strings.Cut(n.ref, "#")
	if f, err := url.PathUnescape(frag); err == nil {
		frag = f
	}
	if docPart == "" {
		return n.base, frag, nil
	}
	if d := s.byName[docPart]; d != nil {
		return d, frag, nil
	}
	if id := idOf(n.base.root); id != "" && (docPart == id || strings.TrimSuffix(id, "#") == docPart) {
		return n.base, frag, nil
	}
	last := docPart[strings.LastIndex(docPart, "/")+1:]
	for name, d := range s.byName {
		if name[strings.LastIndex(name, "/")+1:] == last {
			return d, frag, nil
		}
	}
	return nil, "", fmt.Errorf("$ref %q names no schema given", n.ref)
}

func idOf(v any) string {
	m, _ := v.(map[string]any)
	for _, k := range []string{"$id", "id"} {
		if s, ok := m[k].(string); ok {
			return s
		}
	}
	return ""
}

// canonical returns v as JSON with sorted keys, for equality.
func canonical(v any) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
