// Package jsondiff decides whether a JSON Schema can read what another writes, by
// the rules of Confluent's JsonSchema.isBackwardCompatible
// (io.confluent.kafka.schemaregistry.json.diff, its strict set of compatible
// changes): the reader must accept every document the writer accepts. Loosened
// constraints, a type widened (integer to number), an enum extended, a property
// removed from an open object, are compatible; a type changed or narrowed, a
// constraint added or tightened, a property added to an open object (the writer may
// have put anything under that name), a required property without a default, are
// not. Schemas are modelled as Confluent's (Everit's) loader sees them: a schema with
// several facets is their allOf, "type": [a, b] their anyOf. A recursive "$ref" met
// again while its pair is being compared is assumed compatible there.
//
// The 2019-09 and 2020-12 forms (prefixItems, dependentRequired, dependentSchemas,
// unevaluatedProperties/Items, min/maxContains) are compared as Confluent does.
// Not compared, as Confluent does not either: "format", the "contains" schema,
// "propertyNames", "if"/"then"/"else".
package jsondiff

import (
	"errors"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"
)

// Check returns nil when reader can read what writer writes, else a
// *schemadiff.Incompatibility naming the first incompatible change. A "$ref" that
// names no schema given fails the check with an error saying so.
func Check(writer, reader *Set) error {
	w, err := Compare(writer, reader)
	if err != nil {
		return err
	}
	return w.Err()
}

// Compare walks writer (Confluent's "original") against reader (its "update")
// and returns every difference found.
func Compare(writer, reader *Set) (*schemadiff.Walk, error) {
	o, err := writer.root()
	if err != nil {
		return nil, err
	}
	u, err := reader.root()
	if err != nil {
		return nil, err
	}
	c := &cmp{w: writer, r: reader, walk: schemadiff.NewWalk(compatible),
		onStack: map[pair]int{}, memo: map[pair][]schemadiff.Difference{}, low: noAssumption}
	leave := c.walk.Enter("#")
	c.compare(c.walk, o, u)
	leave()
	if c.err != nil {
		return nil, c.err // no verdict without every schema followed
	}
	return c.walk, nil
}

type pair struct{ o, u *node }

// noAssumption is cmp.low when no comparison relied on a pair still in progress.
const noAssumption = int(^uint(0) >> 1)

// maxWork bounds the pairs one check compares: allOf/anyOf/oneOf compare every
// subschema with every other, and a hostile schema must not make that endless.
const maxWork = 100000

// cmp is one comparison of two schema sets.
type cmp struct {
	w, r *Set
	walk *schemadiff.Walk

	// onStack holds the pairs being compared, with their depth; memo the
	// differences (relative to the pair's path) of pairs compared, so that schemas
	// referring to one another many times are compared once per pair. A pair whose
	// comparison assumed an enclosing pair compatible (low, the shallowest such
	// depth, above it) is not memoized: that assumption may yet prove false.
	onStack map[pair]int
	memo    map[pair][]schemadiff.Difference
	low     int
	work    int
	err     error // the first "$ref" that could not be followed, or too much work
}

func (c *cmp) deref(s *Set, n *node) *node {
	if n == nil || n.kind != kindRef {
		return n
	}
	r, err := s.resolve(n)
	if err != nil {
		if c.err == nil {
			c.err = err
		}
		return &node{kind: kindEmpty}
	}
	return r
}

// compare compares o (writer) with u (reader) into w (Confluent's SchemaDiff.compare).
func (c *cmp) compare(w *schemadiff.Walk, o, u *node) {
	switch {
	case o == nil && u == nil:
		return
	case o == nil:
		w.Add(SchemaAdded)
		return
	case u == nil:
		w.Add(SchemaRemoved)
		return
	}
	o, u = c.deref(c.w, o), c.deref(c.r, u)
	if c.err != nil {
		return
	}
	p := pair{o, u}
	if d, ok := c.onStack[p]; ok {
		c.low = min(c.low, d)
		return // a cycle: assumed compatible, its own comparison decides
	}
	if ds, ok := c.memo[p]; ok {
		w.AddRebased(ds)
		return
	}
	if c.work++; c.work > maxWork {
		c.err = errors.New("schemas too large to compare")
		return
	}
	depth := len(c.onStack)
	c.onStack[p] = depth
	saved := c.low
	c.low = noAssumption
	sub := w.Sub()
	c.types(sub, o, u)
	delete(c.onStack, p)
	ds := schemadiff.Relative(sub.Differences(), sub.PathAtStart())
	if c.low >= depth {
		c.memo[p] = ds
	}
	c.low = min(saved, c.low)
	w.AddRebased(ds)
}

