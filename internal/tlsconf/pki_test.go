package tlsconf

import (
	"crypto"
	"path/filepath"
)

// fixture is the path of a committed test vector (testdata/gen.sh).
func fixture(name string) string { return filepath.Join("testdata", name) }

// Fixture passwords (testdata/gen.sh).
const (
	fixtureStorePassword = "store-secret"
	fixtureKeyPassword   = "key-secret"
)

// sameKey reports whether two private keys are equal.
func sameKey(a, b crypto.PrivateKey) bool {
	k, ok := a.(interface{ Equal(crypto.PrivateKey) bool })
	return ok && k.Equal(b)
}
