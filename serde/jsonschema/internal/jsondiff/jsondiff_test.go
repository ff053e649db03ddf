package jsondiff_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"
	"github.com/kprod-io/kprod/serde/jsonschema/internal/jsondiff"
)

func set(t testing.TB, text string, refs map[string]string) *jsondiff.Set {
	t.Helper()
	s, err := jsondiff.NewSet(text, refs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const customer = `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name"]}`

// Each case is a writer schema and a reader schema; want is the kind of the first
// incompatible difference, "" when the reader reads what the writer writes.
func TestCheckRules(t *testing.T) {
	for _, tc := range []struct {
		name, writer, reader, want string
	}{
		{"identical", customer, customer, ""},
		{"annotations", `{"type":"string","title":"a","description":"x","default":"d","$id":"http://a"}`, `{"type":"string","title":"b","default":"e"}`, ""},
		{"type changed", `{"type":"string"}`, `{"type":"integer"}`, jsondiff.TypeChanged},
		{"integer to number", `{"type":"integer"}`, `{"type":"number"}`, ""},
		{"number to integer", `{"type":"number"}`, `{"type":"integer"}`, jsondiff.TypeNarrowed},
		{"reader takes anything", `{"type":"string"}`, `{}`, ""},
		{"reader true", `{"type":"string"}`, `true`, ""},
		{"writer false", `false`, `{"type":"string"}`, ""},
		{"anything to string", `{}`, `{"type":"string"}`, jsondiff.TypeChanged},
		{"maxLength increased", `{"type":"string","maxLength":5}`, `{"type":"string","maxLength":9}`, ""},
		{"maxLength decreased", `{"type":"string","maxLength":9}`, `{"type":"string","maxLength":5}`, jsondiff.MaxLengthDecreased},
		{"maxLength added", `{"type":"string"}`, `{"type":"string","maxLength":5}`, jsondiff.MaxLengthAdded},
		{"minLength removed", `{"type":"string","minLength":2}`, `{"type":"string"}`, ""},
		{"minLength increased", `{"type":"string","minLength":2}`, `{"type":"string","minLength":3}`, jsondiff.MinLengthIncreased},
		{"pattern removed", `{"type":"string","pattern":"^a"}`, `{"type":"string"}`, ""},
		{"pattern changed", `{"type":"string","pattern":"^a"}`, `{"type":"string","pattern":"^b"}`, jsondiff.PatternChanged},
		{"maximum increased", `{"type":"number","maximum":10}`, `{"type":"number","maximum":10.5}`, ""},
		{"maximum decreased", `{"type":"number","maximum":10}`, `{"type":"number","maximum":9}`, jsondiff.MaximumDecreased},
		{"minimum added", `{"type":"number"}`, `{"type":"number","minimum":0}`, jsondiff.MinimumAdded},
		{"exclusiveMinimum decreased", `{"type":"number","exclusiveMinimum":1}`, `{"type":"number","exclusiveMinimum":0}`, ""},
		{"multipleOf reduced", `{"type":"number","multipleOf":4}`, `{"type":"number","multipleOf":2}`, ""},
		{"multipleOf expanded", `{"type":"number","multipleOf":2}`, `{"type":"number","multipleOf":4}`, jsondiff.MultipleOfExpanded},
		{"multipleOf equal decimals", `{"type":"number","multipleOf":0.5}`, `{"type":"number","multipleOf":0.50}`, ""},
		{"enum extended", `{"enum":["a","b"]}`, `{"enum":["a","b","c"]}`, ""},
		{"enum narrowed", `{"enum":["a","b"]}`, `{"enum":["a"]}`, jsondiff.EnumArrayNarrowed},
		{"const changed", `{"const":1}`, `{"const":2}`, jsondiff.EnumArrayChanged},
		{"property removed from open", customer, `{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`, ""},
		{"property removed from closed", `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"additionalProperties":false}`,
			`{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`, jsondiff.PropertyRemovedFromClosedContentModel},
		{"property removed, covered by additional schema", `{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"string"}}`,
			`{"type":"object","additionalProperties":{"type":"string"}}`, ""},
		{"property removed, not covered", `{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}}`,
			`{"type":"object","additionalProperties":{"type":"string"}}`, jsondiff.TypeChanged},
		{"optional property added to open", customer, `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"email":{"type":"string"}},"required":["name"]}`, jsondiff.OptionalPropertyAddedToOpenContentModel},
		{"empty property added to open", customer, `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"email":{}},"required":["name"]}`, ""},
		{"optional property added to closed", `{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`,
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"additionalProperties":false}`, ""},
		{"required property added to closed", `{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`,
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["b"],"additionalProperties":false}`, jsondiff.RequiredPropertyAddedToUnopenContentModel},
		{"required property with default added to closed", `{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`,
			`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string","default":"x"}},"required":["b"],"additionalProperties":false}`, ""},
		{"required removed", customer, `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}}}`, ""},
		{"required added", customer, `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"]}`, jsondiff.RequiredAttributeAdded},
		{"property type changed", customer, `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"string"}},"required":["name"]}`, jsondiff.TypeChanged},
		{"additionalProperties false added", `{"type":"object"}`, `{"type":"object","additionalProperties":false}`, jsondiff.AdditionalPropertiesRemoved},
		{"additionalProperties false removed", `{"type":"object","additionalProperties":false}`, `{"type":"object"}`, ""},
		{"additionalProperties narrowed", `{"type":"object"}`, `{"type":"object","additionalProperties":{"type":"string"}}`, jsondiff.AdditionalPropertiesNarrowed},
		{"maxProperties added", `{"type":"object"}`, `{"type":"object","maxProperties":3}`, jsondiff.MaxPropertiesAdded},
		{"dependency narrowed", `{"type":"object","dependencies":{"a":["b","c"]}}`, `{"type":"object","dependencies":{"a":["b"]}}`, ""},
		{"dependency extended", `{"type":"object","dependencies":{"a":["b"]}}`, `{"type":"object","dependencies":{"a":["b","c"]}}`, jsondiff.DependencyArrayExtended},
		{"items changed", `{"type":"array","items":{"type":"string"}}`, `{"type":"array","items":{"type":"integer"}}`, jsondiff.TypeChanged},
		{"items added", `{"type":"array"}`, `{"type":"array","items":{"type":"string"}}`, jsondiff.SchemaAdded},
		{"items removed", `{"type":"array","items":{"type":"string"}}`, `{"type":"array"}`, ""},
		{"maxItems decreased", `{"type":"array","maxItems":3}`, `{"type":"array","maxItems":2}`, jsondiff.MaxItemsDecreased},
		{"uniqueItems added", `{"type":"array"}`, `{"type":"array","uniqueItems":true}`, jsondiff.UniqueItemsAdded},
		{"tuple item added to closed", `{"type":"array","items":[{"type":"string"}],"additionalItems":false}`, `{"type":"array","items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}`, ""},
		{"tuple item added to open", `{"type":"array","items":[{"type":"string"}]}`, `{"type":"array","items":[{"type":"string"},{"type":"integer"}]}`, jsondiff.ItemAddedToOpenContentModel},
		{"tuple item removed from closed", `{"type":"array","items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}`, `{"type":"array","items":[{"type":"string"}],"additionalItems":false}`, jsondiff.ItemRemovedFromClosedContentModel},
		{"nullable added", `{"type":"string"}`, `{"type":["string","null"]}`, ""},
		{"nullable removed", `{"type":["string","null"]}`, `{"type":"string"}`, jsondiff.TypeChanged},
		{"oneOf null added (Java's nullable)", `{"type":"string"}`, `{"oneOf":[{"type":"null"},{"type":"string"}]}`, ""},
		{"anyOf extended", `{"anyOf":[{"type":"string"}]}`, `{"anyOf":[{"type":"string"},{"type":"integer"}]}`, ""},
		{"anyOf narrowed", `{"anyOf":[{"type":"string"},{"type":"integer"}]}`, `{"anyOf":[{"type":"string"}]}`, jsondiff.SumTypeNarrowed},
		{"oneOf to anyOf", `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, `{"anyOf":[{"type":"string"},{"type":"integer"}]}`, ""},
		{"anyOf to oneOf", `{"anyOf":[{"type":"string"},{"type":"integer"}]}`, `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, jsondiff.CombinedTypeChanged},
		{"subschema changed", `{"anyOf":[{"type":"string"},{"type":"integer"}]}`, `{"anyOf":[{"type":"string"},{"type":"boolean"}]}`, jsondiff.CombinedTypeSubschemasChanged},
		{"allOf member dropped by reader", `{"allOf":[{"type":"string"},{"maxLength":3}]}`, `{"type":"string"}`, ""},
		{"not narrowed", `{"not":{"type":"string"}}`, `{"not":{"enum":["x"]}}`, jsondiff.NotTypeExtended},
		{"not widened reader", `{"not":{"type":"string","maxLength":3}}`, `{"not":{"type":"string","maxLength":2}}`, ""},
		{"prefixItems changed", `{"type":"array","prefixItems":[{"type":"string"}]}`, `{"type":"array","prefixItems":[{"type":"number"}]}`, jsondiff.TypeChanged},
		{"prefixItems item covered by unevaluatedItems", `{"type":"array","prefixItems":[{"type":"string"},{"type":"string"}],"unevaluatedItems":{"type":"string"}}`,
			`{"type":"array","prefixItems":[{"type":"string"}],"unevaluatedItems":{"type":"string"}}`, ""},
		{"prefixItems item not covered", `{"type":"array","prefixItems":[{"type":"string"},{"type":"number"}],"items":{"type":"string"}}`,
			`{"type":"array","prefixItems":[{"type":"string"}],"items":{"type":"string"}}`, jsondiff.TypeChanged},
		{"dependentRequired extended", `{"type":"object","dependentRequired":{"a":["b"]}}`, `{"type":"object","dependentRequired":{"a":["b","c"]}}`, jsondiff.DependencyArrayExtended},
		{"dependentSchemas removed", `{"type":"object","dependentSchemas":{"a":{"required":["b"]}}}`, `{"type":"object"}`, ""},
		{"minContains increased", `{"type":"array","contains":{"type":"number"},"minContains":1}`, `{"type":"array","contains":{"type":"number"},"minContains":2}`, jsondiff.MinContainsIncreased},
		{"unevaluatedProperties false added", `{"type":"object","properties":{"a":{}}}`, `{"type":"object","properties":{"a":{}},"unevaluatedProperties":false}`, jsondiff.UnevaluatedPropertiesRemoved},
		{"local ref", `{"definitions":{"A":{"type":"string"}},"type":"object","properties":{"a":{"$ref":"#/definitions/A"}}}`,
			`{"$defs":{"A":{"type":"integer"}},"type":"object","properties":{"a":{"$ref":"#/$defs/A"}}}`, jsondiff.TypeChanged},
		{"recursive compatible", `{"$defs":{"N":{"type":"object","properties":{"next":{"$ref":"#/$defs/N"},"v":{"type":"integer"}}}},"$ref":"#/$defs/N"}`,
			`{"$defs":{"N":{"type":"object","properties":{"next":{"$ref":"#/$defs/N"},"v":{"type":"number"}}}},"$ref":"#/$defs/N"}`, ""},
		{"recursive incompatible", `{"type":"object","properties":{"next":{"$ref":"#"},"v":{"type":"integer"}}}`,
			`{"type":"object","properties":{"next":{"$ref":"#"},"v":{"type":"string"}}}`, jsondiff.TypeChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, r := set(t, tc.writer, nil), set(t, tc.reader, nil)
			err := jsondiff.Check(w, r)
			var inc *schemadiff.Incompatibility
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want compatible, got %v", err)
			case tc.want != "" && (!errors.As(err, &inc) || inc.Kind != tc.want):
				walk, _ := jsondiff.Compare(w, r)
				var all []schemadiff.Difference
				if walk != nil {
					all = walk.Differences()
				}
				t.Fatalf("want %s, got %v (all: %+v)", tc.want, err, all)
			}
		})
	}
}

