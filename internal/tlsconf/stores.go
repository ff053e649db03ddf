package tlsconf

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// Store types (ssl.keystore.type, ssl.truststore.type), case-insensitive.
const (
	TypeJKS    = "JKS"
	TypePKCS12 = "PKCS12"
	TypePEM    = "PEM"
)

// storeType normalizes a store type, or says why it is refused.
func storeType(prop, t string) (string, error) {
	switch u := strings.ToUpper(strings.TrimSpace(t)); u {
	case "":
		return TypeJKS, nil // Java's default
	case TypeJKS, TypePKCS12, TypePEM:
		return u, nil
	}
	return "", &Error{Property: prop, Value: t, Reason: "kprod reads JKS, PKCS12 and PEM stores; other Java KeyStore types (JCEKS, PKCS11, BCFKS, ...) are not supported"}
}

// hidden is how a secret value appears in an error.
const hidden = "[hidden]"

// inlinePEM is how an inline PEM value appears in an error.
const inlinePEM = "(inline PEM)"

// truststore returns the trusted certificates, or nil to use the system's roots
// (Java's default trust store, cacerts, in Java). It applies the rules of Java's
// DefaultSslEngineFactory.createTruststore.
func truststore(s *Settings) (*x509.CertPool, error) {
	typ, err := storeType("ssl.truststore.type", s.TruststoreType)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	switch {
	case s.TruststoreCertificates != "":
		switch {
		case typ != TypePEM:
			return nil, &Error{"ssl.truststore.certificates", inlinePEM, "requires ssl.truststore.type=PEM (the default type is JKS)"}
		case s.TruststoreLocation != "":
			return nil, &Error{"ssl.truststore.location", s.TruststoreLocation, "cannot be set together with ssl.truststore.certificates"}
		case s.TruststorePassword != "":
			return nil, &Error{"ssl.truststore.password", hidden, "cannot be set for a PEM truststore"}
		}
		if certs, err = pemCertificates(s.TruststoreCertificates); err != nil {
			return nil, &Error{"ssl.truststore.certificates", inlinePEM, err.Error()}
		}
	case s.TruststoreLocation != "":
		if typ == TypePEM && s.TruststorePassword != "" {
			return nil, &Error{"ssl.truststore.password", hidden, "cannot be set for a PEM truststore"}
		}
		data, err := os.ReadFile(s.TruststoreLocation)
		if err != nil {
			return nil, &Error{"ssl.truststore.location", s.TruststoreLocation, readReason(err)}
		}
		if certs, err = loadTrusted(typ, data, s.TruststorePassword); err != nil {
			return nil, fileError("ssl.truststore", s.TruststoreLocation, typ+" truststore", err)
		}
	case s.TruststorePassword != "":
		return nil, &Error{"ssl.truststore.password", hidden, "is set but ssl.truststore.location is not"}
	default:
		return nil, nil
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// keystore returns the client certificate, or nil when none is configured (a
// broker that does not require one accepts that). It applies the rules of Java's
// DefaultSslEngineFactory.createKeystore.
func keystore(s *Settings) (*tls.Certificate, error) {
	typ, err := storeType("ssl.keystore.type", s.KeystoreType)
	if err != nil {
		return nil, err
	}
	var cert tls.Certificate
	switch {
	case s.KeystoreKey != "":
		switch {
		case typ != TypePEM:
			return nil, &Error{"ssl.keystore.key", hidden, "requires ssl.keystore.type=PEM (the default type is JKS)"}
		case s.KeystoreCertificateChain == "":
			return nil, &Error{"ssl.keystore.certificate.chain", "", "is required with ssl.keystore.key"}
		case s.KeystoreLocation != "":
			return nil, &Error{"ssl.keystore.location", s.KeystoreLocation, "cannot be set together with ssl.keystore.key"}
		case s.KeystorePassword != "":
			return nil, &Error{"ssl.keystore.password", hidden, "cannot be set for a PEM keystore; only ssl.key.password (for an encrypted key) can"}
		}
		key, err := pemKey(s.KeystoreKey, s.KeyPassword)
		if err != nil {
			if errors.Is(err, errWrongPassword) {
				return nil, &Error{"ssl.key.password", hidden, "ssl.keystore.key: " + err.Error()}
			}
			return nil, &Error{"ssl.keystore.key", hidden, err.Error()}
		}
		chain, err := pemCertificates(s.KeystoreCertificateChain)
		if err != nil {
			return nil, &Error{"ssl.keystore.certificate.chain", inlinePEM, err.Error()}
		}
		if cert, err = certificate(key, chain); err != nil {
			return nil, &Error{"ssl.keystore.certificate.chain", inlinePEM, err.Error()}
		}
	case s.KeystoreCertificateChain != "":
		return nil, &Error{"ssl.keystore.certificate.chain", inlinePEM, "requires ssl.keystore.key"}
	case s.KeystoreLocation != "" && typ == TypePEM:
		if s.KeystorePassword != "" {
			return nil, &Error{"ssl.keystore.password", hidden, "cannot be set for a PEM keystore; only ssl.key.password (for an encrypted key) can"}
		}
		data, err := os.ReadFile(s.KeystoreLocation)
		if err != nil {
			return nil, &Error{"ssl.keystore.location", s.KeystoreLocation, readReason(err)}
		}
		// Java's PEM keystore file: the private key, then the certificate chain.
		key, err := pemKey(string(data), s.KeyPassword)
		if err == nil {
			var chain []*x509.Certificate
			if chain, err = pemCertificates(string(data)); err == nil {
				cert, err = certificate(key, chain)
			}
		}
		if err != nil {
			return nil, fileError("ssl.keystore", s.KeystoreLocation, "PEM keystore", err)
		}
	case s.KeystoreLocation != "":
		if s.KeystorePassword == "" {
			return nil, &Error{"ssl.keystore.password", "", "is required with ssl.keystore.location for a " + typ + " keystore"}
		}
		data, err := os.ReadFile(s.KeystoreLocation)
		if err != nil {
			return nil, &Error{"ssl.keystore.location", s.KeystoreLocation, readReason(err)}
		}
		keyPassword := s.KeyPassword
		if keyPassword == "" {
			keyPassword = s.KeystorePassword // as Java's FileBasedStore.keyPassword()
		}
		if cert, err = loadKeyEntry(data, s.KeystorePassword, keyPassword); err != nil {
			return nil, fileError("ssl.keystore", s.KeystoreLocation, typ+" keystore", err)
		}
	case s.KeystorePassword != "":
		return nil, &Error{"ssl.keystore.password", hidden, "is set but ssl.keystore.location is not"}
	default:
		return nil, nil
	}
	return &cert, nil
}

// fileError reports a store file that could not be used. A wrong password is
// reported on the password property (ssl.key.password for a key entry), naming
// the file; anything else on the location property.
func fileError(prefix, path, what string, err error) *Error {
	reason := what + " " + path + ": " + err.Error()
	switch {
	case errors.Is(err, errStorePassword):
		return &Error{prefix + ".password", hidden, reason}
	case errors.Is(err, errWrongPassword):
		return &Error{"ssl.key.password", hidden, reason}
	}
	return &Error{prefix + ".location", path, what + ": " + err.Error()}
}

// readReason says why a store file could not be read, without Go's "open
// <path>:" prefix (the error names the path already).
func readReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return "cannot read the file: " + pe.Err.Error()
	}
	return "cannot read the file: " + err.Error()
}

