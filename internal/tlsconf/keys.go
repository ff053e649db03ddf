package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// parseKey turns one PEM block into a private key a TLS client certificate can
// use. Java's PEM keystore reads PKCS#8 only (plain, or encrypted when
// ssl.key.password is set) with the RSA, DSA and EC key factories; kprod also
// reads PKCS#1 ("RSA PRIVATE KEY") and SEC 1 ("EC PRIVATE KEY") keys and Ed25519,
// which are harmless to accept, and refuses DSA, which Go's TLS cannot use.
func parseKey(b pemBlock, password string) (crypto.Signer, error) {
	if b.headers {
		return nil, errors.New("the key uses OpenSSL's legacy PEM encryption (Proc-Type/DEK-Info), which Java does not read either; convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`")
	}
	der := b.der
	switch b.label {
	case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		if isPlainPKCS8(der) {
			break // a key password with a plain key is ignored
		}
		if !isEncryptedPKCS8(der) {
			return nil, errors.New("malformed PKCS#8 private key")
		}
		if password == "" {
			return nil, errors.New("the private key is encrypted: set ssl.key.password")
		}
		plain, err := decryptPKCS8(der, password)
		if err != nil {
			return nil, err
		}
		der = plain
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("malformed PKCS#1 RSA key: %v", err)
		}
		return k, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("malformed SEC 1 EC key: %v", err)
		}
		return k, nil
	case "DSA PRIVATE KEY":
		return nil, errors.New("DSA keys cannot be used by Go's TLS; use an RSA, EC or Ed25519 key")
	default:
		return nil, fmt.Errorf("unsupported key block %q", clip(b.label))
	}
	return parsePKCS8(der)
}

// isPlainPKCS8 reports whether der parses as an unencrypted PKCS#8 key.
func isPlainPKCS8(der []byte) bool {
	_, err := x509.ParsePKCS8PrivateKey(der)
	return err == nil
}

// parsePKCS8 parses an unencrypted PKCS#8 key and checks TLS can sign with it.
func parsePKCS8(der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("malformed PKCS#8 private key: %v", err)
	}
	return tlsSigner(k)
}

// tlsSigner returns k if Go's TLS can sign with it.
func tlsSigner(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("private key of type %T cannot sign for TLS; use an RSA, EC or Ed25519 key", k)
}

// certificate pairs a key with its chain. The certificate matching the key goes
// first whatever its position (PKCS12 bags and files are not always ordered);
// the others follow in their order. Expiry is not checked here: Java loads an
// expired certificate too, and the broker judges it.
func certificate(key crypto.Signer, chain []*x509.Certificate) (tls.Certificate, error) {
	if len(chain) == 0 {
		return tls.Certificate{}, errors.New("no certificate for the private key")
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return tls.Certificate{}, errors.New("unsupported private key")
	}
	leaf := -1
	for i, c := range chain {
		if pub.Equal(c.PublicKey) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return tls.Certificate{}, errors.New("no certificate in the chain matches the private key")
	}
	out := tls.Certificate{PrivateKey: key, Leaf: chain[leaf]}
	out.Certificate = append(out.Certificate, chain[leaf].Raw)
	for i, c := range chain {
		if i != leaf {
			out.Certificate = append(out.Certificate, c.Raw)
		}
	}
	return out, nil
}
