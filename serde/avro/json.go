package avro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/twmb/avro"
)

// JSONReader reads values written in Avro's JSON encoding (the Avro
// specification's "JSON Encoding", what Java's JsonDecoder and
// kafka-avro-console-producer read) into Go values a Serializer[any] encodes
// with the same schema. As in Java, a union value other than null names its
// branch ({"string": "x"}, {"com.example.Address": {...}}), bytes and fixed
// are strings of code points 0 to 255, and an enum is its symbol.
// A record field may be left out when it has a default. A value that does not
// match fails with a *ValueError naming the field.
//
// A JSONReader is safe for concurrent use.
type JSONReader struct {
	root  *avro.SchemaNode
	name  string
	named map[string]*avro.SchemaNode // named types by full name
}

// NewJSONReader returns a reader for values of the Avro schema given as text.
func NewJSONReader(schema string) (*JSONReader, error) {
	sch, err := avro.Parse(schema)
	if err != nil {
		return nil, fmt.Errorf("avro: invalid schema: %w", err)
	}
	r := &JSONReader{root: sch.Root(), named: map[string]*avro.SchemaNode{}}
	r.name = fullName(r.root)
	r.collect(r.root, "")
	return r, nil
}

// collect indexes the named types defined in n, so references resolve.
func (r *JSONReader) collect(n *avro.SchemaNode, ns string) {
	switch n.Type {
	case "record", "error", "enum", "fixed":
		full := fullName(&avro.SchemaNode{Type: "record", Name: n.Name, Namespace: n.Namespace})
		if _, seen := r.named[full]; seen {
			return
		}
		r.named[full] = n
		for i := range n.Fields {
			r.collect(&n.Fields[i].Type, n.Namespace)
		}
	case "array":
		if n.Items != nil {
			r.collect(n.Items, ns)
		}
	case "map":
		if n.Values != nil {
			r.collect(n.Values, ns)
		}
	case "union":
		for i := range n.Branches {
			r.collect(&n.Branches[i], ns)
		}
	}
}

// resolve follows a named type reference (a node whose Type is a name).
func (r *JSONReader) resolve(n *avro.SchemaNode, ns string) (*avro.SchemaNode, string, error) {
	switch n.Type {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string",
		"record", "error", "enum", "fixed", "array", "map", "union":
		return n, ns, nil
	}
	name := n.Type
	if d, ok := r.named[name]; ok {
		return d, d.Namespace, nil
	}
	if ns != "" && !strings.Contains(name, ".") {
		if d, ok := r.named[ns+"."+name]; ok {
			return d, d.Namespace, nil
		}
	}
	return nil, "", fmt.Errorf("unknown type %q", name)
}

// maxJSONDepth bounds nesting, so that a hostile line cannot exhaust the stack.
const maxJSONDepth = 1000

// Decode reads one value in Avro's JSON encoding from data.
func (r *JSONReader) Decode(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, &ValueError{Schema: r.name, Err: fmt.Errorf("not JSON: %w", err)}
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, &ValueError{Schema: r.name, Err: errors.New("not JSON: more than one value")}
	}
	out, err := r.value(v, r.root, "", "", 0)
	if err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return nil, &ValueError{Schema: r.name, Field: fe.path, Err: fe.err}
		}
		return nil, &ValueError{Schema: r.name, Err: err}
	}
	return out, nil
}

type fieldError struct {
	path string
	err  error
}

func (e *fieldError) Error() string { return e.path + ": " + e.err.Error() }

func (r *JSONReader) fail(path string, format string, args ...any) error {
	return &fieldError{path: path, err: fmt.Errorf(format, args...)}
}

