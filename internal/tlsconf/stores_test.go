package tlsconf

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/internal/testpki"
)

// build runs Build with Java's default endpoint identification.
func build(s Settings) error {
	if s.EndpointIdentification == "" {
		s.EndpointIdentification = "https"
	}
	_, _, err := Build(s)
	return err
}

// TestStoresLoad: every store form Java reads gives the same trust and the same
// client certificate. JKS and PKCS12 each read the other's format, as Java's
// dual-format KeyStore does (keystore.type.compat).
func TestStoresLoad(t *testing.T) {
	ca, _ := pemCertificates(readFixture(t, "ca.pem"))
	clientKey, _ := pemKey(readFixture(t, "client.key"), "")
	trust := []Settings{
		{TruststoreLocation: fixture("truststore.jks"), TruststorePassword: fixtureStorePassword},
		{TruststoreLocation: fixture("truststore.jks")}, // no password: no integrity check
		{TruststoreType: "PKCS12", TruststoreLocation: fixture("truststore.p12"), TruststorePassword: fixtureStorePassword},
		{TruststoreType: "jks", TruststoreLocation: fixture("truststore.p12"), TruststorePassword: fixtureStorePassword},
		{TruststoreType: "PKCS12", TruststoreLocation: fixture("truststore.jks"), TruststorePassword: fixtureStorePassword},
		{TruststoreType: "PEM", TruststoreLocation: fixture("ca.pem")},
		{TruststoreType: "PEM", TruststoreCertificates: strings.Join(strings.Fields(readFixture(t, "ca.pem")), " ")},
	}
	for i, s := range trust {
		pool, err := truststore(&s)
		if err != nil {
			t.Errorf("truststore %d: %v", i, err)
			continue
		}
		if _, err := ca[0].Verify(x509.VerifyOptions{Roots: pool}); err != nil {
			t.Errorf("truststore %d does not trust the CA: %v", i, err)
		}
	}
	keys := []Settings{
		{KeystoreLocation: fixture("client.jks"), KeystorePassword: fixtureStorePassword, KeyPassword: fixtureKeyPassword},
		{KeystoreType: "PKCS12", KeystoreLocation: fixture("client.p12"), KeystorePassword: fixtureStorePassword},
		{KeystoreType: "PKCS12", KeystoreLocation: fixture("client.legacy.p12"), KeystorePassword: fixtureStorePassword},
		{KeystoreType: "JKS", KeystoreLocation: fixture("client.p12"), KeystorePassword: fixtureStorePassword},
		{KeystoreType: "PKCS12", KeystoreLocation: fixture("client.jks"), KeystorePassword: fixtureStorePassword, KeyPassword: fixtureKeyPassword},
		{KeystoreType: "PEM", KeystoreLocation: fixture("client.keystore.pem")},
		{KeystoreType: "PEM", KeystoreKey: readFixture(t, "client.pbes1-sha1-3des.key"), KeystoreCertificateChain: readFixture(t, "client.pem"), KeyPassword: fixtureKeyPassword},
		{KeystoreType: "PEM", KeystoreKey: readFixture(t, "client.pbes2-aes256-sha256.key"), KeystoreCertificateChain: readFixture(t, "client.pem"), KeyPassword: fixtureKeyPassword},
	}
	for i, s := range keys {
		cert, err := keystore(&s)
		if err != nil {
			t.Errorf("keystore %d: %v", i, err)
			continue
		}
		if !sameKey(clientKey, cert.PrivateKey) || cert.Leaf.Subject.CommonName != "client" {
			t.Errorf("keystore %d: wrong key or certificate (%s)", i, cert.Leaf.Subject)
		}
	}
}

