package tlsconf

import (
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/internal/testpki"
)

// TestJKSFixtures reads the stores keytool wrote (testdata/gen.sh): the trusted CA
// of truststore.jks and the key entry of client.jks, whose key password differs
// from the store password.
func TestJKSFixtures(t *testing.T) {
	ca, err := pemCertificates(readFixture(t, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := parseJKS([]byte(readFixture(t, "truststore.jks")), fixtureStorePassword)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.trusted) != 1 || !ts.trusted[0].Equal(ca[0]) || len(ts.keys) != 0 {
		t.Fatalf("truststore.jks: %d trusted, %d keys", len(ts.trusted), len(ts.keys))
	}
	// No password: read without the integrity check, as Java does.
	if _, err := parseJKS([]byte(readFixture(t, "truststore.jks")), ""); err != nil {
		t.Fatalf("without password: %v", err)
	}
	if _, err := parseJKS([]byte(readFixture(t, "truststore.jks")), "wrong"); !errors.Is(err, errJKSIntegrity) {
		t.Fatalf("wrong password: %v", err)
	}

	data := []byte(readFixture(t, "client.jks"))
	cert, err := loadKeyEntry(data, fixtureStorePassword, fixtureKeyPassword)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pemKey(readFixture(t, "client.key"), "")
	if !sameKey(want, cert.PrivateKey) || cert.Leaf.Subject.CommonName != "client" {
		t.Fatalf("client.jks: key or leaf differ (leaf %s)", cert.Leaf.Subject)
	}
	if len(cert.Certificate) != 2 {
		t.Errorf("chain of %d certificates, want leaf and CA", len(cert.Certificate))
	}
	if _, err := loadKeyEntry(data, fixtureStorePassword, fixtureStorePassword); !errors.Is(err, errWrongPassword) {
		t.Errorf("wrong key password: %v", err)
	}
	if _, err := loadKeyEntry(data, "wrong", fixtureKeyPassword); !errors.Is(err, errStorePassword) {
		t.Errorf("wrong store password: %v", err)
	}
}

// jksWriter builds JKS files for the edge cases keytool does not make easily. It
// follows the format notes in jks.go; the keytool fixtures prove the reader.
type jksWriter struct {
	version uint32
	entries [][]byte
}

func (w *jksWriter) header(tag uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, tag)
	b = binary.BigEndian.AppendUint16(b, 5)
	b = append(b, "alias"...)
	return binary.BigEndian.AppendUint64(b, 0)
}

func (w *jksWriter) cert(b []byte, c *x509.Certificate) []byte {
	if w.version == 2 {
		b = binary.BigEndian.AppendUint16(b, 5)
		b = append(b, "X.509"...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.Raw)))
	return append(b, c.Raw...)
}

func (w *jksWriter) trusted(c *x509.Certificate) {
	w.entries = append(w.entries, w.cert(w.header(2), c))
}

// key protects pkcs8 with Sun's KeyProtector under password.
func (w *jksWriter) key(t *testing.T, pkcs8 []byte, password string, chain ...*x509.Certificate) {
	salt := make([]byte, sha1.Size)
	for i := range salt {
		salt[i] = byte(i)
	}
	pw := utf16BE(password)
	enc := append([]byte{}, salt...)
	digest := salt
	for off := 0; off < len(pkcs8); off += sha1.Size {
		h := sha1.New()
		h.Write(pw)
		h.Write(digest)
		digest = h.Sum(nil)
		for i := 0; i < sha1.Size && off+i < len(pkcs8); i++ {
			enc = append(enc, pkcs8[off+i]^digest[i])
		}
	}
	h := sha1.New()
	h.Write(pw)
	h.Write(pkcs8)
	enc = h.Sum(enc)
	der, err := asn1.Marshal(encryptedPrivateKeyInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidSunKeyProtector, Parameters: asn1.NullRawValue}, Data: enc})
	if err != nil {
		t.Fatal(err)
	}
	b := w.header(1)
	b = binary.BigEndian.AppendUint32(b, uint32(len(der)))
	b = append(b, der...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(chain)))
	for _, c := range chain {
		b = w.cert(b, c)
	}
	w.entries = append(w.entries, b)
}

func (w *jksWriter) bytes(password string) []byte {
	b := binary.BigEndian.AppendUint32(nil, jksMagic)
	b = binary.BigEndian.AppendUint32(b, w.version)
	b = binary.BigEndian.AppendUint32(b, uint32(len(w.entries)))
	for _, e := range w.entries {
		b = append(b, e...)
	}
	h := sha1.New()
	h.Write(utf16BE(password))
	h.Write([]byte("Mighty Aphrodite"))
	h.Write(b)
	return h.Sum(b)
}

