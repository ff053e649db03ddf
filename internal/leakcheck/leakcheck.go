// Package leakcheck lets the tests of kprod's plugin modules check that nothing of
// kprod runs once they closed what they started (architecture.md, convention 6).
package leakcheck

import (
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// kprodFrame matches a stack line of a function of kprod's modules (the core and the
// plugins), tests included.
var kprodFrame = regexp.MustCompile(`(?m)^(created by )?github\.com/kprod-io/kprod[./]`)

// NoKprodGoroutines waits up to 10 s for every goroutine running kprod's code, other
// than the caller's and the one running the tests, to end, and fails t with their stacks if some do not: a goroutine
// that signalled its end may still be unwinding, so only a leak uses up the deadline.
func NoKprodGoroutines(t testing.TB) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		left = left[:0]
		// runtime.Stack lists the caller's goroutine first.
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")[1:] {
			// The main goroutine runs the tests, through a kprod TestMain perhaps.
			if kprodFrame.MatchString(g) && !strings.Contains(g, "testing.(*M).Run(") {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
	}
	t.Fatalf("%d goroutine(s) of kprod left:\n%s", len(left), strings.Join(left, "\n\n"))
}
