package tlsconf

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
)

// TestErrorsClipFileValues: a label, OID or type name read from a file appears in
// an error cut to 64 bytes, however long the file made it.
func TestErrorsClipFileValues(t *testing.T) {
	label := strings.Repeat("X", 1000) + " PRIVATE KEY"
	_, err := pemKey("-----BEGIN "+label+"-----\nAAAA\n-----END "+label+"-----\n", "")
	if err == nil || err.Error() != `unsupported key block "`+strings.Repeat("X", 64)+`..."` {
		t.Errorf("long label: %.200v", err)
	}
	oid := make(asn1.ObjectIdentifier, 500)
	for i := range oid {
		oid[i] = i + 1
	}
	der, err := asn1.Marshal(encryptedPrivateKeyInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oid}, Data: []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decryptPKCS8(der, "pw"); err == nil || len(err.Error()) > 120 || !strings.Contains(err.Error(), "(OID 1.2.3.4.5.") {
		t.Errorf("long OID: %.200v", err)
	}
}
