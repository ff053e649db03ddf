package tlsconf

import (
	"strings"
	"testing"

	"github.com/kprod-io/kprod/internal/testpki"
)

// TestParsePEMForms: blocks among other text, Windows line ends, and a whole PEM
// on one line as a backslash-continued properties value leaves it (lines joined by
// spaces) all read the same; several certificates on one line are all returned.
func TestParsePEMForms(t *testing.T) {
	ca := testpki.NewCA(t, "pem CA")
	a := ca.Issue(t, testpki.Leaf{CN: "a"})
	two := testpki.CertPEM(a.Leaf.Raw, ca.Cert.Raw)
	oneLine := strings.Join(strings.Fields(two), " ")
	for name, text := range map[string]string{
		"plain":        two,
		"surrounded":   "Bag Attributes\n    friendlyName: a\nsubject=/CN=a\n" + two + "trailing text\n",
		"crlf":         strings.ReplaceAll(two, "\n", "\r\n"),
		"one line":     oneLine,
		"no final eol": strings.TrimSpace(two),
	} {
		certs, err := pemCertificates(text)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(certs) != 2 || !certs[0].Equal(a.Leaf) || !certs[1].Equal(ca.Cert) {
			t.Errorf("%s: got %d certificates", name, len(certs))
		}
	}
	for name, c := range map[string]struct{ text, want string }{
		"empty":      {"", "no PEM block"},
		"no cert":    {testpki.KeyPEM(t, testpki.ECKey(t)), "no CERTIFICATE block"},
		"no end":     {"-----BEGIN CERTIFICATE-----\nMIIB\n", "no END line"},
		"bad base64": {"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "not valid base64"},
		"bad der":    {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "certificate 1"},
	} {
		if _, err := pemCertificates(c.text); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

// TestPEMKeyForms: one key per keystore, as Java requires; PKCS#8 plain and
// encrypted, and (beyond Java) PKCS#1 and SEC 1; OpenSSL's legacy encrypted PEM
// refused with what to do.
func TestPEMKeyForms(t *testing.T) {
	k := testpki.ECKey(t)
	p8 := testpki.KeyPEM(t, k)
	if _, err := pemKey(p8+p8, ""); err == nil || !strings.Contains(err.Error(), "expected one private key, found 2") {
		t.Errorf("two keys: %v", err)
	}
	if got, err := pemKey(readFixture(t, "client.sec1.key"), ""); err != nil {
		t.Errorf("SEC 1: %v", err)
	} else if want, _ := pemKey(readFixture(t, "client.key"), ""); !sameKey(want, got) {
		t.Error("SEC 1 key differs from the PKCS#8 one")
	}
	legacy := "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n"
	if _, err := pemKey(legacy, "pw"); err == nil || !strings.Contains(err.Error(), "legacy PEM encryption") {
		t.Errorf("legacy encryption: %v", err)
	}
	if _, err := pemKey("-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n", ""); err == nil || !strings.Contains(err.Error(), "DSA") {
		t.Errorf("DSA: %v", err)
	}
	if _, err := pemKey(readFixture(t, "ca.pem"), ""); err == nil || !strings.Contains(err.Error(), "no PRIVATE KEY") {
		t.Errorf("no key: %v", err)
	}
}

// TestParsePEMLabels: a block ends at the first END line of its own label, even
// one that shares its leading dashes with another label's END line; a label of
// megabytes, which a PEM file of junk can hold, gives a short error, not a panic.
func TestParsePEMLabels(t *testing.T) {
	text := "-----BEGIN A  B-----\nAAAA ---END B---END A\tB-----\n"
	if _, err := parsePEM(text); err == nil || !strings.Contains(err.Error(), "PEM block A B is not valid base64") {
		t.Errorf("END B inside the body: %v", err)
	}

	// Over 1.2 million words: a pattern built from this label is too large for
	// regexp.
	huge := strings.Repeat("A ", 1_250_000) + "A"
	if _, err := parsePEM("-----BEGIN " + huge + "-----\nAAAA\n-----END " + huge + " A-----\n"); err == nil ||
		!strings.HasSuffix(err.Error(), "... has no END line") || len(err.Error()) > 100 {
		t.Errorf("no END line: %.200v", err)
	}
	blocks, err := parsePEM("-----BEGIN " + huge + "-----\nAAAA\n-----END " + huge + "-----\n")
	if err != nil || len(blocks) != 1 || blocks[0].label != huge {
		t.Errorf("huge label: %.200v", err)
	}
}
