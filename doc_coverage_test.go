package kprod_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportedIdentifiersDocumented: every package outside internal/ has a package
// overview (go doc shows it), and every exported identifier in them a doc comment:
// constants, variables, types, functions, methods of exported types, the fields of
// exported structs (Header's Key and Value) and the methods of exported interfaces
// (issue 13 item 6). A grouped declaration's comment covers its names, as go doc shows.
func TestExportedIdentifiersDocumented(t *testing.T) {
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		base := d.Name()
		if path != "." && (base == "internal" || base == "testdata" || base == "bench" || strings.HasPrefix(base, ".")) {
			return filepath.SkipDir
		}
		if path != "." {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module (plugins): its own test
			}
		}
		dirs = append(dirs, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range pkgs {
			undocumented(t, fset, dir, pkg)
		}
	}
}

func undocumented(t *testing.T, fset *token.FileSet, dir string, pkg *ast.Package) {
	t.Helper()
	var files []*ast.File
	generated := map[string]bool{}
	for name, f := range pkg.Files {
		files = append(files, f)
		if ast.IsGenerated(f) {
			generated[name] = true // protoc's output: regenerated, not written
		}
	}
	p, err := doc.NewFromFiles(fset, files, "example.com/"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(p.Doc) == "" {
		t.Errorf("package %s (%s) has no package comment: go doc shows no overview", p.Name, dir)
	}
	if p.Name == "main" {
		return // a command's exported names are nobody's API
	}
	miss := func(pos token.Pos, what string) {
		if generated[fset.Position(pos).Filename] {
			return
		}
		t.Errorf("%s: %s is exported but undocumented", fset.Position(pos), what)
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			if v.Doc != "" {
				continue // the group's comment covers every name in it
			}
			for _, spec := range v.Decl.Specs {
				vs := spec.(*ast.ValueSpec)
				if vs.Doc != nil || vs.Comment != nil {
					continue
				}
				for _, n := range vs.Names {
					if n.IsExported() {
						miss(n.Pos(), n.Name)
					}
				}
			}
		}
	}
	funcs := func(fs []*doc.Func, recv string) {
		for _, f := range fs {
			if f.Doc == "" && ast.IsExported(f.Name) {
				miss(f.Decl.Pos(), recv+f.Name)
			}
		}
	}
	values(p.Consts)
	values(p.Vars)
	funcs(p.Funcs, "")
	for _, typ := range p.Types {
		if typ.Doc == "" {
			miss(typ.Decl.Pos(), typ.Name)
		}
		values(typ.Consts)
		values(typ.Vars)
		funcs(typ.Funcs, "")
		funcs(typ.Methods, typ.Name+".")
		for _, spec := range typ.Decl.Specs {
			ts := spec.(*ast.TypeSpec)
			var list *ast.FieldList
			switch x := ts.Type.(type) {
			case *ast.StructType:
				list = x.Fields
			case *ast.InterfaceType:
				list = x.Methods
			}
			if list == nil {
				continue
			}
			var prev string // the comment of the field before, which may name this one too
			for _, f := range list.List {
				if f.Doc != nil || f.Comment != nil {
					prev = f.Doc.Text() + f.Comment.Text()
					continue
				}
				for _, n := range f.Names {
					if n.IsExported() && !namesWord(prev, n.Name) {
						miss(n.Pos(), typ.Name+"."+n.Name)
					}
				}
			}
		}
	}
}

// namesWord reports whether text holds name as a word: "Code is the code; Name its
// name" documents Name on the line after Code.
func namesWord(text, name string) bool {
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !(r == '_' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	}) {
		if w == name {
			return true
		}
	}
	return false
}