// pemCertificates parses every CERTIFICATE block of text; there must be one.
func pemCertificates(text string) ([]*x509.Certificate, error) {
	blocks, err := parsePEM(text)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for _, b := range blocks {
		if b.label != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no CERTIFICATE block found")
	}
	return out, nil
}

// pemKey parses the one private key block of text (Java: "Expected one private
// key, but found N").
func pemKey(text, password string) (crypto.Signer, error) {
	blocks, err := parsePEM(text)
	if err != nil {
		return nil, err
	}
	var keys []pemBlock
	for _, b := range blocks {
		if isKeyLabel(b.label) {
			keys = append(keys, b)
		}
	}
	switch len(keys) {
	case 0:
		return nil, errors.New("no PRIVATE KEY block found")
	case 1:
	default:
		return nil, fmt.Errorf("expected one private key, found %d", len(keys))
	}
	return parseKey(keys[0], password)
}

// errStorePassword marks a wrong store password.
var errStorePassword = errors.New("wrong store password")

// loadTrusted reads the trusted certificates of a JKS or PKCS12 file. Like Java's
// dual-format KeyStore (keystore.type.compat), either type reads either format.
// Without a password, a JKS store is read without its integrity check, as in Java.
func loadTrusted(typ string, data []byte, password string) ([]*x509.Certificate, error) {
	if typ == TypePEM {
		return pemCertificates(string(data))
	}
	if isJKS(data) {
		st, err := parseJKS(data, password)
		if err != nil {
			return nil, jksError(err)
		}
		// Java's PKIX trust manager trusts every trusted-certificate entry and the
		// end-entity certificate of every key entry (KeyStores.getTrustedCerts).
		certs := st.trusted
		for _, k := range st.keys {
			if len(k.chain) > 0 {
				certs = append(certs, k.chain[0])
			}
		}
		if len(certs) == 0 {
			return nil, errors.New("holds no certificate")
		}
		return certs, nil
	}
	certs, err := pkcs12.DecodeTrustStore(data, password)
	if err != nil {
		return nil, pkcs12Error(err)
	}
	if len(certs) == 0 {
		return nil, errors.New("holds no trusted certificate")
	}
	return certs, nil
}

