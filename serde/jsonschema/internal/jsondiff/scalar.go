package jsondiff

import (
	"math/big"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"
)

// bound compares an optional limit that loosens as it grows (a maximum): added,
// removed, increased or decreased.
func bound[T int | *big.Rat](w *schemadiff.Walk, at string, o, u *T, cmp func(a, b T) int, added, removed, increased, decreased string) {
	switch {
	case o == nil && u == nil:
	case o == nil:
		w.AddAt(at, added)
	case u == nil:
		w.AddAt(at, removed)
	default:
		switch c := cmp(*o, *u); {
		case c < 0:
			w.AddAt(at, increased)
		case c > 0:
			w.AddAt(at, decreased)
		}
	}
}

func cmpInt(a, b int) int { return a - b }

func cmpRat(a, b *big.Rat) int { return a.Cmp(b) }

func rat(r *big.Rat) **big.Rat {
	if r == nil {
		return nil
	}
	return &r
}

func stringDiff(w *schemadiff.Walk, o, u *node) {
	bound(w, "maxLength", o.maxLength, u.maxLength, cmpInt, MaxLengthAdded, MaxLengthRemoved, MaxLengthIncreased, MaxLengthDecreased)
	bound(w, "minLength", o.minLength, u.minLength, cmpInt, MinLengthAdded, MinLengthRemoved, MinLengthIncreased, MinLengthDecreased)
	switch {
	case o.pattern == nil && u.pattern != nil:
		w.AddAt("pattern", PatternAdded)
	case o.pattern != nil && u.pattern == nil:
		w.AddAt("pattern", PatternRemoved)
	case o.pattern != nil && *o.pattern != *u.pattern:
		w.AddAt("pattern", PatternChanged)
	}
}

func numberDiff(w *schemadiff.Walk, o, u *node) {
	bound(w, "maximum", rat(o.maximum), rat(u.maximum), cmpRat, MaximumAdded, MaximumRemoved, MaximumIncreased, MaximumDecreased)
	bound(w, "minimum", rat(o.minimum), rat(u.minimum), cmpRat, MinimumAdded, MinimumRemoved, MinimumIncreased, MinimumDecreased)
	bound(w, "exclusiveMaximum", rat(o.exclMaximum), rat(u.exclMaximum), cmpRat, ExclusiveMaximumAdded, ExclusiveMaximumRemoved, ExclusiveMaximumIncreased, ExclusiveMaximumDecreased)
	bound(w, "exclusiveMinimum", rat(o.exclMinimum), rat(u.exclMinimum), cmpRat, ExclusiveMinimumAdded, ExclusiveMinimumRemoved, ExclusiveMinimumIncreased, ExclusiveMinimumDecreased)
	om, um := o.multipleOf, u.multipleOf
	switch {
	case om == nil && um == nil:
	case om == nil:
		w.AddAt("multipleOf", MultipleOfAdded)
	case um == nil:
		w.AddAt("multipleOf", MultipleOfRemoved)
	case om.Cmp(um) == 0:
	case om.Sign() != 0 && isMultiple(um, om):
		w.AddAt("multipleOf", MultipleOfExpanded)
	case um.Sign() != 0 && isMultiple(om, um):
		w.AddAt("multipleOf", MultipleOfReduced) // every multiple of om is one of um
	default:
		w.AddAt("multipleOf", MultipleOfChanged)
	}
	if o.integer != u.integer {
		if o.integer {
			w.Add(TypeExtended)
		} else {
			w.Add(TypeNarrowed)
		}
	}
}

// isMultiple reports whether a is an integer multiple of b (b not zero).
func isMultiple(a, b *big.Rat) bool {
	return new(big.Rat).Quo(a, b).IsInt()
}
