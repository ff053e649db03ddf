package jsondiff

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Keywords that make a schema without "type" one of that type, as Everit's loader
// infers it.
var (
	stringKeywords = []string{"minLength", "maxLength", "pattern", "format"}
	numberKeywords = []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
	objectKeywords = []string{"properties", "required", "additionalProperties", "patternProperties",
		"minProperties", "maxProperties", "dependencies", "propertyNames", "unevaluatedProperties",
		"dependentRequired", "dependentSchemas"}
	arrayKeywords = []string{"items", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains",
		"prefixItems", "unevaluatedItems", "minContains", "maxContains"}
)

// parse builds the node of the schema v found at ptr in d. A schema that is several
// things at once (a type and an enum, two types, allOf beside anyOf) is an allOf of
// them, as in Everit's loader; "$ref" stands alone, its siblings ignored (drafts 4
// to 7).
func (d *doc) parse(v any, ptr string) *node {
	key := d.name + "#" + ptr
	if n, ok := d.set.nodes[key]; ok {
		return n
	}
	n := &node{}
	d.set.nodes[key] = n
	switch v := v.(type) {
	case bool:
		if !v {
			n.kind = kindFalse
		}
		return n
	case map[string]any:
		d.fill(n, v, ptr)
	default:
		n.kind = kindEmpty // not a schema: Confluent's registry refuses it; nothing to compare
	}
	return n
}

func (d *doc) fill(n *node, m map[string]any, ptr string) {
	n.id, n.title, n.description = str(m, "$id"), str(m, "title"), str(m, "description")
	if n.id == nil {
		n.id = str(m, "id")
	}
	if def, ok := m["default"]; ok {
		c := canonical(def)
		n.def = &c
	}
	if ref, ok := m["$ref"].(string); ok {
		n.kind, n.ref, n.base = kindRef, ref, d
		return
	}
	var facets []*node
	if types := typeList(m); types != nil {
		var typed []*node
		for _, t := range types {
			if f := d.typed(t, m, ptr); f != nil {
				typed = append(typed, f)
			}
		}
		switch len(typed) {
		case 0:
		case 1:
			facets = append(facets, typed...)
		default:
			facets = append(facets, &node{kind: kindCombined, criterion: "anyOf", subs: typed})
		}
	} else {
		for _, t := range []string{"object", "array", "number", "string"} {
			kws := map[string][]string{"object": objectKeywords, "array": arrayKeywords, "number": numberKeywords, "string": stringKeywords}[t]
			if hasAny(m, kws) {
				facets = append(facets, d.typed(t, m, ptr))
			}
		}
	}
	if e, ok := m["enum"].([]any); ok {
		f := &node{kind: kindEnum}
		for _, v := range e {
			f.values = append(f.values, canonical(v))
		}
		facets = append(facets, f)
	}
	if c, ok := m["const"]; ok {
		facets = append(facets, &node{kind: kindConst, values: []string{canonical(c)}})
	}
	for _, crit := range []string{"allOf", "anyOf", "oneOf"} {
		if subs, ok := m[crit].([]any); ok {
			f := &node{kind: kindCombined, criterion: crit}
			seen := map[string]bool{}
			for i, s := range subs {
				// Equal subschemas count once, as in Confluent's set of them.
				if c := canonical(s); !seen[c] {
					seen[c] = true
					f.subs = append(f.subs, d.parse(s, ptr+"/"+crit+"/"+itoa(i)))
				}
			}
			facets = append(facets, f)
		}
	}
	if not, ok := m["not"]; ok {
		facets = append(facets, &node{kind: kindNot, not: d.parse(not, ptr+"/not")})
	}
	switch len(facets) {
	case 0:
		n.kind = kindEmpty
	case 1:
		f := facets[0]
		f.id, f.title, f.description, f.def = n.id, n.title, n.description, n.def
		*n = *f
	default:
		n.kind, n.criterion, n.subs = kindCombined, "allOf", facets
	}
}

// typeList returns the "type" keyword as a list, nil when absent.
func typeList(m map[string]any) []string {
	switch t := m["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		if out == nil {
			return []string{}
		}
		return out
	}
	return nil
}

// typed builds the schema of one type from the keywords of m that apply to it.
func (d *doc) typed(t string, m map[string]any, ptr string) *node {
	n := &node{}
	switch t {
	case "null":
		n.kind = kindNull
	case "boolean":
		n.kind = kindBoolean
	case "string":
		n.kind = kindString
		n.minLength, n.maxLength, n.pattern = integer(m, "minLength"), integer(m, "maxLength"), str(m, "pattern")
	case "integer", "number":
		n.kind = kindNumber
		n.integer = t == "integer"
		n.minimum, n.maximum, n.multipleOf = number(m, "minimum"), number(m, "maximum"), number(m, "multipleOf")
		n.exclMinimum, n.exclMaximum = number(m, "exclusiveMinimum"), number(m, "exclusiveMaximum")
	case "object":
		n.kind = kindObject
		d.object(n, m, ptr)
	case "array":
		n.kind = kindArray
		d.array(n, m, ptr)
	default:
		return nil
	}
	return n
}

