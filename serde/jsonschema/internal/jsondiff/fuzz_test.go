package jsondiff_test

import (
	"errors"
	"testing"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"

	"github.com/kprod-io/kprod/serde/jsonschema/internal/jsondiff"
)

// FuzzCompare compares arbitrary pairs of JSON texts as schemas: the walk must end
// without a panic, and a schema must be compatible with itself.
func FuzzCompare(f *testing.F) {
	f.Add(customer, `{"type":["object","null"],"properties":{"name":{"type":"string","maxLength":3}}}`)
	f.Add(`{"type":"object","properties":{"n":{"$ref":"#"}},"additionalProperties":{"$ref":"#/properties/n"}}`, `{"$ref":"#/definitions/x","definitions":{"x":{"$ref":"#"}}}`)
	f.Add(`{"anyOf":[{"allOf":[{"type":"string"},{"enum":["a",1]}]},{"not":{"const":null}}]}`, `{"oneOf":[{"type":"array","items":[{},false],"additionalItems":{"type":"integer"}}]}`)
	f.Add(`{"type":"number","multipleOf":1e-400,"maximum":1e400}`, `{"type":"integer","multipleOf":0,"patternProperties":{"(":{}}}`)
	f.Fuzz(func(t *testing.T, a, b string) {
		w, err := jsondiff.NewSet(a, nil)
		if err != nil {
			return
		}
		r, err := jsondiff.NewSet(b, nil)
		if err != nil {
			return
		}
		jsondiff.Compare(w, r)
		jsondiff.Compare(r, w)
		var inc *schemadiff.Incompatibility
		if err := jsondiff.Check(w, w); errors.As(err, &inc) {
			t.Fatalf("a schema incompatible with itself: %v", err)
		}
	})
}
