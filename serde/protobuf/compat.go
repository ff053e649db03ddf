package protobuf

import (
	"fmt"

	"github.com/kprod-io/kprod/serde/protobuf/internal/protodiff"
	"github.com/kprod-io/kprod/serde/registry"
)

// maxImportedFiles bounds the files one side of a check may import, directly or
// not: a registry answering with ever new references must not make a check endless.
const maxImportedFiles = 256

// compatCheck is the Protobuf check behind latest.compatibility.strict and
// id.compatibility.strict (Java's ProtobufSchema.isBackwardCompatible): the
// registry's schema must read what the serializer's writes. local returns the
// serializer's own schema of a file it imports, by import name, so that the writer's
// side is what the serializer writes with; other imports are loaded by reference.
func compatCheck(local func(name string) (registry.Schema, bool)) registry.CompatibilityCheck {
	return func(reader, writer registry.Schema, load registry.ReferenceLoader) error {
		r, err := files(reader, load, nil)
		if err != nil {
			return fmt.Errorf("protobuf: the registry's schema: %w", err)
		}
		w, err := files(writer, load, local)
		if err != nil {
			return fmt.Errorf("protobuf: the serializer's schema: %w", err)
		}
		if err := protodiff.Check(w, r); err != nil {
			return fmt.Errorf("protobuf: %w", err)
		}
		return nil
	}
}

// files parses s and, depth first, the files it references.
func files(s registry.Schema, load registry.ReferenceLoader, local func(string) (registry.Schema, bool)) (protodiff.Files, error) {
	main, err := parseProto(mainFile, s.Text)
	if err != nil {
		return protodiff.Files{}, err
	}
	fs := protodiff.Files{Main: main}
	seen := map[string]bool{}
	var add func(refs []registry.Reference) error
	add = func(refs []registry.Reference) error {
		for _, ref := range refs {
			if seen[ref.Name] {
				continue
			}
			seen[ref.Name] = true
			if len(seen) > maxImportedFiles {
				return fmt.Errorf("more than %d imported files", maxImportedFiles)
			}
			dep, ok := lookupLocal(local, ref.Name)
			if !ok {
				dep, err = load(ref)
			}
			if err != nil {
				return fmt.Errorf("reference %s (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
			}
			fdp, err := parseProto(ref.Name, dep.Text)
			if err != nil {
				return fmt.Errorf("reference %s: %w", ref.Name, err)
			}
			fs.Imports = append(fs.Imports, fdp)
			if err := add(dep.References); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(s.References); err != nil {
		return protodiff.Files{}, err
	}
	return fs, nil
}

func lookupLocal(local func(string) (registry.Schema, bool), name string) (registry.Schema, bool) {
	if local == nil {
		return registry.Schema{}, false
	}
	return local(name)
}
