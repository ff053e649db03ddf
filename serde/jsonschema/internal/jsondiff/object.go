package jsondiff

import (
	"slices"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"
)

// object compares two object schemas (Confluent's ObjectSchemaDiff).
func (c *cmp) object(w *schemadiff.Walk, o, u *node) {
	required(w, o, u)
	c.properties(w, o, u)
	c.dependencies(w, o, u)
	c.additionalProperties(w, o, u)
	c.unevaluated(w, "unevaluatedProperties", o.unevaluatedProp, u.unevaluatedProp, unevaluatedPropertiesKinds)
	bound(w, "maxProperties", o.maxProps, u.maxProps, cmpInt, MaxPropertiesAdded, MaxPropertiesRemoved, MaxPropertiesIncreased, MaxPropertiesDecreased)
	bound(w, "minProperties", o.minProps, u.minProps, cmpInt, MinPropertiesAdded, MinPropertiesRemoved, MinPropertiesIncreased, MinPropertiesDecreased)
}

func required(w *schemadiff.Walk, o, u *node) {
	leave := w.Enter("required")
	defer leave()
	for _, k := range sortedKeys(o.properties) {
		us, ok := u.properties[k]
		if !ok {
			continue
		}
		switch or, ur := o.required[k], u.required[k]; {
		case or && !ur:
			w.AddAt(escape(k), RequiredAttributeRemoved)
		case !or && ur && us.def != nil:
			w.AddAt(escape(k), RequiredAttributeWithDefaultAdded)
		case !or && ur:
			w.AddAt(escape(k), RequiredAttributeAdded)
		}
	}
}

// isOpen reports whether an object takes any other property: additionalProperties
// true or absent, no patternProperties, unevaluatedProperties true or absent.
func isOpen(n *node) bool {
	return !n.noAdditional && n.additional == nil && len(n.patternProps) == 0 &&
		(n.unevaluatedProp == nil || n.unevaluatedProp.kind == kindEmpty)
}

// partial returns the schema an object gives a property it does not declare, when
// it is neither open nor closed to it: a matching patternProperties schema, the
// additionalProperties schema, or the unevaluatedProperties schema.
func partial(n *node, key string) *node {
	for _, p := range n.patternProps {
		if p.re.MatchString(key) {
			return p.s
		}
	}
	if n.additional != nil {
		return n.additional
	}
	if !n.noAdditional && n.unevaluatedProp != nil && n.unevaluatedProp.kind != kindFalse && n.unevaluatedProp.kind != kindEmpty {
		return n.unevaluatedProp
	}
	return nil
}

func (c *cmp) properties(w *schemadiff.Walk, o, u *node) {
	leave := w.Enter("properties")
	defer leave()
	for _, k := range unionKeys(o.properties, u.properties) {
		back := w.Enter(escape(k))
		os, us := o.properties[k], u.properties[k]
		switch {
		case us == nil:
			// Only the reader's content model matters: can it take the property?
			switch p := partial(u, k); {
			case isOpen(u):
				w.Add(PropertyRemovedFromOpenContentModel)
			case p != nil:
				t := c.trial(w, os, p)
				w.AddAll(t.Differences())
				if t.Compatible() {
					w.Add(PropertyRemovedIsCoveredByPartiallyOpenModel)
				} else {
					w.Add(PropertyRemovedNotCoveredByPartiallyOpenModel)
				}
			case c.deref(c.w, os).kind == kindFalse:
				w.Add(PropertyWithFalseRemovedFromClosedContentModel)
			default:
				w.Add(PropertyRemovedFromClosedContentModel)
			}
		case os == nil:
			// Only the writer's content model matters: may it have written the property?
			if isOpen(o) {
				switch {
				case c.deref(c.r, us).kind == kindEmpty:
					w.Add(PropertyWithEmptySchemaAddedToOpenContentModel)
				case u.required[k] && us.def != nil:
					w.Add(RequiredPropertyWithDefaultAddedToOpenModel)
				case u.required[k]:
					w.Add(RequiredPropertyAddedToOpenContentModel)
				default:
					w.Add(OptionalPropertyAddedToOpenContentModel)
				}
			} else {
				if p := partial(o, k); p != nil {
					t := c.trial(w, p, us)
					w.AddAll(t.Differences())
					if t.Compatible() {
						w.Add(PropertyAddedIsCoveredByPartiallyOpenModel)
					} else {
						w.Add(PropertyAddedNotCoveredByPartiallyOpenModel)
					}
				}
				switch {
				case u.required[k] && us.def != nil:
					w.Add(RequiredPropertyWithDefaultAddedToUnopenModel)
				case u.required[k]:
					w.Add(RequiredPropertyAddedToUnopenContentModel)
				default:
					w.Add(OptionalPropertyAddedToUnopenContentModel)
				}
			}
		default:
			c.compare(w, os, us)
		}
		back()
	}
}

