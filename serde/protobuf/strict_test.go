package protobuf

import (
	"errors"
	"testing"

	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb"
	"github.com/kprod-io/kprod/serde/registry"
)

// Under use.latest.version or use.schema.id Java checks, by default, that the
// registry's schema can read what the message's writes; kprod has no Protobuf
// compatibility checker, so the strict default fails at construction naming the
// property, and false builds a serializer that uses the registry's schema unchecked.
func TestCompatibilityStrictFailsAtConstruction(t *testing.T) {
	for mode, prop := range map[string]string{"use.latest.version": "latest.compatibility.strict", "use.schema.id": "id.compatibility.strict"} {
		props := map[string]string{"schema.registry.url": "http://127.0.0.1:1", "auto.register.schemas": "false"}
		props[mode] = map[string]string{"use.latest.version": "true", "use.schema.id": "7"}[mode]
		_, err := FromProperties[*testpb.Customer](props, false)
		var ce *registry.ConfigError
		if !errors.As(err, &ce) || ce.Property != prop {
			t.Errorf("%s: generated: %v", mode, err)
		}
		_, err = DynamicFromProperties(props, false, `syntax = "proto3"; message M { string a = 1; }`, DynamicOptions{})
		if !errors.As(err, &ce) || ce.Property != prop {
			t.Errorf("%s: dynamic: %v", mode, err)
		}
		props[prop] = "false"
		s, err := FromProperties[*testpb.Customer](props, false)
		if err != nil {
			t.Fatalf("%s with %s=false: %v", mode, prop, err)
		}
		s.Close()
	}
}
