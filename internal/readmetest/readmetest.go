// Package readmetest compiles the Go programs of README.md for tests. A program that
// imports an optional plugin (plugin/kotel: its own module, so that the core gains no
// dependency) can only build inside that plugin's module; each module's test builds the
// programs that belong to it with these helpers.
package readmetest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// PluginPrefix starts the import path of every plugin module.
const PluginPrefix = "github.com/kprod-io/kprod/plugin/"

// GoBlocks returns the code of the ```go blocks of the Markdown file at path.
func GoBlocks(t testing.TB, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for i, block := range strings.Split(string(raw), "```go\n")[1:] {
		code, _, ok := strings.Cut(block, "\n```")
		if !ok {
			t.Fatalf("%s: Go block %d is not closed", path, i+1)
		}
		blocks = append(blocks, code)
	}
	return blocks
}

// IsProgram reports whether a block is a complete program rather than an excerpt.
func IsProgram(code string) bool { return strings.HasPrefix(code, "package main\n") }

// Plugins returns the plugin import paths a block imports.
func Plugins(code string) []string {
	var out []string
	for _, part := range strings.Split(code, `"`+PluginPrefix)[1:] {
		if name, _, ok := strings.Cut(part, `"`); ok {
			out = append(out, PluginPrefix+name)
		}
	}
	return out
}

// BuildPrograms builds programs as packages of the module whose root is dir: go build
// -overlay lays each over dir/internal/readmeN/main.go, which does not exist on disk,
// so the programs import what that module requires.
func BuildPrograms(t testing.TB, dir string, programs []string) {
	t.Helper()
	replace := map[string]string{}
	var pkgs []string
	tmp := t.TempDir()
	for i, code := range programs {
		src := filepath.Join(tmp, fmt.Sprintf("readme%d.go", i+1))
		if err := os.WriteFile(src, []byte(code+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		pkg := fmt.Sprintf("internal/readme%d", i+1)
		replace[filepath.Join(dir, pkg, "main.go")] = src
		pkgs = append(pkgs, "./"+pkg)
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": replace})
	ov := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"build", "-o", t.TempDir(), "-overlay=" + ov}, pkgs...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("README programs do not build: %v\n%s", err, out)
	}
}

// BuildPluginPrograms builds, in the plugin module whose root is the working directory
// (a plugin's test runs there), the programs of the core's README.md that import pkg,
// and fails t if there is none: the core module's README test cannot build them, since
// the plugin's dependencies are its own.
func BuildPluginPrograms(t testing.TB, pkg string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	var programs []string
	for _, code := range GoBlocks(t, filepath.Join(dir, "..", "..", "README.md")) {
		for _, imported := range Plugins(code) {
			if imported == pkg && IsProgram(code) {
				programs = append(programs, code)
			}
		}
	}
	if len(programs) == 0 {
		t.Fatalf("found no README program importing %s", pkg)
	}
	BuildPrograms(t, dir, programs)
}
