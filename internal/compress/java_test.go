package compress

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// javaLibs returns the Kafka jar folders scripts/kafka caches, newest
// version last.
func javaLibs(t *testing.T) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("no java on PATH")
	}
	libs, _ := filepath.Glob("../../.cache/kafka/jars/*/lib")
	var usable []string
	for _, l := range libs {
		if jars, _ := filepath.Glob(filepath.Join(l, "kafka-clients-*.jar")); len(jars) > 0 {
			usable = append(usable, l)
		}
	}
	if len(usable) == 0 {
		t.Skip("no Kafka jars cached; run scripts/kafka to fetch them")
	}
	sort.Strings(usable)
	return usable
}

// TestJavaInterop checks, against Kafka's own codecs, that every frame we
// write decodes in Java (as a broker validating a batch would read it) and
// that every frame Java's producer writes decodes here.
func TestJavaInterop(t *testing.T) {
	for _, lib := range javaLibs(t) {
		t.Run(filepath.Base(filepath.Dir(lib)), func(t *testing.T) { javaInterop(t, lib) })
	}
}

func javaInterop(t *testing.T, lib string) {
	dir := t.TempDir()
	in := inputs(t)
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
		if err := os.WriteFile(filepath.Join(dir, n+".raw"), in[n], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(names)

	type job struct {
		codec Codec
		level int
		name  string
	}
	var jobs []job
	var manifest strings.Builder
	for _, lc := range levelCases {
		if lc.codec == None {
			continue
		}
		for _, level := range lc.levels {
			comp := mustCompressor(t, lc.codec, level)
			for _, name := range names {
				j := job{lc.codec, level, name}
				jobs = append(jobs, j)
				base := filepath.Join(dir, fmt.Sprintf("%v.%d.%s", lc.codec, level, name))
				ours, err := comp.Compress(nil, in[name])
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(base+".go", ours, 0o644); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&manifest, "c %v %d %s %s.java\n", lc.codec, level, filepath.Join(dir, name+".raw"), base)
				fmt.Fprintf(&manifest, "d %v %d %s.go %s.go.out\n", lc.codec, DefaultLevel(lc.codec), base, base)
			}
		}
	}
	mf := filepath.Join(dir, "manifest")
	if err := os.WriteFile(mf, []byte(manifest.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("java", "-cp", filepath.Join(lib, "*"), "testdata/KafkaCodec.java", mf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}

	identical := map[Codec]int{}
	for _, j := range jobs {
		base := filepath.Join(dir, fmt.Sprintf("%v.%d.%s", j.codec, j.level, j.name))
		src := in[j.name]
		// Java reads what we wrote.
		if e, err := os.ReadFile(base + ".go.out.err"); err == nil {
			t.Errorf("%v/%d/%s: Java cannot read our frame: %s", j.codec, j.level, j.name, e)
		} else if got, err := os.ReadFile(base + ".go.out"); err != nil || !bytes.Equal(got, src) {
			t.Errorf("%v/%d/%s: Java read back %d bytes, want %d (%v)", j.codec, j.level, j.name, len(got), len(src), err)
		}
		// We read what Java wrote.
		if e, err := os.ReadFile(base + ".java.err"); err == nil {
			t.Errorf("%v/%d/%s: Java failed to compress: %s", j.codec, j.level, j.name, e)
			continue
		}
		javaOut, err := os.ReadFile(base + ".java")
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decompress(nil, javaOut, j.codec)
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("%v/%d/%s: decoding Java's frame: %d bytes, want %d (%v)", j.codec, j.level, j.name, len(got), len(src), err)
		}
		ours, _ := os.ReadFile(base + ".go")
		if bytes.Equal(ours, javaOut) {
			identical[j.codec]++
		}
		if j.name == "batch16k" {
			t.Logf("%v level %d: 16 KiB batch -> Java %d bytes, ours %d", j.codec, j.level, len(javaOut), len(ours))
		}
	}
	t.Logf("byte-identical frames per codec: %v", identical)
}
