package jsondiff

import (
	"strconv"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"
)

// combined compares two allOf/anyOf/oneOf schemas (Confluent's CombinedSchemaDiff):
// the criteria, then a largest matching of the writer's subschemas to reader's
// subschemas that can read them, which must cover the smaller side.
func (c *cmp) combined(w *schemadiff.Walk, o, u *node) {
	if o.criterion != u.criterion {
		os, us := len(o.subs) == 1, len(u.subs) == 1
		if u.criterion == "anyOf" || (os && us) || (os && u.criterion == "oneOf") || (us && o.criterion == "allOf") {
			w.Add(CombinedTypeExtended)
		} else {
			w.Add(CombinedTypeChanged)
			return
		}
	}
	osubs, usubs := o.subs, u.subs // equal subschemas were dropped by parse
	switch {
	case len(osubs) < len(usubs):
		if u.criterion == "allOf" {
			w.Add(ProductTypeExtended)
		} else {
			w.Add(SumTypeExtended)
		}
	case len(osubs) > len(usubs):
		if o.criterion == "anyOf" || o.criterion == "oneOf" {
			w.Add(SumTypeNarrowed)
		} else {
			w.Add(ProductTypeNarrowed)
		}
	}

	// edges[i][j]: the differences when reader subschema j reads writer subschema i,
	// present only when compatible.
	edges := make([]map[int][]schemadiff.Difference, len(osubs))
	for i, os := range osubs {
		leave := w.Enter(o.criterion + "/" + strconv.Itoa(i))
		edges[i] = map[int][]schemadiff.Difference{}
		for j, us := range usubs {
			if t := c.trial(w, os, us); t.Compatible() {
				edges[i][j] = t.Differences()
			}
		}
		leave()
	}
	match := maxMatching(edges, len(usubs))
	matched := 0
	for j, i := range match {
		if i >= 0 {
			matched++
			w.AddAll(edges[i][j])
		}
	}
	if matched < min(len(osubs), len(usubs)) {
		w.Add(CombinedTypeSubschemasChanged)
	}
}

// maxMatching returns a maximum bipartite matching of left vertices (edges' rows)
// to right vertices 0..right-1, by augmenting paths (Kuhn's algorithm): match[j] is
// the left vertex matched to j, -1 for none.
func maxMatching(edges []map[int][]schemadiff.Difference, right int) []int {
	match := make([]int, right)
	for j := range match {
		match[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := 0; j < right; j++ {
			if _, ok := edges[i][j]; !ok || seen[j] {
				continue
			}
			seen[j] = true
			if match[j] < 0 || try(match[j], seen) {
				match[j] = i
				return true
			}
		}
		return false
	}
	for i := range edges {
		try(i, make([]bool, right))
	}
	return match
}
