// Package tlsconf turns Kafka's ssl.* client properties into a *tls.Config, as
// Java's DefaultSslEngineFactory turns them into an SSLContext: trust and key
// stores in PEM (files and inline), PKCS12 and JKS, encrypted PKCS#8 keys (PBES1
// and PBES2), endpoint identification, protocols and cipher suites. It only reads
// the files the settings name; dialing and per-broker ServerName are the broker
// package's job.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// Settings are the ssl.* properties, as strings Java would read. Empty means
// Java's default, except EndpointIdentification, whose "" is a value (no host
// check); callers pass "https" for Java's default.
type Settings struct {
	Protocol               string   // ssl.protocol: TLSv1.3 (default), TLSv1.2 or TLS
	EnabledProtocols       []string // ssl.enabled.protocols: default TLSv1.2,TLSv1.3
	CipherSuites           []string // ssl.cipher.suites: default Go's
	EndpointIdentification string   // ssl.endpoint.identification.algorithm: "https" or ""

	TruststoreType         string // ssl.truststore.type: JKS (default), PKCS12 or PEM
	TruststoreLocation     string // ssl.truststore.location
	TruststorePassword     string // ssl.truststore.password
	TruststoreCertificates string // ssl.truststore.certificates: inline PEM

	KeystoreType             string // ssl.keystore.type: JKS (default), PKCS12 or PEM
	KeystoreLocation         string // ssl.keystore.location
	KeystorePassword         string // ssl.keystore.password
	KeystoreKey              string // ssl.keystore.key: inline PEM private key
	KeystoreCertificateChain string // ssl.keystore.certificate.chain: inline PEM
	KeyPassword              string // ssl.key.password
}

// String prints s with its secrets (passwords, the inline key) as "[hidden]", so
// that logging resolved settings never shows them.
func (s Settings) String() string {
	for _, p := range []*string{&s.TruststorePassword, &s.KeystorePassword, &s.KeystoreKey, &s.KeyPassword} {
		if *p != "" {
			*p = hidden
		}
	}
	type plain Settings // no String method: no recursion
	return fmt.Sprintf("%+v", plain(s))
}

// GoString is String, for %#v.
func (s Settings) GoString() string { return s.String() }

// Error is a property that cannot be used. Value never holds a secret.
type Error struct {
	Property, Value, Reason string
}

// Error returns "kprod: invalid config property=value: reason", the form of the
// root package's ConfigError.
func (e *Error) Error() string {
	return "kprod: invalid config " + e.Property + "=" + e.Value + ": " + e.Reason
}

// clip is a value read from a file as an error shows it. Real labels, OIDs and
// type names are short; a corrupt or hostile file's can be megabytes, which
// would drown the message.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

// Build returns the client TLS configuration for s, and notes about listed
// protocols and cipher suites that are ignored (as Java ignores them). Its
// ServerName is empty: the dialer sets it per broker. Every problem is an *Error;
// they are joined.
func Build(s Settings) (*tls.Config, []string, error) {
	var errs []error
	cfg := &tls.Config{}
	versions, notes, err := protocolRange(s.Protocol, s.EnabledProtocols)
	if err != nil {
		errs = append(errs, err)
	}
	suites, allow13, only13, suiteNotes, err := cipherSuites(s.CipherSuites)
	notes = append(notes, suiteNotes...)
	if err != nil {
		errs = append(errs, err)
	}
	if err == nil && versions.ok {
		cfg.MinVersion, cfg.MaxVersion = versions.min, versions.max
		if !allow13 { // no TLS 1.3 suite listed: Java cannot negotiate TLS 1.3
			cfg.MaxVersion = min(cfg.MaxVersion, tls.VersionTLS12)
		}
		if only13 { // only TLS 1.3 suites listed: TLS 1.2 has nothing to negotiate
			cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS13)
		}
		if cfg.MinVersion > cfg.MaxVersion {
			errs = append(errs, &Error{"ssl.cipher.suites", strings.Join(s.CipherSuites, ","),
				"lists no suite for the protocols ssl.enabled.protocols and ssl.protocol allow (" + versionNames(versions) + ")"})
		} else if err := tls13Subset(s.CipherSuites, cfg.MaxVersion); err != nil {
			errs = append(errs, err)
		}
		cfg.CipherSuites = suites
	}

	roots, err := truststore(&s)
	if err != nil {
		errs = append(errs, err)
	}
	cfg.RootCAs = roots
	cert, err := keystore(&s)
	if err != nil {
		errs = append(errs, err)
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}

	switch strings.ToLower(s.EndpointIdentification) {
	case "https":
		// Go's verification checks the chain and the broker's host (DNS or IP SAN)
		// against the per-broker ServerName the dialer sets.
	case "":
		// Java's "": the chain is still verified, the host is not.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = verifyChainOnly(roots)
	default:
		errs = append(errs, &Error{"ssl.endpoint.identification.algorithm", s.EndpointIdentification,
			`must be "https" (check the broker's host name, the default) or empty (do not)`})
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return cfg, notes, nil
}

// verifyChainOnly verifies the broker's chain against roots (the system's when
// nil) for server authentication, ignoring its host names.
func verifyChainOnly(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the broker sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
}

// Unsupported returns why the Java-only property prop cannot take value in kprod,
// or "" when value is Java's default (or means the same as it). These properties
// configure Java's security providers, key and trust managers and random number
// generator; Go's crypto/tls has one of each.
func Unsupported(prop, value string) string {
	v := strings.TrimSpace(value)
	switch prop {
	case "ssl.provider":
		if v == "" {
			return ""
		}
		return "Java security providers do not apply: kprod uses Go's crypto/tls; remove the property"
	case "ssl.keymanager.algorithm":
		// SunX509 is Java's default; NewSunX509 (alias PKIX) differs only in how it
		// picks among several keys, and kprod's keystores hold one.
		switch strings.ToUpper(v) {
		case "SUNX509", "NEWSUNX509", "PKIX":
			return ""
		}
		return "kprod supports only Java's default key manager (SunX509, or its equivalents NewSunX509 and PKIX)"
	case "ssl.trustmanager.algorithm":
		switch strings.ToUpper(v) {
		case "PKIX", "SUNPKIX", "X509", "X.509":
			return ""
		}
		return "kprod supports only Java's default trust manager, PKIX (X.509 chain validation by Go's crypto/x509)"
	case "ssl.secure.random.implementation":
		if v == "" {
			return ""
		}
		return "kprod always uses Go's crypto/rand (the operating system's generator); remove the property"
	case "ssl.engine.factory.class":
		if v == "" {
			return ""
		}
		return "a Java SslEngineFactory cannot run in Go; set kprod.Config.TLS to a *tls.Config instead"
	}
	return ""
}