func TestJKSEdgeCases(t *testing.T) {
	ca := testpki.NewCA(t, "jks CA")
	a := ca.Issue(t, testpki.Leaf{CN: "a", Client: true})
	b := ca.Issue(t, testpki.Leaf{CN: "b", Client: true})
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}

	// Version 1 (no certificate types), key password = store password.
	w := &jksWriter{version: 1}
	w.key(t, pkcs8(a.PrivateKey), "pw", a.Leaf, ca.Cert)
	cert, err := loadKeyEntry(w.bytes("pw"), "pw", "pw")
	if err != nil || !cert.Leaf.Equal(a.Leaf) {
		t.Fatalf("v1 key entry: %v", err)
	}
	// The key entry's own certificate is trusted too, as Java's trust manager does.
	certs, err := loadTrusted(TypeJKS, w.bytes("pw"), "pw")
	if err != nil || len(certs) != 1 || !certs[0].Equal(a.Leaf) {
		t.Fatalf("key entry as trust: %v, %d certs", err, len(certs))
	}

	// Two key entries: which one Java's key manager picks depends on the server's
	// request; kprod refuses to guess.
	w = &jksWriter{version: 2}
	w.key(t, pkcs8(a.PrivateKey), "pw", a.Leaf)
	w.key(t, pkcs8(b.PrivateKey), "pw", b.Leaf)
	if _, err := loadKeyEntry(w.bytes("pw"), "pw", "pw"); err == nil || !strings.Contains(err.Error(), "2 private key entries") {
		t.Errorf("two keys: %v", err)
	}
	// The chain does not contain the key's certificate.
	w = &jksWriter{version: 2}
	w.key(t, pkcs8(a.PrivateKey), "pw", b.Leaf)
	if _, err := loadKeyEntry(w.bytes("pw"), "pw", "pw"); err == nil || !strings.Contains(err.Error(), "matches the private key") {
		t.Errorf("mismatched chain: %v", err)
	}
	// A trust store only: no key entry.
	w = &jksWriter{version: 2}
	w.trusted(ca.Cert)
	if _, err := loadKeyEntry(w.bytes("pw"), "pw", "pw"); err == nil || !strings.Contains(err.Error(), "no private key") {
		t.Errorf("no key: %v", err)
	}

	good := w.bytes("pw")
	for name, data := range map[string][]byte{
		"truncated":   good[:len(good)-30],
		"jceks":       append([]byte{0xCE, 0xCE, 0xCE, 0xCE}, good[4:]...),
		"version 3":   append(append([]byte{}, good[:4]...), append([]byte{0, 0, 0, 3}, good[8:]...)...),
		"short":       good[:10],
		"bad entries": append(append([]byte{}, good[:8]...), append([]byte{0, 0, 0, 9}, good[12:]...)...),
	} {
		if _, err := parseJKS(data, ""); err == nil {
			t.Errorf("%s: parsed", name)
		} else if name == "jceks" && !strings.Contains(err.Error(), "JCEKS") {
			t.Errorf("jceks: %v", err)
		}
	}
}

// jksSetDigest returns data with its integrity digest recomputed for password.
func jksSetDigest(data []byte, password string) []byte {
	body := data[:len(data)-sha1.Size]
	h := sha1.New()
	h.Write(utf16BE(password))
	h.Write([]byte("Mighty Aphrodite"))
	h.Write(body)
	return h.Sum(append([]byte{}, body...))
}

// TestJKSErrorsNameTheField: a corrupt store's error says which entry and field
// did not fit, with the length the file claims and what is left.
func TestJKSErrorsNameTheField(t *testing.T) {
	ca := testpki.NewCA(t, "jks CA")
	w := &jksWriter{version: 2}
	w.trusted(ca.Cert)
	good := w.bytes("")
	// header 12, tag 4, alias 2+5, date 8, certificate type 2+5: the length at 38.
	huge := append([]byte{}, good...)
	binary.BigEndian.PutUint32(huge[38:], 0xFFFFFFFF)
	huge = jksSetDigest(huge, "")
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"huge length": {huge, fmt.Sprintf("malformed JKS keystore: entry 1 of 1: certificate needs 4294967295 bytes, %d are left before the digest", len(ca.Cert.Raw))},
		"cut":         {jksSetDigest(append(append([]byte{}, good[:35]...), make([]byte, 20)...), ""), "malformed JKS keystore: entry 1 of 1: certificate type needs 5 bytes, 2 are left before the digest"},
		"short":       {good[:31], "truncated JKS keystore: 31 bytes, and an empty one has 32"},
		"extra":       {jksSetDigest(append(append([]byte{}, good[:len(good)-20]...), make([]byte, 3+20)...), ""), "malformed JKS keystore: the entries end 3 bytes before the digest"},
	} {
		if _, err := parseJKS(c.data, ""); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}
