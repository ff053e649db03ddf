package tlsconf

import (
	"crypto/x509"
	"os"
	"testing"

	"github.com/kprod-io/kprod/internal/testcluster"
)

// TestHarnessPKI loads every store and key form of the secure cluster's PKI
// (scripts/kafka-pki, made by openssl and keytool) and checks each gives alice's key
// and certificate, or trusts the test CA; the forms Java refuses and kprod accepts
// (PBES2, PKCS#1) included. Skipped without a secure cluster.
func TestHarnessPKI(t *testing.T) {
	s := testcluster.Secure(t)
	read := func(name string) string {
		b, err := os.ReadFile(s.PKI(name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	alice, err := pemKey(read("alice.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	aliceCert, _ := pemCertificates(read("alice.pem"))
	sp, kp := s.StorePassword, s.KeyPassword
	keys := map[string]Settings{
		"JKS":             {KeystoreLocation: s.PKI("alice.jks"), KeystorePassword: sp, KeyPassword: kp},
		"PKCS12":          {KeystoreType: "PKCS12", KeystoreLocation: s.PKI("alice.p12"), KeystorePassword: sp},
		"legacy PKCS12":   {KeystoreType: "PKCS12", KeystoreLocation: s.PKI("alice.legacy.p12"), KeystorePassword: sp},
		"PEM file":        {KeystoreType: "PEM", KeystoreLocation: s.PKI("alice.keystore.pem")},
		"PEM file, PBES1": {KeystoreType: "PEM", KeystoreLocation: s.PKI("alice.pbes1.keystore.pem"), KeyPassword: kp},
		"inline PBES2":    {KeystoreType: "PEM", KeystoreKey: read("alice.pbes2.key"), KeystoreCertificateChain: read("alice.chain.pem"), KeyPassword: kp},
		"inline PBES1":    {KeystoreType: "PEM", KeystoreKey: read("alice.pbes1.key"), KeystoreCertificateChain: read("alice.pem"), KeyPassword: kp},
		"inline PKCS#1":   {KeystoreType: "PEM", KeystoreKey: read("alice.pkcs1.key"), KeystoreCertificateChain: read("alice.pem")},
		"inline PKCS#8":   {KeystoreType: "PEM", KeystoreKey: read("alice.key"), KeystoreCertificateChain: read("alice.pem")},
	}
	for name, ks := range keys {
		cert, err := keystore(&ks)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !sameKey(alice, cert.PrivateKey) || !cert.Leaf.Equal(aliceCert[0]) {
			t.Errorf("%s: not alice's key and certificate", name)
		}
	}
	ec, err := keystore(&Settings{KeystoreType: "PEM", KeystoreLocation: s.PKI("alice-ec.keystore.pem")})
	if err != nil || ec.Leaf.Subject.CommonName != "alice" {
		t.Errorf("EC keystore: %v", err)
	}

	ca, _ := pemCertificates(read("ca.pem"))
	trusts := map[string]Settings{
		"JKS":    {TruststoreLocation: s.PKI("truststore.jks"), TruststorePassword: sp},
		"PKCS12": {TruststoreType: "PKCS12", TruststoreLocation: s.PKI("truststore.p12"), TruststorePassword: sp},
		"PEM":    {TruststoreType: "PEM", TruststoreLocation: s.PKI("ca.pem")},
	}
	for name, ts := range trusts {
		pool, err := truststore(&ts)
		if err != nil {
			t.Errorf("%s truststore: %v", name, err)
			continue
		}
		if _, err := ca[0].Verify(x509.VerifyOptions{Roots: pool}); err != nil {
			t.Errorf("%s truststore does not trust the test CA: %v", name, err)
		}
	}
}
