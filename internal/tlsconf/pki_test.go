package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testPKI makes certificates in-process for tests that must run without Kafka or
// openssl: a CA, leaves it signs, and PEM files of them.
type testPKI struct {
	t    testing.TB
	dir  string
	cert *x509.Certificate
	key  crypto.Signer
}

var serial int64

// newCA makes a self-signed CA named cn.
func newCA(t testing.TB, cn string) *testPKI {
	t.Helper()
	key := ecKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Organization: []string{"kprod"}, CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testPKI{t: t, dir: t.TempDir(), cert: c, key: key}
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// leafOpts describe a leaf certificate.
type leafOpts struct {
	cn       string
	dns      []string
	ips      []string
	client   bool // EKU clientAuth instead of serverAuth
	expired  bool
	key      crypto.Signer
	noSANCN  bool // no SAN at all; the host only in the CN
	notAfter time.Time
}

// leaf issues a certificate signed by the CA.
func (p *testPKI) leaf(o leafOpts) tls.Certificate {
	p.t.Helper()
	if o.key == nil {
		o.key = ecKey(p.t)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial + 1), Subject: pkix.Name{Organization: []string{"kprod"}, CommonName: o.cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, DNSNames: o.dns,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if o.client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if o.expired {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	}
	for _, ip := range o.ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, o.key.Public(), p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der, p.cert.Raw}, PrivateKey: o.key, Leaf: c}
}

// pool is a CertPool trusting the CA.
func (p *testPKI) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.cert)
	return pool
}

// caPEM is the CA certificate as PEM.
func (p *testPKI) caPEM() string { return certPEM(p.cert.Raw) }

func certPEM(ders ...[]byte) string {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return string(out)
}

// keyPEM is a key as unencrypted PKCS#8 PEM.
func keyPEM(t testing.TB, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// write stores text as a file in the PKI's directory and returns its path.
func (p *testPKI) write(name, text string) string {
	p.t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

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

// keySigner is a private key that signs.
type keySigner = crypto.Signer
