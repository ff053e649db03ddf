package jaas

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/testcluster"
)

// TestRealJaasMatchesJava has Kafka's own Java client parse every value of javaCases
// and a few hundred random ones built from the grammar's pieces, and requires Parse to
// agree on each: the same module, flag and options, or the same error.
func TestRealJaasMatchesJava(t *testing.T) {
	c := testcluster.RealVersion(t, 1, "4.") // for its jars only
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	inputs := randomConfigs(rand.New(rand.NewPCG(seed, 7)), 400)
	for _, jc := range javaCases {
		inputs = append(inputs, jc.in)
	}
	for _, in := range inputs {
		if strings.Contains(in, "\n%%%%\n") {
			t.Fatalf("input %q holds the separator", in)
		}
	}
	dir := t.TempDir()
	casesFile := filepath.Join(dir, "cases.txt")
	if err := os.WriteFile(casesFile, []byte(strings.Join(inputs, "\n%%%%\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := filepath.Abs(filepath.Join("testdata", "JaasOracle.java"))
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, err := c.Java("", src, casesFile)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(inputs) {
		t.Fatalf("Java printed %d results for %d inputs:\n%s", len(lines), len(inputs), stderr)
	}
	agreed := 0
	for i, in := range inputs {
		got, want := describe(Parse(in)), lines[i]
		if want == `ERR "null"` && strings.Contains(got, "class name missing") {
			want = got // see javaNullModule
		}
		if got != want {
			t.Errorf("Parse(%q)\n got %s\nJava %s", in, got, want)
			continue
		}
		agreed++
	}
	t.Logf("%d of %d inputs parsed as Java parses them", agreed, len(inputs))
}

// randomConfigs builds n values from fragments of the grammar, right and wrong.
func randomConfigs(rng *rand.Rand, n int) []string {
	pieces := []string{
		"a.B", "org.apache.kafka.common.security.plain.PlainLoginModule", "required", "REQUIRED",
		"optional", "sufficient", "requisite", "bogus", "u", "password", "=", ";", " ", "\t",
		"\n", "\r\n", `"x y"`, `"a\"b"`, `'s'`, `"\101\7"`, `"\n\t\\"`, `"unterminated`,
		"/* c */", "// c\n", "/", "/*", "*/", "5", "-", "-5", ".5", "$v", "_v", "a-b", "x.y",
		"é", "日本", "\u00a0", "\u0085", "\\", "==", `""`, "'", `"`, "abc123", "=3D", ",",
	}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		if rng.IntN(3) > 0 { // mostly start like a real value
			b.WriteString("a.B required ")
		}
		for range 1 + rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
			if rng.IntN(2) == 0 {
				b.WriteByte(' ')
			}
		}
		if rng.IntN(3) > 0 {
			b.WriteByte(';')
		}
		out[i] = b.String()
	}
	return out
}
