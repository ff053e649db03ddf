package jsondiff

import (
	"strconv"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"
)

// array compares two array schemas (Confluent's ArraySchemaDiff).
func (c *cmp) array(w *schemadiff.Walk, o, u *node) {
	leave := w.Enter("items")
	c.compare(w, o.items, u.items)
	leave()
	c.itemList(w, o, u)
	c.additionalItems(w, o, u)
	c.unevaluated(w, "unevaluatedItems", o.unevaluatedIt, u.unevaluatedIt, unevaluatedItemsKinds)
	bound(w, "maxItems", o.maxItems, u.maxItems, cmpInt, MaxItemsAdded, MaxItemsRemoved, MaxItemsIncreased, MaxItemsDecreased)
	bound(w, "minItems", o.minItems, u.minItems, cmpInt, MinItemsAdded, MinItemsRemoved, MinItemsIncreased, MinItemsDecreased)
	bound(w, "maxContains", o.maxContains, u.maxContains, cmpInt, MaxContainsAdded, MaxContainsRemoved, MaxContainsIncreased, MaxContainsDecreased)
	bound(w, "minContains", o.minContains, u.minContains, cmpInt, MinContainsAdded, MinContainsRemoved, MinContainsIncreased, MinContainsDecreased)
	if o.unique != u.unique {
		if o.unique {
			w.AddAt("uniqueItems", UniqueItemsRemoved)
		} else {
			w.AddAt("uniqueItems", UniqueItemsAdded)
		}
	}
}

// isOpenArray reports whether a tuple takes any item past its own:
// additionalItems true or absent, and unevaluatedItems true or absent.
func isOpenArray(n *node) bool {
	return !n.noAdditionalIt && n.additionalIt == nil && (n.unevaluatedIt == nil || n.unevaluatedIt.kind == kindEmpty)
}

// partialArray returns the schema a tuple gives items past its own when it is
// neither open nor closed to them: additionalItems's, else unevaluatedItems's.
func partialArray(n *node) *node {
	if n.additionalIt != nil {
		return n.additionalIt
	}
	if !n.noAdditionalIt && n.unevaluatedIt != nil && n.unevaluatedIt.kind != kindFalse && n.unevaluatedIt.kind != kindEmpty {
		return n.unevaluatedIt
	}
	return nil
}

// itemList compares tuple items position by position; items past the shorter tuple
// are judged against the other side's additionalItems.
func (c *cmp) itemList(w *schemadiff.Walk, o, u *node) {
	n := max(len(o.itemList), len(u.itemList))
	for i := range n {
		leave := w.Enter("items/" + strconv.Itoa(i))
		switch {
		case i < len(o.itemList) && i < len(u.itemList):
			c.compare(w, o.itemList[i], u.itemList[i])
		case i < len(o.itemList):
			os := o.itemList[i]
			switch {
			case isOpenArray(u):
				w.Add(ItemRemovedFromOpenContentModel)
			case partialArray(u) != nil:
				t := c.trial(w, os, partialArray(u))
				w.AddAll(t.Differences())
				if t.Compatible() {
					w.Add(ItemRemovedIsCoveredByPartiallyOpenModel)
				} else {
					w.Add(ItemRemovedNotCoveredByPartiallyOpenModel)
				}
			case c.deref(c.w, os).kind == kindFalse:
				w.Add(ItemWithFalseRemovedFromClosedContentModel)
			default:
				w.Add(ItemRemovedFromClosedContentModel)
			}
		default:
			us := u.itemList[i]
			switch {
			case isOpenArray(o):
				if c.deref(c.r, us).kind == kindEmpty {
					w.Add(ItemWithEmptySchemaAddedToOpenContentModel)
				} else {
					w.Add(ItemAddedToOpenContentModel)
				}
			case partialArray(o) != nil:
				t := c.trial(w, partialArray(o), us)
				w.AddAll(t.Differences())
				if t.Compatible() {
					w.Add(ItemAddedIsCoveredByPartiallyOpenModel)
				} else {
					w.Add(ItemAddedNotCoveredByPartiallyOpenModel)
				}
			default:
				w.Add(ItemAddedToClosedContentModel)
			}
		}
		leave()
	}
}

func (c *cmp) additionalItems(w *schemadiff.Walk, o, u *node) {
	leave := w.Enter("additionalItems")
	defer leave()
	switch {
	case o.noAdditionalIt != u.noAdditionalIt:
		if o.noAdditionalIt {
			w.Add(AdditionalItemsAdded)
		} else {
			w.Add(AdditionalItemsRemoved)
		}
	case o.additionalIt == nil && u.additionalIt != nil:
		w.Add(AdditionalItemsNarrowed)
	case o.additionalIt != nil && u.additionalIt == nil:
		w.Add(AdditionalItemsExtended)
	default:
		c.compare(w, o.additionalIt, u.additionalIt)
	}
}
