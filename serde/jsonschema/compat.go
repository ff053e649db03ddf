package jsonschema

import (
	"fmt"

	"github.com/kprod-io/kprod/serde/jsonschema/internal/jsondiff"
	"github.com/kprod-io/kprod/serde/registry"
)

// maxReferencedSchemas bounds the schemas one side of a check may reference,
// directly or not: a registry answering with ever new references must not make a
// check endless.
const maxReferencedSchemas = 256

// compatCheck is the JSON Schema check behind latest.compatibility.strict and
// id.compatibility.strict (Java's JsonSchema.isBackwardCompatible): the registry's
// schema must read what the serializer's writes. local holds the texts of the
// serializer's own references by name, the writer's side; the registry schema's
// references are loaded.
func compatCheck(local map[string]string) registry.CompatibilityCheck {
	return func(reader, writer registry.Schema, load registry.ReferenceLoader) error {
		r, err := referenced(reader, load, nil)
		if err != nil {
			return fmt.Errorf("jsonschema: the registry's schema: %w", err)
		}
		rs, err := jsondiff.NewSet(reader.Text, r)
		if err != nil {
			return fmt.Errorf("jsonschema: the registry's schema: %w", err)
		}
		w, err := referenced(writer, load, local)
		if err != nil {
			return fmt.Errorf("jsonschema: the serializer's schema: %w", err)
		}
		ws, err := jsondiff.NewSet(writer.Text, w)
		if err != nil {
			return fmt.Errorf("jsonschema: the serializer's schema: %w", err)
		}
		if err := jsondiff.Check(ws, rs); err != nil {
			return fmt.Errorf("jsonschema: %w", err)
		}
		return nil
	}
}

// referenced returns the texts of the schemas s references, directly or not, by
// reference name: from local when there, else loaded.
func referenced(s registry.Schema, load registry.ReferenceLoader, local map[string]string) (map[string]string, error) {
	out := map[string]string{}
	var add func(refs []registry.Reference) error
	add = func(refs []registry.Reference) error {
		for _, ref := range refs {
			if _, ok := out[ref.Name]; ok {
				continue
			}
			if len(out) >= maxReferencedSchemas {
				return fmt.Errorf("more than %d referenced schemas", maxReferencedSchemas)
			}
			if text, ok := local[ref.Name]; ok {
				out[ref.Name] = text
				continue
			}
			dep, err := load(ref)
			if err != nil {
				return fmt.Errorf("reference %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
			}
			out[ref.Name] = dep.Text
			if err := add(dep.References); err != nil {
				return err
			}
		}
		return nil
	}
	return out, add(s.References)
}
