package kprod_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"kprod"
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
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, tableStart), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the config table markers %q ... %q", tableStart, tableEnd)
	}
	want := tableStart + "\n" + configTableMarkdown() + tableEnd
	got := readme[i : j+len(tableEnd)]
	if got == want {
		return
	}
	if os.Getenv("KPROD_UPDATE_README") == "1" {
		if err := os.WriteFile("README.md", []byte(readme[:i]+want+readme[j+len(tableEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("README.md's config table differs from kprod.ConfigTable; run KPROD_UPDATE_README=1 go test -run TestREADMEConfigTable .")
}
