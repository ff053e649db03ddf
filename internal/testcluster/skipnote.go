package testcluster

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// `go test ./...` shows nothing of a passing package but its "ok" line: skip messages
// are seen only with -v. A laptop without Kafka would so pass the suite without anyone
// learning that its real-Kafka tests never ran (issue 13 item 7). Main says so once.

// skips counts the tests skipped for lack of a cluster or registry, by what was absent.
var skips struct {
	mu  sync.Mutex
	why map[string]int
}

func recordSkip(what string) {
	skips.mu.Lock()
	defer skips.mu.Unlock()
	if skips.why == nil {
		skips.why = map[string]int{}
	}
	skips.why[what]++
}

// Main runs a package's tests (call it from TestMain) and, when some skipped because real
// Kafka or a schema registry was absent, says so once per `go test` run, even without
// -v: on the terminal (go test keeps a passing package's output to itself) or, without
// one, on stderr (seen with -v or when the package fails).
func Main(m *testing.M) {
	code := m.Run()
	if note := skippedNote(); note != "" && firstInRun() {
		tell(note)
	}
	os.Exit(code)
}

// skippedNote is the note on the skipped tests, "" when none skipped.
func skippedNote() string {
	skips.mu.Lock()
	defer skips.mu.Unlock()
	if len(skips.why) == 0 || Required() {
		return ""
	}
	var whats []string
	for what := range skips.why {
		whats = append(whats, what)
	}
	sort.Strings(whats)
	// One binary of the run tells, for all: it names what it missed, not counts.
	return fmt.Sprintf("kprod: tests that need %s were skipped: none is running here (go test -v lists them). "+
		"Run the full suite with scripts/test, which starts real Kafka and a schema registry, "+
		"or start them (scripts/kafka up --nodes 1, scripts/registry up) and run go test again.\n",
		strings.Join(whats, " or "))
}

// tell writes the note where the user sees it.
func tell(note string) {
	var w io.Writer = os.Stderr
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		w = tty
	}
	fmt.Fprint(w, note)
}

// firstInRun reports whether no other test binary of the same `go test` run (the same
// parent go command: packages run as parallel processes) has told already, by creating
// a marker named after the parent process (and its start time, against pid reuse).
func firstInRun() bool {
	dir := os.TempDir()
	ppid := os.Getppid()
	start := ""
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", ppid)); err == nil {
		// Field 22 is the start time; the command name (field 2) may hold spaces, so
		// count from the last ')'.
		if i := strings.LastIndexByte(string(stat), ')'); i >= 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 19 {
				start = f[19]
			}
		}
	}
	old, _ := filepath.Glob(filepath.Join(dir, "kprod-skipnote-*"))
	for _, f := range old {
		if fi, err := os.Stat(f); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.Remove(f) // a finished run's
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("kprod-skipnote-%d-%s", ppid, start)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return os.IsNotExist(err) // no temp dir to coordinate in: tell anyway
	}
	f.Close()
	return true
}
