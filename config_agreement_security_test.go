package kprod_test

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/kprod-io/kprod"
)

// The security properties in the agreement test. The stores are package tlsconf's
// fixtures (internal/tlsconf/testdata/gen.sh); a protocol with TLS is set beside the
// ssl.* property, since Java (and kprod) look at ssl.* only then.

func tlsFixture(name string) string { return filepath.Join("internal", "tlsconf", "testdata", name) }

func tlsFixtureText(name string) string {
	b, err := os.ReadFile(tlsFixture(name))
	if err != nil {
		panic(err)
	}
	return strings.TrimSpace(string(b)) // as a properties value is: trimmed
}

const (
	fixtureStorePassword = "store-secret"
	fixtureKeyPassword   = "key-secret"
	hidden               = "[hidden]"
)

var (
	useSSL  = agreeSetting{"security.protocol", "SSL", kprod.SecuritySSL}
	pemKS   = agreeSetting{"ssl.keystore.type", "PEM", "PEM"}
	pemTS   = agreeSetting{"ssl.truststore.type", "PEM", "PEM"}
	jksKS   = agreeSetting{"ssl.keystore.location", tlsFixture("client.jks"), tlsFixture("client.jks")}
	jksPass = agreeSetting{"ssl.keystore.password", fixtureStorePassword, fixtureStorePassword}
	keyPass = agreeSetting{"ssl.key.password", fixtureKeyPassword, fixtureKeyPassword}
)

func securityInvalidCases() []agreeCase {
	chain := tlsFixtureText("client.pem")
	key := tlsFixtureText("client.pbes1-sha1-3des.key")
	return []agreeCase{
		agree("security.protocol", "TLS", kprod.SecurityProtocol(9)),
		agree("ssl.protocol", "TLSv1.1", "TLSv1.1", useSSL),
		agree("ssl.enabled.protocols", "TLSv1.4", []string{"TLSv1.4"}, useSSL),
		agree("ssl.cipher.suites", "TLS_AES_128_GCM_SHA256", []string{"TLS_AES_128_GCM_SHA256"}, useSSL),
		agree("ssl.endpoint.identification.algorithm", "ldaps", kprod.EndpointIdentification(5)),
		agree("ssl.truststore.type", "JCEKS", "JCEKS", useSSL, agreeSetting{"ssl.truststore.location", tlsFixture("truststore.jks"), tlsFixture("truststore.jks")}),
		agree("ssl.truststore.location", "/nonexistent/truststore.jks", "/nonexistent/truststore.jks", useSSL),
		agree("ssl.truststore.password", "pw", "pw", useSSL),                                             // without a location
		agree("ssl.truststore.certificates", tlsFixtureText("ca.pem"), tlsFixtureText("ca.pem"), useSSL), // JKS type
		agree("ssl.keystore.type", "PKCS11", "PKCS11", useSSL, jksKS, jksPass),
		agree("ssl.keystore.location", "/nonexistent/keystore.jks", "/nonexistent/keystore.jks", useSSL, jksPass),
		agree("ssl.keystore.password", "wrong", "wrong", useSSL, jksKS, keyPass),
		agree("ssl.keystore.key", key, key, useSSL, keyPass, agreeSetting{"ssl.keystore.certificate.chain", chain, chain}), // JKS type
		agree("ssl.keystore.certificate.chain", chain, chain, useSSL, pemKS),                                               // without a key
		agree("ssl.key.password", "wrong", "wrong", useSSL, pemKS, agreeSetting{"ssl.keystore.key", key, key},
			agreeSetting{"ssl.keystore.certificate.chain", chain, chain}),
	}
}

func securityValidCases() []agreeCase {
	withWant := func(c agreeCase, want string) agreeCase { c.want = want; return c }
	chain := tlsFixtureText("client.pem")
	key := tlsFixtureText("client.pbes2-aes256-sha256.key")
	ca := tlsFixtureText("ca.pem")
	return []agreeCase{
		agree("security.protocol", "PLAINTEXT", kprod.SecurityPlaintext),
		agree("security.protocol", "SSL", kprod.SecuritySSL),
		agree("ssl.protocol", "TLSv1.2", "TLSv1.2", useSSL),
		agree("ssl.enabled.protocols", "TLSv1.3", []string{"TLSv1.3"}, useSSL),
		agree("ssl.cipher.suites", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", []string{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}, useSSL),
		agree("ssl.endpoint.identification.algorithm", "", kprod.EndpointIdentificationNone, useSSL),
		agree("ssl.endpoint.identification.algorithm", "https", kprod.EndpointIdentificationHTTPS, useSSL),
		agree("ssl.truststore.type", "PKCS12", "PKCS12", useSSL,
			agreeSetting{"ssl.truststore.location", tlsFixture("truststore.p12"), tlsFixture("truststore.p12")},
			agreeSetting{"ssl.truststore.password", fixtureStorePassword, fixtureStorePassword}),
		agree("ssl.truststore.location", tlsFixture("truststore.jks"), tlsFixture("truststore.jks"), useSSL),
		withWant(agree("ssl.truststore.password", fixtureStorePassword, fixtureStorePassword, useSSL,
			agreeSetting{"ssl.truststore.location", tlsFixture("truststore.jks"), tlsFixture("truststore.jks")}), hidden),
		agree("ssl.truststore.certificates", ca, ca, useSSL, pemTS),
		agree("ssl.keystore.type", "PKCS12", "PKCS12", useSSL, jksPass,
			agreeSetting{"ssl.keystore.location", tlsFixture("client.p12"), tlsFixture("client.p12")}),
		agree("ssl.keystore.location", tlsFixture("client.jks"), tlsFixture("client.jks"), useSSL, jksPass, keyPass),
		withWant(agree("ssl.keystore.password", fixtureStorePassword, fixtureStorePassword, useSSL, jksKS, keyPass), hidden),
		withWant(agree("ssl.keystore.key", key, key, useSSL, pemKS, keyPass, agreeSetting{"ssl.keystore.certificate.chain", chain, chain}), hidden),
		agree("ssl.keystore.certificate.chain", chain, chain, useSSL, pemKS, keyPass, agreeSetting{"ssl.keystore.key", key, key}),
		withWant(agree("ssl.key.password", fixtureKeyPassword, fixtureKeyPassword, useSSL, jksKS, jksPass), hidden),
	}
}
