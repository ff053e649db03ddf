package schemadiff_test

import (
	"errors"
	"testing"

	"github.com/kprod-io/kprod/serde/internal/schemadiff"
)

func TestWalk(t *testing.T) {
	w := schemadiff.NewWalk(schemadiff.Set("OK"))
	leave := w.Enter("#")
	w.Add("OK")
	back := w.Enter("properties")
	sub := w.Sub()
	sub.AddAt("a", "BAD")
	back()
	if sub.PathAtStart() != "#/properties" || sub.Compatible() {
		t.Fatalf("sub: %q %v", sub.PathAtStart(), sub.Compatible())
	}
	if !w.Compatible() {
		t.Fatal("a sub-walk's differences leaked into its parent")
	}
	rel := schemadiff.Relative(sub.Differences(), sub.PathAtStart())
	if rel[0].Path != "a" {
		t.Fatalf("relative path %q", rel[0].Path)
	}
	w.AddRebased(rel) // met again at #
	w.AddRebased([]schemadiff.Difference{{Kind: "BAD", Path: ""}})
	leave()
	var inc *schemadiff.Incompatibility
	if err := w.Err(); !errors.As(err, &inc) || err.Error() != "BAD at #/a (and 1 more)" || inc.Count != 2 {
		t.Fatalf("err = %v", err)
	}
	if ds := w.Differences(); ds[2].Path != "#" {
		t.Fatalf("rebased empty path = %q, want #", ds[2].Path)
	}
	if schemadiff.NewWalk(nil).Err() != nil {
		t.Fatal("an empty walk is compatible")
	}
}