func (c *cmp) dependencies(w *schemadiff.Walk, o, u *node) {
	leave := w.Enter("dependencies")
	defer leave()
	for _, k := range unionKeys(o.propertyDeps, u.propertyDeps) {
		od, oOK := o.propertyDeps[k]
		ud, uOK := u.propertyDeps[k]
		switch os, us := set(od), set(ud); {
		case !uOK:
			w.AddAt(escape(k), DependencyArrayRemoved)
		case !oOK:
			w.AddAt(escape(k), DependencyArrayAdded)
		case equalSets(os, us):
		case containsAll(us, os):
			w.AddAt(escape(k), DependencyArrayExtended)
		case containsAll(os, us):
			w.AddAt(escape(k), DependencyArrayNarrowed)
		default:
			w.AddAt(escape(k), DependencyArrayChanged)
		}
	}
	for _, k := range unionKeys(o.schemaDeps, u.schemaDeps) {
		os, us := o.schemaDeps[k], u.schemaDeps[k]
		switch {
		case us == nil:
			w.AddAt(escape(k), DependencySchemaRemoved)
		case os == nil:
			w.AddAt(escape(k), DependencySchemaAdded)
		default:
			back := w.Enter(escape(k))
			c.compare(w, os, us)
			back()
		}
	}
}

func (c *cmp) additionalProperties(w *schemadiff.Walk, o, u *node) {
	leave := w.Enter("additionalProperties")
	defer leave()
	switch {
	case o.noAdditional != u.noAdditional:
		if u.noAdditional {
			w.Add(AdditionalPropertiesRemoved)
		} else {
			w.Add(AdditionalPropertiesAdded)
		}
	case o.additional == nil && u.additional != nil:
		w.Add(AdditionalPropertiesNarrowed)
	case o.additional != nil && u.additional == nil:
		w.Add(AdditionalPropertiesExtended)
	default:
		c.compare(w, o.additional, u.additional)
	}
}

// unevaluatedKinds names the changes of unevaluatedProperties or unevaluatedItems.
type unevaluatedKinds struct{ added, removed, extended, narrowed string }

var (
	unevaluatedPropertiesKinds = unevaluatedKinds{UnevaluatedPropertiesAdded, UnevaluatedPropertiesRemoved, UnevaluatedPropertiesExtended, UnevaluatedPropertiesNarrowed}
	unevaluatedItemsKinds      = unevaluatedKinds{UnevaluatedItemsAdded, UnevaluatedItemsRemoved, UnevaluatedItemsExtended, UnevaluatedItemsNarrowed}
)

// unevaluated compares unevaluatedProperties or unevaluatedItems: absent or true
// takes anything, false nothing, a schema what it accepts.
func (c *cmp) unevaluated(w *schemadiff.Walk, at string, ou, uu *node, k unevaluatedKinds) {
	if ou == nil && uu == nil {
		return
	}
	leave := w.Enter(at)
	defer leave()
	isFalse := func(n *node) bool { return n.kind == kindFalse }
	isEmpty := func(n *node) bool { return n.kind == kindEmpty }
	switch {
	case ou == nil && isFalse(uu):
		w.Add(k.removed)
	case ou == nil:
		w.Add(k.narrowed)
	case uu == nil && isFalse(ou):
		w.Add(k.added)
	case uu == nil:
		w.Add(k.extended)
	case isFalse(ou) && !isFalse(uu):
		w.Add(k.added)
	case !isFalse(ou) && isFalse(uu):
		w.Add(k.removed)
	case isEmpty(ou) && !isEmpty(uu):
		w.Add(k.narrowed)
	case !isEmpty(ou) && isEmpty(uu):
		w.Add(k.extended)
	default:
		c.compare(w, ou, uu)
	}
}

// unionKeys returns the keys of a and b, sorted so that the report is deterministic.
func unionKeys[V any](a, b map[string]V) []string {
	keys := sortedKeys(a)
	for _, k := range sortedKeys(b) {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
