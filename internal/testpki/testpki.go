// Package testpki makes certificates in-process for tests that must run without
// Kafka or openssl: a CA, the leaves it signs (servers with DNS and IP names,
// clients, expired ones) and their PEM forms. Test use only.
package testpki

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
	"sync/atomic"
	"testing"
	"time"
)

// CA is a test certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

var serial atomic.Int64

// NewCA makes a self-signed CA named /O=kprod/CN=cn, valid for a day.
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	key := ECKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{Organization: []string{"kprod"}, CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: c, Key: key}
}

// ECKey makes a P-256 key.
func ECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Leaf describes a certificate to issue.
type Leaf struct {
	CN string
	// Names are DNS names and IP addresses (subjectAltNames); none puts the host only
	// in the Common Name, as legacy certificates did.
	Names []string
	// Client makes a client certificate (EKU clientAuth) instead of a server one.
	Client bool
	// Expired makes a certificate that expired yesterday.
	Expired bool
	// Key is the certificate's key; default a new P-256 key.
	Key crypto.Signer
}

// Issue signs a certificate; its chain is the leaf then the CA.
func (ca *CA) Issue(t testing.TB, o Leaf) tls.Certificate {
	t.Helper()
	if o.Key == nil {
		o.Key = ECKey(t)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{Organization: []string{"kprod"}, CommonName: o.CN},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if o.Client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if o.Expired {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	}
	for _, n := range o.Names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, o.Key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: o.Key, Leaf: c}
}

// Pool is a CertPool trusting the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// PEM is the CA certificate as PEM.
func (ca *CA) PEM() string { return CertPEM(ca.Cert.Raw) }

// CertPEM encodes certificates as PEM, in order.
func CertPEM(ders ...[]byte) string {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return string(out)
}

// KeyPEM encodes a key as unencrypted PKCS#8 PEM.
func KeyPEM(t testing.TB, k crypto.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// KeystorePEM is a certificate as Java's PEM keystore file holds it: the private
// key, then the certificate chain.
func KeystorePEM(t testing.TB, c tls.Certificate) string {
	t.Helper()
	return KeyPEM(t, c.PrivateKey) + CertPEM(c.Certificate...)
}

// WriteFile writes text to name in a temporary directory of t and returns its path.
func WriteFile(t testing.TB, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
