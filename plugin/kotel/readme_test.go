package kotel_test

import (
	"testing"

	"github.com/kprod-io/kprod/internal/readmetest"
)

// TestREADMEProgramsCompile builds the README's programs that use this package: the
// core module's README test cannot, since OpenTelemetry is this module's dependency only.
func TestREADMEProgramsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	readmetest.BuildPluginPrograms(t, "github.com/kprod-io/kprod/plugin/kotel")
}
