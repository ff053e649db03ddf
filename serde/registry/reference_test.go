package registry_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/kprod-io/kprod/serde/registry"
)

// ReferenceVersion follows Java's order for an imported file: register it (then look
// up its version, which the register answer lacks), else take the subject's latest,
// else look it up.
func TestReferenceVersion(t *testing.T) {
	const dep = `syntax = "proto3"; package shop; message Money { int64 cents = 1; }`
	const newer = `syntax = "proto3"; package shop; message Money { int64 cents = 1; string currency = 2; }`
	for _, tc := range []struct {
		name     string
		cfg      registry.SerdeConfig
		requests []string
		version  int
	}{
		{"auto.register.schemas", registry.SerdeConfig{}, []string{"POST /subjects/money.proto/versions", "POST /subjects/money.proto"}, 1},
		{"use.latest.version", registry.SerdeConfig{AutoRegisterSchemas: ptr(false), UseLatestVersion: true}, []string{"GET /subjects/money.proto/versions/latest"}, 2},
		{"lookup", registry.SerdeConfig{AutoRegisterSchemas: ptr(false)}, []string{"POST /subjects/money.proto"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.SeedSchema("money.proto", 1, 21, sr.Schema{Schema: dep, Type: sr.TypeProtobuf})
			f.SeedSchema("money.proto", 2, 22, sr.Schema{Schema: newer, Type: sr.TypeProtobuf})
			r := registry.NewResolver(client(t, registry.Config{URLs: []string{f.URL()}}), tc.cfg, false)
			v, err := r.ReferenceVersion(context.Background(), "money.proto", registry.Schema{Type: "PROTOBUF", Text: dep})
			if err != nil {
				t.Fatal(err)
			}
			if v != tc.version {
				t.Fatalf("version %d, want %d", v, tc.version)
			}
			for _, req := range tc.requests {
				if f.requests(req) != 1 {
					t.Fatalf("requests %v, want one %s", f.count, req)
				}
			}
		})
	}
}