// loadKeyEntry reads the one private key entry of a JKS or PKCS12 file.
func loadKeyEntry(data []byte, password, keyPassword string) (tls.Certificate, error) {
	if isJKS(data) {
		st, err := parseJKS(data, password)
		if err != nil {
			return tls.Certificate{}, jksError(err)
		}
		switch len(st.keys) {
		case 0:
			return tls.Certificate{}, errors.New("holds no private key entry")
		case 1:
		default:
			return tls.Certificate{}, fmt.Errorf("holds %d private key entries; kprod needs exactly one", len(st.keys))
		}
		der, err := recoverJKSKey(st.keys[0].protected, keyPassword)
		if err != nil {
			return tls.Certificate{}, err
		}
		key, err := parsePKCS8(der)
		if err != nil {
			return tls.Certificate{}, err
		}
		return certificate(key, st.keys[0].chain)
	}
	// PKCS#12 protects keys with the store password (keytool and OpenSSL make them
	// so); a distinct key password is tried if the store password fails.
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil && keyPassword != password && errors.Is(err, pkcs12.ErrDecryption) {
		key, leaf, cas, err = pkcs12.DecodeChain(data, keyPassword)
	}
	if err != nil {
		return tls.Certificate{}, pkcs12Error(err)
	}
	signer, err := tlsSigner(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return certificate(signer, append([]*x509.Certificate{leaf}, cas...))
}

func jksError(err error) error {
	if errors.Is(err, errJKSIntegrity) {
		return fmt.Errorf("%w (the JKS integrity check failed)", errStorePassword)
	}
	return err
}

// pkcs12Error rewords go-pkcs12's errors for a person configuring Kafka.
func pkcs12Error(err error) error {
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword):
		return fmt.Errorf("%w (the PKCS12 integrity check failed)", errStorePassword)
	case errors.Is(err, pkcs12.ErrDecryption):
		return fmt.Errorf("%w (cannot decrypt the store)", errStorePassword)
	}
	msg := strings.TrimPrefix(err.Error(), "pkcs12: ")
	if strings.Contains(msg, "not marked as trusted") {
		msg += " (Java, too, trusts only certificates keytool imported with -importcert)"
	}
	return errors.New("not a PKCS12 store kprod can read: " + msg)
}