func (d *doc) object(n *node, m map[string]any, ptr string) {
	n.properties = map[string]*node{}
	if props, ok := m["properties"].(map[string]any); ok {
		for k, v := range props {
			n.properties[k] = d.parse(v, ptr+"/properties/"+escape(k))
		}
	}
	n.required = map[string]bool{}
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if s, ok := r.(string); ok {
				n.required[s] = true
			}
		}
	}
	switch a := m["additionalProperties"].(type) {
	case bool:
		n.noAdditional = !a
	case map[string]any:
		n.additional = d.parse(a, ptr+"/additionalProperties")
	}
	if pp, ok := m["patternProperties"].(map[string]any); ok {
		for _, k := range sortedKeys(pp) {
			re, err := regexp.Compile(k)
			if err != nil {
				continue // not an RE2 pattern: it covers no property here
			}
			n.patternProps = append(n.patternProps, patternProp{re: re, s: d.parse(pp[k], ptr+"/patternProperties/"+escape(k))})
		}
	}
	n.minProps, n.maxProps = integer(m, "minProperties"), integer(m, "maxProperties")
	n.propertyDeps, n.schemaDeps = map[string][]string{}, map[string]*node{}
	// dependencies (drafts 4 to 7) is split in 2019-09 into dependentRequired (the
	// arrays) and dependentSchemas; the model holds both the same way.
	deps := map[string]any{}
	for _, kw := range []string{"dependencies", "dependentRequired", "dependentSchemas"} {
		if m, ok := m[kw].(map[string]any); ok {
			for k, v := range m {
				deps[k] = v
			}
		}
	}
	{
		for k, v := range deps {
			if arr, ok := v.([]any); ok {
				names := []string{}
				for _, e := range arr {
					if s, ok := e.(string); ok {
						names = append(names, s)
					}
				}
				n.propertyDeps[k] = names
			} else {
				n.schemaDeps[k] = d.parse(v, ptr+"/dependentSchemas/"+escape(k))
			}
		}
	}
	if u, ok := m["unevaluatedProperties"]; ok {
		n.unevaluatedProp = d.parse(u, ptr+"/unevaluatedProperties")
	}
}

func (d *doc) array(n *node, m map[string]any, ptr string) {
	additional := "additionalItems"
	if prefix, ok := m["prefixItems"].([]any); ok {
		// 2020-12: prefixItems is the tuple, and items what follows it.
		for i, s := range prefix {
			n.itemList = append(n.itemList, d.parse(s, ptr+"/prefixItems/"+itoa(i)))
		}
		additional = "items"
	} else {
		switch it := m["items"].(type) {
		case []any:
			for i, s := range it {
				n.itemList = append(n.itemList, d.parse(s, ptr+"/items/"+itoa(i)))
			}
		case nil:
		default:
			n.items = d.parse(it, ptr+"/items")
		}
	}
	switch a := m[additional].(type) {
	case bool:
		n.noAdditionalIt = !a
	case map[string]any:
		n.additionalIt = d.parse(a, ptr+"/"+additional)
	}
	if u, ok := m["unevaluatedItems"]; ok {
		n.unevaluatedIt = d.parse(u, ptr+"/unevaluatedItems")
	}
	n.minContains, n.maxContains = integer(m, "minContains"), integer(m, "maxContains")
	n.minItems, n.maxItems = integer(m, "minItems"), integer(m, "maxItems")
	n.unique, _ = m["uniqueItems"].(bool)
}

func hasAny(m map[string]any, kws []string) bool {
	for _, k := range kws {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

func str(m map[string]any, k string) *string {
	if s, ok := m[k].(string); ok {
		return &s
	}
	return nil
}

// maxCount caps counts (minLength, maxItems, ...) so that a huge one compares sanely.
const maxCount = 1 << 40

func integer(m map[string]any, k string) *int {
	r := number(m, k)
	if r == nil {
		return nil
	}
	f, _ := r.Float64()
	i := int(min(max(f, -maxCount), maxCount))
	return &i
}

func number(m map[string]any, k string) *big.Rat {
	n, ok := m[k].(json.Number)
	if !ok || len(n) > 400 {
		return nil
	}
	if i := strings.IndexAny(string(n), "eE"); i >= 0 {
		// big.Rat would build 10^exp exactly: refuse exponents no schema needs.
		if e, err := strconv.Atoi(string(n[i+1:])); err != nil || e > 400 || e < -400 {
			return nil
		}
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return nil
	}
	return r
}

func escape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

func itoa(i int) string { return strconv.Itoa(i) }