// TestStoreRules: the combinations Java's DefaultSslEngineFactory refuses are
// refused, each naming the property to fix; no message shows a password.
func TestStoreRules(t *testing.T) {
	p8 := readFixture(t, "client.key")
	chain := readFixture(t, "client.pem")
	for _, c := range []struct {
		name string
		s    Settings
		prop string
		want string
	}{
		{"inline key with JKS type", Settings{KeystoreKey: p8, KeystoreCertificateChain: chain}, "ssl.keystore.key", "ssl.keystore.type=PEM"},
		{"inline key without chain", Settings{KeystoreType: "PEM", KeystoreKey: p8}, "ssl.keystore.certificate.chain", "is required"},
		{"inline key and location", Settings{KeystoreType: "PEM", KeystoreKey: p8, KeystoreCertificateChain: chain, KeystoreLocation: "/x"}, "ssl.keystore.location", "cannot be set together"},
		{"inline key and store password", Settings{KeystoreType: "PEM", KeystoreKey: p8, KeystoreCertificateChain: chain, KeystorePassword: "store-pw"}, "ssl.keystore.password", "PEM keystore"},
		{"chain without key", Settings{KeystoreType: "PEM", KeystoreCertificateChain: chain}, "ssl.keystore.certificate.chain", "requires ssl.keystore.key"},
		{"PEM file with store password", Settings{KeystoreType: "PEM", KeystoreLocation: fixture("client.keystore.pem"), KeystorePassword: "store-pw"}, "ssl.keystore.password", "PEM keystore"},
		{"JKS without store password", Settings{KeystoreLocation: fixture("client.jks")}, "ssl.keystore.password", "is required"},
		{"store password without location", Settings{KeystorePassword: "store-pw"}, "ssl.keystore.password", "ssl.keystore.location is not"},
		{"missing keystore", Settings{KeystoreLocation: "/nonexistent/k.jks", KeystorePassword: "store-pw"}, "ssl.keystore.location", "no such file"},
		{"wrong keystore password", Settings{KeystoreLocation: fixture("client.jks"), KeystorePassword: "store-pw", KeyPassword: fixtureKeyPassword}, "ssl.keystore.password", "wrong store password"},
		{"wrong key password", Settings{KeystoreLocation: fixture("client.jks"), KeystorePassword: fixtureStorePassword, KeyPassword: "key-pw"}, "ssl.key.password", "cannot decrypt"},
		{"default key password is the store's", Settings{KeystoreLocation: fixture("client.jks"), KeystorePassword: fixtureStorePassword}, "ssl.key.password", "cannot decrypt"},
		{"wrong PKCS12 password", Settings{KeystoreType: "PKCS12", KeystoreLocation: fixture("client.p12"), KeystorePassword: "store-pw"}, "ssl.keystore.password", "wrong store password"},
		{"encrypted PEM without password", Settings{KeystoreType: "PEM", KeystoreKey: readFixture(t, "client.pbes1-sha1-3des.key"), KeystoreCertificateChain: chain}, "ssl.keystore.key", "set ssl.key.password"},
		{"encrypted PEM wrong password", Settings{KeystoreType: "PEM", KeystoreKey: readFixture(t, "client.pbes2-aes256-sha256.key"), KeystoreCertificateChain: chain, KeyPassword: "key-pw"}, "ssl.key.password", "cannot decrypt"},
		{"chain of another key", Settings{KeystoreType: "PEM", KeystoreKey: testpki.KeyPEM(t, testpki.ECKey(t)), KeystoreCertificateChain: chain}, "ssl.keystore.certificate.chain", "matches the private key"},
		{"keystore type", Settings{KeystoreType: "PKCS11", KeystoreLocation: "NONE", KeystorePassword: "store-pw"}, "ssl.keystore.type", "JKS, PKCS12 and PEM"},
		{"PEM file keystore without key", Settings{KeystoreType: "PEM", KeystoreLocation: fixture("client.pem")}, "ssl.keystore.location", "no PRIVATE KEY"},

		{"inline certificates with JKS type", Settings{TruststoreCertificates: chain}, "ssl.truststore.certificates", "ssl.truststore.type=PEM"},
		{"inline certificates and location", Settings{TruststoreType: "PEM", TruststoreCertificates: chain, TruststoreLocation: "/x"}, "ssl.truststore.location", "cannot be set together"},
		{"inline certificates and password", Settings{TruststoreType: "PEM", TruststoreCertificates: chain, TruststorePassword: "store-pw"}, "ssl.truststore.password", "PEM truststore"},
		{"PEM truststore file with password", Settings{TruststoreType: "PEM", TruststoreLocation: fixture("ca.pem"), TruststorePassword: "store-pw"}, "ssl.truststore.password", "PEM truststore"},
		{"truststore password without location", Settings{TruststorePassword: "store-pw"}, "ssl.truststore.password", "ssl.truststore.location is not"},
		{"wrong truststore password", Settings{TruststoreLocation: fixture("truststore.jks"), TruststorePassword: "store-pw"}, "ssl.truststore.password", "wrong store password"},
		{"PKCS12 truststore without password", Settings{TruststoreType: "PKCS12", TruststoreLocation: fixture("truststore.p12")}, "ssl.truststore.password", "wrong store password"},
		{"keystore as PKCS12 truststore", Settings{TruststoreType: "PKCS12", TruststoreLocation: fixture("client.p12"), TruststorePassword: fixtureStorePassword}, "ssl.truststore.location", "PKCS12"},
		{"truststore type", Settings{TruststoreType: "JCEKS", TruststoreLocation: fixture("truststore.jks")}, "ssl.truststore.type", "JKS, PKCS12 and PEM"},
		{"empty PEM truststore", Settings{TruststoreType: "PEM", TruststoreLocation: fixture("client.key")}, "ssl.truststore.location", "no CERTIFICATE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := build(c.s)
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v, want an *Error", err)
			}
			if te.Property != c.prop || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want property %s and %q", err, c.prop, c.want)
			}
			for _, secret := range []string{"store-pw", "key-pw", fixtureStorePassword, fixtureKeyPassword, "-----BEGIN"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows %q: %v", secret, err)
				}
			}
		})
	}
}