// A "$ref" to another subject's schema is followed by its reference name.
func TestCheckReferences(t *testing.T) {
	main := `{"type":"object","properties":{"address":{"$ref":"address.json"}}}`
	w := set(t, main, map[string]string{"address.json": `{"type":"object","properties":{"street":{"type":"string"}}}`})
	ok := set(t, main, map[string]string{"address.json": `{"type":"object","properties":{"street":{"type":"string"}},"title":"Address"}`})
	bad := set(t, main, map[string]string{"address.json": `{"type":"object","properties":{"street":{"type":"integer"}}}`})
	if err := jsondiff.Check(w, ok); err != nil {
		t.Fatal(err)
	}
	err := jsondiff.Check(w, bad)
	if err == nil || err.Error() != "TYPE_CHANGED at #/properties/address/properties/street" {
		t.Fatalf("got %v", err)
	}
	if err := jsondiff.Check(w, set(t, main, nil)); err == nil || !strings.Contains(err.Error(), "address.json") {
		t.Fatalf("unresolvable $ref: %v", err)
	}
}

func TestErrorNamesProperty(t *testing.T) {
	err := jsondiff.Check(set(t, customer, nil), set(t, `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"string"}},"required":["name"]}`, nil))
	if err == nil || err.Error() != "TYPE_CHANGED at #/properties/age" {
		t.Fatalf("got %v", err)
	}
}

// Nested anyOfs compare every subschema with every other at each level: a hostile
// pair ends with an error, not an endless walk.
func TestCheckBoundedWork(t *testing.T) {
	nest := func(leaf string) string {
		s := leaf
		for range 7 {
			s = `{"anyOf":[` + strings.ReplaceAll(`{"title":"A","allOf":[S]},{"title":"B","allOf":[S]},{"title":"C","allOf":[S]}`, "S", s) + `]}`
		}
		return s
	}
	err := jsondiff.Check(set(t, nest(`{"type":"string"}`), nil), set(t, nest(`{"type":"integer"}`), nil))
	var inc *schemadiff.Incompatibility
	if err == nil || errors.As(err, &inc) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("got %v, want the work bound's error", err)
	}
}
