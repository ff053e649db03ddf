// Package schemadiff is what the JSON Schema and Protobuf compatibility checks
// share: a difference between a writer's and a reader's schema, the report of
// them, and the path bookkeeping of a walk over two schemas. It follows the shape of
// Confluent's io.confluent.kafka.schemaregistry.{json,protobuf}.diff packages:
// every change found is a Difference of a named kind, and the pair is compatible
// when every kind found is in the language's set of compatible changes.
package schemadiff

import (
	"strconv"
	"strings"
)

// Difference is one change from the writer's schema to the reader's.
type Difference struct {
	// Kind is Confluent's name for the change, e.g. "TYPE_CHANGED", "FIELD_REMOVED".
	Kind string
	// Path locates it: a JSON pointer into the writer's schema ("#/properties/age")
	// for JSON Schema; message, field number and oneof names for Protobuf.
	Path string
	// Compatible reports whether a reader can still read the writer's data.
	Compatible bool
}

// Walk collects the differences of one comparison, keeping the path of the place
// being compared. Its zero value is not usable: make one with NewWalk.
type Walk struct {
	compatible map[string]bool
	start      string // the path when the walk began
	path       []string
	diffs      []Difference
	incompat   int
}

// NewWalk returns a walk whose compatible kinds are those in compatible.
func NewWalk(compatible map[string]bool) *Walk {
	return &Walk{compatible: compatible}
}

// Sub returns an empty walk at w's path with w's rules, to try a comparison whose
// differences the caller keeps only if it turns out compatible (Confluent's
// Context.getSubcontext).
func (w *Walk) Sub() *Walk {
	return &Walk{compatible: w.compatible, start: w.Path(), path: append([]string(nil), w.path...)}
}

// PathAtStart returns the path the walk began at: "" for NewWalk's, the parent's
// path then for Sub's.
func (w *Walk) PathAtStart() string { return w.start }

// Enter appends elem to the path until the returned func is called.
func (w *Walk) Enter(elem string) (leave func()) {
	n := len(w.path)
	w.path = append(w.path, elem)
	return func() { w.path = w.path[:n] }
}

// Add records a difference of kind at the current path.
func (w *Walk) Add(kind string) {
	w.AddAt("", kind)
}

// AddAt records a difference of kind at the current path and then elem (none when "").
func (w *Walk) AddAt(elem, kind string) {
	p := w.Path()
	if elem != "" {
		p = join(p, elem)
	}
	d := Difference{Kind: kind, Path: p, Compatible: w.compatible[kind]}
	if !d.Compatible {
		w.incompat++
	}
	w.diffs = append(w.diffs, d)
}

// AddAll records differences found by another walk.
func (w *Walk) AddAll(ds []Difference) {
	for _, d := range ds {
		if !d.Compatible {
			w.incompat++
		}
		w.diffs = append(w.diffs, d)
	}
}

// AddRebased records differences whose paths are relative to the current path
// (see Relative), as found once for a pair of schemas met again elsewhere.
func (w *Walk) AddRebased(ds []Difference) {
	p := w.Path()
	for _, d := range ds {
		d.Path = join(p, d.Path)
		w.AddAll([]Difference{d})
	}
}

// Relative returns ds (recorded by this walk since its path was prefix) with
// paths relative to prefix, for AddRebased.
func Relative(ds []Difference, prefix string) []Difference {
	out := make([]Difference, len(ds))
	for i, d := range ds {
		switch {
		case d.Path == prefix:
			d.Path = ""
		case prefix != "" && strings.HasPrefix(d.Path, prefix+"/"):
			d.Path = d.Path[len(prefix)+1:]
		}
		out[i] = d
	}
	return out
}

// Path returns the current path, elements joined by "/".
func (w *Walk) Path() string { return strings.Join(w.path, "/") }

// Compatible reports whether every difference so far is compatible.
func (w *Walk) Compatible() bool { return w.incompat == 0 }

// Differences returns the differences so far, in the order found.
func (w *Walk) Differences() []Difference { return w.diffs }

// Len returns how many differences were found so far.
func (w *Walk) Len() int { return len(w.diffs) }

// Err returns nil when every difference is compatible, else an *Incompatibility
// naming the first incompatible one.
func (w *Walk) Err() error {
	for _, d := range w.diffs {
		if !d.Compatible {
			return &Incompatibility{Difference: d, Count: w.incompat}
		}
	}
	return nil
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "/" + b
}

// Incompatibility is a failed check: the first incompatible difference, and how
// many there were.
type Incompatibility struct {
	Difference
	// Count is how many incompatible differences were found.
	Count int
}

// Error names the first incompatible change and where it is.
func (e *Incompatibility) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind)
	if e.Path != "" {
		b.WriteString(" at ")
		b.WriteString(e.Path)
	}
	if e.Count > 1 {
		b.WriteString(" (and ")
		b.WriteString(strconv.Itoa(e.Count - 1))
		b.WriteString(" more)")
	}
	return b.String()
}

// Set returns kinds as a set, for NewWalk.
func Set(kinds ...string) map[string]bool {
	m := make(map[string]bool, len(kinds))
	for _, k := range kinds {
		m[k] = true
	}
	return m
}