// TestKeyTypes: RSA (PKCS#8 and PKCS#1), EC and Ed25519 keys all make client
// certificates. Java's PEM keystore refuses PKCS#1 and Ed25519; accepting them is
// harmless (the broker judges the certificate either way).
func TestKeyTypes(t *testing.T) {
	ca := testpki.NewCA(t, "keys CA")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ec := testpki.ECKey(t)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	for _, c := range []struct {
		name string
		key  crypto.Signer
		pem  string
	}{
		{"rsa pkcs8", rsaKey, testpki.KeyPEM(t, rsaKey)},
		{"rsa pkcs1", rsaKey, pkcs1},
		{"ec pkcs8", ec, testpki.KeyPEM(t, ec)},
		{"ed25519", edKey, testpki.KeyPEM(t, edKey)},
	} {
		leaf := ca.Issue(t, testpki.Leaf{CN: c.name, Client: true, Key: c.key})
		s := Settings{KeystoreType: "PEM", KeystoreKey: c.pem, KeystoreCertificateChain: testpki.CertPEM(leaf.Certificate...)}
		cert, err := keystore(&s)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !sameKey(c.key, cert.PrivateKey) || !cert.Leaf.Equal(leaf.Leaf) || len(cert.Certificate) != 2 {
			t.Errorf("%s: wrong key, leaf or chain", c.name)
		}
	}
}

// TestChainOrder: the certificate of the key goes first even when a file lists
// the CA first.
func TestChainOrder(t *testing.T) {
	ca := testpki.NewCA(t, "order CA")
	leaf := ca.Issue(t, testpki.Leaf{CN: "c", Client: true})
	s := Settings{KeystoreType: "PEM", KeystoreKey: testpki.KeyPEM(t, leaf.PrivateKey),
		KeystoreCertificateChain: testpki.CertPEM(ca.Cert.Raw, leaf.Leaf.Raw)}
	cert, err := keystore(&s)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.Leaf.Equal(leaf.Leaf) || string(cert.Certificate[0]) != string(leaf.Leaf.Raw) || string(cert.Certificate[1]) != string(ca.Cert.Raw) {
		t.Fatal("the key's certificate is not first")
	}
}