// trial compares o and u in a walk of its own, whose differences the caller keeps
// only if they are compatible (Confluent's getSubcontext).
func (c *cmp) trial(w *schemadiff.Walk, o, u *node) *schemadiff.Walk {
	sub := w.Sub()
	c.compare(sub, o, u)
	return sub
}

func (c *cmp) types(w *schemadiff.Walk, o, u *node) {
	if o.kind != kindCombined && u.kind == kindCombined {
		if len(u.subs) == 1 {
			if t := c.trial(w, o, u.subs[0]); t.Compatible() {
				w.AddAll(t.Differences())
				return
			}
		} else if u.criterion == "anyOf" || u.criterion == "oneOf" {
			for _, s := range u.subs {
				if t := c.trial(w, o, s); t.Compatible() {
					w.AddAll(t.Differences())
					w.Add(SumTypeExtended)
					return
				}
			}
		}
	} else if o.kind == kindCombined && u.kind != kindCombined {
		if len(o.subs) == 1 {
			if t := c.trial(w, o.subs[0], u); t.Compatible() {
				w.AddAll(t.Differences())
				return
			}
		} else if o.criterion == "allOf" {
			for _, s := range o.subs {
				if t := c.trial(w, s, u); t.Compatible() {
					w.AddAll(t.Differences())
					w.Add(ProductTypeNarrowed)
					return
				}
			}
		}
	}

	if o.kind != u.kind {
		if o.kind == kindFalse || u.kind == kindEmpty {
			return // the writer writes nothing, or the reader reads anything
		}
		w.Add(TypeChanged)
		return
	}
	annotation(w, o.id, u.id, IDChanged)
	annotation(w, o.title, u.title, TitleChanged)
	annotation(w, o.description, u.description, DescriptionChanged)
	annotation(w, o.def, u.def, DefaultChanged)

	switch o.kind {
	case kindString:
		stringDiff(w, o, u)
	case kindNumber:
		numberDiff(w, o, u)
	case kindConst:
		if o.values[0] != u.values[0] {
			w.AddAt("const", EnumArrayChanged)
		}
	case kindEnum:
		enumDiff(w, o, u)
	case kindCombined:
		c.combined(w, o, u)
	case kindNot:
		leave := w.Enter("not")
		// The reader refuses what u.not accepts: compatible when that is no more
		// than what the writer refused, so the schemas swap places.
		if c.trial(w, u.not, o.not).Compatible() {
			w.Add(NotTypeNarrowed)
		} else {
			w.Add(NotTypeExtended)
		}
		leave()
	case kindObject:
		c.object(w, o, u)
	case kindArray:
		c.array(w, o, u)
	}
}

func annotation(w *schemadiff.Walk, o, u *string, kind string) {
	if (o == nil) != (u == nil) || (o != nil && *o != *u) {
		w.Add(kind)
	}
}

func enumDiff(w *schemadiff.Walk, o, u *node) {
	os, us := set(o.values), set(u.values)
	if equalSets(os, us) {
		return
	}
	switch {
	case containsAll(us, os):
		w.AddAt("enum", EnumArrayExtended)
	case containsAll(os, us):
		w.AddAt("enum", EnumArrayNarrowed)
	default:
		w.AddAt("enum", EnumArrayChanged)
	}
}

func set(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func containsAll(a, b map[string]bool) bool {
	for k := range b {
		if !a[k] {
			return false
		}
	}
	return true
}

func equalSets(a, b map[string]bool) bool {
	return len(a) == len(b) && containsAll(a, b)
}
