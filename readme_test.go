package kprod_test

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/readmetest"
)

const (
	tableStart = "<!-- config table: generated from kprod.ConfigTable by readme_test.go -->"
	tableEnd   = "<!-- end of config table -->"
)

func configTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| property | Config field | default | meaning |\n|---|---|---|---|\n")
	for _, e := range kprod.ConfigTable() {
		field := e.Field
		switch {
		case field == "" && strings.HasPrefix(e.Doc, "Builds SASL"):
			field = "(builds SASL)"
		case field == "":
			field = "(accepted, ignored)"
		}
		def := e.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", e.Property, field, def, strings.ReplaceAll(e.Doc, "|", "\\|"))
	}
	return b.String()
}

// TestREADMEConfigTable keeps the README's configuration table equal to ConfigTable, the
// single table the code uses for defaults. KPROD_UPDATE_README=1 rewrites it.
func TestREADMEConfigTable(t *testing.T) {
	readmeGenerated(t, tableStart, tableEnd, configTableMarkdown(), "TestREADMEConfigTable")
}

// TestREADMEProfileTable keeps the README's table of delivery profiles equal to
// ProfileSettings. KPROD_UPDATE_README=1 rewrites it.
func TestREADMEProfileTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| delivery.profile | properties | promise per partition |\n|---|---|---|\n")
	for _, ps := range kprod.ProfileSettings() {
		kv := make([]string, len(ps.Properties))
		for i, p := range ps.Properties {
			kv[i] = p[0] + "=" + p[1]
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", ps.Profile, strings.Join(kv, " "), ps.Promise)
	}
	readmeGenerated(t, "<!-- profile table: generated from kprod.ProfileSettings by readme_test.go -->",
		"<!-- end of profile table -->", b.String(), "TestREADMEProfileTable")
}

// readmeGenerated checks that README.md holds want between the markers start and end,
// or writes it there when KPROD_UPDATE_README=1.
func readmeGenerated(t *testing.T, start, end, want, test string) {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, start), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q ... %q", start, end)
	}
	want = start + "\n" + want + end
	got := readme[i : j+len(end)]
	if got == want {
		return
	}
	if os.Getenv("KPROD_UPDATE_README") == "1" {
		if err := os.WriteFile("README.md", []byte(readme[:i]+want+readme[j+len(end):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("README.md's generated table differs; run KPROD_UPDATE_README=1 go test -run %s .", test)
}

// TestREADMEProgramsCompile builds every complete Go program in README.md (a ```go
// block that starts with "package main"), so that the examples stay true to the API.
// The blocks are laid over a directory of the module that does not exist on disk
// (go build -overlay), which lets them import kprod's packages. A program importing a
// plugin module (plugin/kotel) is built by that module's own test, which this one
// checks exists.
func TestREADMEProgramsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	root, blocks := readmeGoBlocks(t)
	var programs []string
	for _, code := range blocks {
		if !readmetest.IsProgram(code) {
			continue // an excerpt, not a program
		}
		plugins := readmetest.Plugins(code)
		for _, pkg := range plugins {
			dir := filepath.Join(root, strings.TrimPrefix(pkg, "github.com/kprod-io/kprod/"))
			if _, err := os.Stat(filepath.Join(dir, "readme_test.go")); err != nil {
				t.Errorf("a README program imports %s, but %s has no readme_test.go to build it", pkg, dir)
			}
		}
		if len(plugins) == 0 {
			programs = append(programs, code)
		}
	}
	if len(programs) < 2 {
		t.Fatalf("found %d README programs, want the Avro and JSON Schema ones at least", len(programs))
	}
	readmetest.BuildPrograms(t, root, programs)
}

// TestREADMEExcerptsCompile type-checks every ```go block of README.md that is not a
// complete program, so that a user pasting one gets code that compiles (issue 13 item
// 6). A block starting with "func " is checked as a top-level declaration; any other as
// the body of a function returning error. readmeGiven declares what the excerpts take as
// given (ctx, a record's value, ...). Unused variables and imports, which an excerpt
// leaves by nature, are the only errors ignored.
func TestREADMEExcerptsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks from source")
	}
	root, blocks := readmeGoBlocks(t)
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "source", nil)
	checked := 0
	for i, code := range blocks {
		if strings.HasPrefix(code, "package main\n") {
			continue // TestREADMEProgramsCompile builds it
		}
		checked++
		var src strings.Builder
		src.WriteString("package readme\n\nimport (\n")
		for _, p := range readmeImports {
			if strings.Contains(code, p[0]+".") || p[0] == "context" || p[0] == "kprod" {
				fmt.Fprintf(&src, "\t%q\n", p[1])
			}
		}
		src.WriteString(")\n\n" + readmeGiven + "\n")
		if strings.HasPrefix(code, "func ") {
			src.WriteString(code + "\n")
		} else {
			fmt.Fprintf(&src, "func excerpt() error {\n%s\n\treturn nil\n}\n", code)
		}
		name := filepath.Join(root, fmt.Sprintf("readme_excerpt%d.go", i+1)) // the module's imports resolve from here
		f, err := parser.ParseFile(fset, name, src.String(), 0)
		if err != nil {
			t.Errorf("README Go block %d does not parse: %v\n%s", i+1, err, code)
			continue
		}
		var hard []string
		conf := types.Config{Importer: imp.(types.ImporterFrom), Error: func(err error) {
			if te, ok := err.(types.Error); ok && te.Soft {
				return // declared and not used, imported and not used
			}
			hard = append(hard, err.Error())
		}}
		conf.Check("readme", fset, []*ast.File{f}, nil)
		if len(hard) > 0 {
			t.Errorf("README Go block %d does not compile:\n%s\n--- block:\n%s", i+1, strings.Join(hard, "\n"), code)
		}
	}
	if checked == 0 {
		t.Fatal("found no README excerpt to check: the Sending one at least")
	}
}

// readmeImports are the packages README excerpts may use: name, import path.
var readmeImports = [][2]string{
	{"context", "context"}, {"errors", "errors"}, {"fmt", "fmt"}, {"log", "log"}, {"slog", "log/slog"},
	{"os", "os"}, {"testing", "testing"}, {"time", "time"},
	{"kprod", "github.com/kprod-io/kprod"}, {"serde", "github.com/kprod-io/kprod/serde"},
	{"kafkatest", "github.com/kprod-io/kprod/kafkatest"},
}

// readmeGiven declares what README excerpts take as given.
const readmeGiven = `var (
	ctx                         = context.Background()
	order, click, sample, debit []byte
	servers                     []string
	offsets                     map[kprod.TopicPartition]kprod.OffsetAndMetadata
	s                           Score
)

type Score struct{ Points int }
`

// readmeGoBlocks returns the module root and the code of README.md's ```go blocks.
func readmeGoBlocks(t *testing.T) (string, []string) {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return root, readmetest.GoBlocks(t, "README.md")
}