// describe names a JSON value's kind for an error.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + x.String()
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return "the string " + strconv.Quote(x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (r *JSONReader) value(v any, n *avro.SchemaNode, ns, path string, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, r.fail(path, "nested more than %d levels", maxJSONDepth)
	}
	n, ns, err := r.resolve(n, ns)
	if err != nil {
		return nil, r.fail(path, "%v", err)
	}
	want := func(what string) error {
		return r.fail(path, "Avro %s wants %s, got %s", n.Type, what, describe(v))
	}
	switch n.Type {
	case "null":
		if v != nil {
			return nil, want("null")
		}
		return nil, nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, want("true or false")
		}
		return b, nil
	case "int", "long":
		num, ok := v.(json.Number)
		if !ok {
			return nil, want("an integer")
		}
		bits := 64
		if n.Type == "int" {
			bits = 32
		}
		i, err := strconv.ParseInt(num.String(), 10, bits)
		if err != nil {
			return nil, want(fmt.Sprintf("an integer of %d bits", bits))
		}
		if n.Type == "int" {
			return int32(i), nil
		}
		return i, nil
	case "float", "double":
		var f float64
		switch x := v.(type) {
		case json.Number:
			var err error
			if f, err = strconv.ParseFloat(x.String(), 64); err != nil && !errors.Is(err, strconv.ErrRange) {
				return nil, want("a number")
			}
		case string: // Java's JsonEncoder writes non-finite numbers as strings
			switch x {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				return nil, want("a number")
			}
		default:
			return nil, want("a number")
		}
		if n.Type == "float" {
			return float32(f), nil
		}
		return f, nil
	case "string":
		s, ok := v.(string)
		if !ok {
			return nil, want("a string")
		}
		return s, nil
	case "bytes", "fixed":
		s, ok := v.(string)
		if !ok {
			return nil, want("a string of code points 0 to 255")
		}
		b, err := latin1(s)
		if err != nil {
			return nil, r.fail(path, "Avro %s: %v", n.Type, err)
		}
		if n.Type == "fixed" && len(b) != n.Size {
			return nil, r.fail(path, "Avro fixed %s wants %d bytes, got %d", n.Name, n.Size, len(b))
		}
		if n.LogicalType == "decimal" {
			// The encoder takes a decimal as a number; the JSON form is its
			// two's-complement unscaled bytes.
			unscaled := new(big.Int).SetBytes(b)
			if len(b) > 0 && b[0]&0x80 != 0 {
				unscaled.Sub(unscaled, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			}
			return new(big.Rat).SetFrac(unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n.Scale)), nil)), nil
		}
		if n.Type == "fixed" {
			arr := make([]byte, len(b))
			copy(arr, b)
			return arr, nil
		}
		return b, nil
	case "enum":
		s, ok := v.(string)
		if !ok {
			return nil, want("one of its symbols as a string")
		}
		for _, sym := range n.Symbols {
			if sym == s {
				return s, nil
			}
		}
		return nil, r.fail(path, "Avro enum %s has no symbol %q (symbols: %s)", n.Name, s, strings.Join(n.Symbols, ", "))
	case "array":
		a, ok := v.([]any)
		if !ok {
			return nil, want("an array")
		}
		out := make([]any, len(a))
		for i, e := range a {
			if out[i], err = r.value(e, n.Items, ns, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, want("an object")
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			if out[k], err = r.value(e, n.Values, ns, join(path, k), depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case "record", "error":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, want("an object of its fields")
		}
		out := make(map[string]any, len(n.Fields))
		for i := range n.Fields {
			f := &n.Fields[i]
			fv, ok := m[f.Name]
			if !ok {
				if !f.HasDefault {
					return nil, r.fail(join(path, f.Name), "missing, and the field has no default")
				}
				continue // the serializer fills the default
			}
			if out[f.Name], err = r.value(fv, &f.Type, n.Namespace, join(path, f.Name), depth+1); err != nil {
				return nil, err
			}
		}
		if len(m) > len(out) {
			for k := range m {
				if _, ok := out[k]; !ok && !hasField(n, k) {
					return nil, r.fail(join(path, k), "record %s has no such field", n.Name)
				}
			}
		}
		return out, nil
	case "union":
		if v == nil {
			for i := range n.Branches {
				if n.Branches[i].Type == "null" {
					return nil, nil
				}
			}
			return nil, r.fail(path, "union %s has no null branch", r.branchList(n, ns))
		}
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return nil, r.fail(path, "a union value is null or an object naming its branch, as {\"%s\": ...}; got %s (union %s)",
				r.firstNonNull(n, ns), describe(v), r.branchList(n, ns))
		}
		for k, bv := range m {
			for i := range n.Branches {
				b, bns, err := r.resolve(&n.Branches[i], ns)
				if err != nil {
					return nil, r.fail(path, "%v", err)
				}
				if b.Type == "null" || !branchNamed(b, k) {
					continue
				}
				x, err := r.value(bv, b, bns, path, depth+1)
				if err != nil {
					return nil, err
				}
				// Tagged, so the encoder picks this branch even when several
				// would take the Go value (int and long, string and enum).
				return map[string]any{branchName(b): x}, nil
			}
			return nil, r.fail(path, "union %s has no branch %q", r.branchList(n, ns), k)
		}
	}
	return nil, r.fail(path, "unsupported Avro type %q", n.Type)
}

func hasField(n *avro.SchemaNode, name string) bool {
	for i := range n.Fields {
		if n.Fields[i].Name == name {
			return true
		}
	}
	return false
}

// branchName is how a union branch is named in the JSON encoding: its full
// name for a named type, else its type.
func branchName(b *avro.SchemaNode) string {
	switch b.Type {
	case "record", "error", "enum", "fixed":
		return fullName(&avro.SchemaNode{Type: "record", Name: b.Name, Namespace: b.Namespace})
	}
	return b.Type
}

// branchNamed reports whether k names branch b. Java takes the full name; a
// named type in the null namespace has no other.
func branchNamed(b *avro.SchemaNode, k string) bool {
	return branchName(b) == k
}

func (r *JSONReader) branchList(n *avro.SchemaNode, ns string) string {
	names := make([]string, 0, len(n.Branches))
	for i := range n.Branches {
		if b, _, err := r.resolve(&n.Branches[i], ns); err == nil {
			names = append(names, branchName(b))
		}
	}
	return "[" + strings.Join(names, ", ") + "]"
}

func (r *JSONReader) firstNonNull(n *avro.SchemaNode, ns string) string {
	for i := range n.Branches {
		if b, _, err := r.resolve(&n.Branches[i], ns); err == nil && b.Type != "null" {
			return branchName(b)
		}
	}
	return "type"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// latin1 turns the JSON encoding's string of bytes into the bytes: each code
// point is one byte, so above 255 is an error.
func latin1(s string) ([]byte, error) {
	b := make([]byte, 0, len(s))
	for _, c := range s {
		if c > 255 {
			return nil, fmt.Errorf("code point U+%04X is not a byte (the JSON encoding writes each byte as a code point 0 to 255)", c)
		}
		b = append(b, byte(c))
	}
	return b, nil
}
