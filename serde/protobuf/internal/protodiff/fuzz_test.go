package protodiff_test

import (
	"testing"

	"github.com/kprod-io/kprod/serde/protobuf/internal/protodiff"
)

// FuzzCompare compares arbitrary pairs of .proto texts that parse: the walk must end
// without a panic, and a schema must be compatible with itself.
func FuzzCompare(f *testing.F) {
	f.Add(p3+`message C { string a = 1; }`, p3+`message C { int64 a = 1; }`)
	f.Add(p3+`message N { N n = 1; map<string, N> m = 2; oneof o { N x = 3; string y = 4; } }`, p3+`message N { oneof o { N n = 1; N x = 3; } }`)
	f.Add(`syntax = "proto2"; message A { required group G = 1 { optional int32 x = 2; } }`, `syntax = "proto2"; message A { optional A.G g = 1; message G {} }`)
	f.Add(p3+`enum E { A = 0; } message M { message E2 { E e = 1; } repeated E2 e = 1; }`, p3+`message M { .shop.M m = 1; }`)
	f.Fuzz(func(t *testing.T, a, b string) {
		wa, err := tryParse("a.proto", a)
		if err != nil {
			return
		}
		wb, err := tryParse("b.proto", b)
		if err != nil {
			return
		}
		w, r := protodiff.Files{Main: wa}, protodiff.Files{Main: wb}
		protodiff.Compare(w, r)
		protodiff.Compare(r, w)
		if err := protodiff.Check(w, w); err != nil {
			t.Fatalf("a schema incompatible with itself: %v", err)
		}
	})
}
