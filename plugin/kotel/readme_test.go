package kotel_test

import (
	"os"
	"testing"

	"github.com/kprod-io/kprod/internal/readmetest"
)

// TestREADMEProgramsCompile builds the README's programs that use this package: the
// core module's README test cannot, since OpenTelemetry is this module's dependency
// only.
func TestREADMEProgramsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	var programs []string
	for _, code := range readmetest.GoBlocks(t, "../../README.md") {
		for _, pkg := range readmetest.Plugins(code) {
			if pkg == "github.com/kprod-io/kprod/plugin/kotel" && readmetest.IsProgram(code) {
				programs = append(programs, code)
			}
		}
	}
	if len(programs) == 0 {
		t.Fatal("found no README program using kotel: the tracing one at least")
	}
	readmetest.BuildPrograms(t, dir, programs)
}
