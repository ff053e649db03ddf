package kprod

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/internal/tlsconf"
)

// SecurityProtocol is security.protocol: how the producer talks to brokers. Its zero
// value is SecurityPlaintext, Kafka's default.
type SecurityProtocol int8

const (
	// SecurityPlaintext sends everything in the clear, unauthenticated. Default.
	SecurityPlaintext SecurityProtocol = iota
	// SecuritySSL uses TLS (Config.TLS, or Config.SSL's ssl.* settings), with a client
	// certificate when the keystore has one (mTLS).
	SecuritySSL
	// SecuritySASLPlaintext authenticates with SASL (Config.SASL) over a plain
	// connection.
	SecuritySASLPlaintext
	// SecuritySASLSSL authenticates with SASL (Config.SASL) over TLS.
	SecuritySASLSSL
)

var securityProtocolNames = [...]string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

// String returns Java's name: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
func (p SecurityProtocol) String() string {
	if p.valid() {
		return securityProtocolNames[p]
	}
	return "SecurityProtocol(" + strconv.Itoa(int(p)) + ")"
}

func (p SecurityProtocol) valid() bool { return p >= 0 && int(p) < len(securityProtocolNames) }

// usesTLS reports SSL and SASL_SSL.
func (p SecurityProtocol) usesTLS() bool { return p == SecuritySSL || p == SecuritySASLSSL }

// sasl reports SASL_PLAINTEXT and SASL_SSL.
func (p SecurityProtocol) sasl() bool { return p == SecuritySASLPlaintext || p == SecuritySASLSSL }

// Password is a secret property value (Java's Password type): a set one prints as
// "[hidden]" with fmt (every verb, a whole Config included), in JSON and as text, so
// logging a Config never shows a secret; an unset one prints as empty (Java logs an
// unset password as null), so a log shows which secrets are set. string(p) is the
// value.
type Password string

const hiddenPassword = "[hidden]"

// shown is what p prints as: "" when unset, else "[hidden]".
func (p Password) shown() string {
	if p == "" {
		return ""
	}
	return hiddenPassword
}

// String returns "[hidden]", or "" when unset.
func (p Password) String() string { return p.shown() }

// GoString returns "[hidden]", or "" when unset.
func (p Password) GoString() string { return p.shown() }

// Format writes "[hidden]", or nothing when unset, whatever the verb.
func (p Password) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.shown()) }

// MarshalJSON returns "[hidden]" as a JSON string, or "" when unset.
func (p Password) MarshalJSON() ([]byte, error) { return []byte(`"` + p.shown() + `"`), nil }

// MarshalText returns "[hidden]", or nothing when unset.
func (p Password) MarshalText() ([]byte, error) { return []byte(p.shown()), nil }

// EndpointIdentification is ssl.endpoint.identification.algorithm. Its zero value
// checks the broker's host name, Java's default "https".
type EndpointIdentification int8

const (
	// EndpointIdentificationHTTPS checks that the broker's certificate is valid for the
	// host the producer dialed (a DNS or IP subjectAltName), as Java's "https". Default.
	EndpointIdentificationHTTPS EndpointIdentification = iota
	// EndpointIdentificationNone is Java's "": the certificate chain is still verified,
	// the host name is not.
	EndpointIdentificationNone
)

// String returns Java's value: "https" or "".
func (e EndpointIdentification) String() string {
	switch e {
	case EndpointIdentificationHTTPS:
		return "https"
	case EndpointIdentificationNone:
		return ""
	}
	return "EndpointIdentification(" + strconv.Itoa(int(e)) + ")"
}

// SSLConfig holds the ssl.* properties: how TLS is set up for security.protocol SSL
// and SASL_SSL when Config.TLS is nil. The zero value of every field means Java's
// default. Stores are JKS (Java's default type), PKCS12 or PEM; a PEM keystore file
// holds the private key then the certificate chain, as Java's does. Encrypted PEM
// keys may use PBES1 (which Java requires) or PBES2 (OpenSSL 3's default, which Java
// refuses); kprod also reads PKCS#1 and SEC 1 PEM keys and Ed25519, which Java's PEM
// keystore refuses. Java's rules between the properties apply: a password on a PEM
// store, an inline key with another store type, a keystore without its password are
// errors naming the property.
type SSLConfig struct {
	// Protocol is ssl.protocol: TLSv1.3 (and TLS, SSL) allow TLS 1.2 and 1.3,
	// TLSv1.2 caps at TLS 1.2. Default "TLSv1.3".
	Protocol string
	// EnabledProtocols is ssl.enabled.protocols: TLSv1.2 and/or TLSv1.3; the older
	// ones, disabled in Java by default, are ignored. Default TLSv1.2,TLSv1.3.
	EnabledProtocols []string
	// CipherSuites is ssl.cipher.suites, by IANA (or Java's SSL_) names. Go honours a
	// list for TLS 1.2 only: its three TLS 1.3 suites cannot be restricted, so list all
	// three or none (none disables TLS 1.3, as in Java). Suites Go lacks (DHE, CCM, ...)
	// and RC4/3DES ones are ignored. Default Go's list.
	CipherSuites []string
	// EndpointIdentification is ssl.endpoint.identification.algorithm. Default
	// EndpointIdentificationHTTPS. Go does not fall back to a certificate's Common
	// Name as Java does: a broker certificate needs a subjectAltName for its host.
	EndpointIdentification EndpointIdentification

	// TruststoreType is ssl.truststore.type: JKS, PKCS12 or PEM. Default "JKS".
	TruststoreType string
	// TruststoreLocation is ssl.truststore.location, the trusted certificates' file.
	// Default none: the system's trusted roots.
	TruststoreLocation string
	// TruststorePassword is ssl.truststore.password (JKS, PKCS12); without it a JKS
	// store is read without its integrity check, as in Java. Default none.
	TruststorePassword Password
	// TruststoreCertificates is ssl.truststore.certificates: trusted certificates as
	// inline PEM, with TruststoreType PEM. Default none.
	TruststoreCertificates string

	// KeystoreType is ssl.keystore.type: JKS, PKCS12 or PEM. Default "JKS".
	KeystoreType string
	// KeystoreLocation is ssl.keystore.location, the client certificate's store for
	// mTLS. Default none: no client certificate.
	KeystoreLocation string
	// KeystorePassword is ssl.keystore.password (JKS, PKCS12). Default none.
	KeystorePassword Password
	// KeystoreKey is ssl.keystore.key: the private key as inline PEM, with KeystoreType
	// PEM and KeystoreCertificateChain. Default none.
	KeystoreKey Password
	// KeystoreCertificateChain is ssl.keystore.certificate.chain: the client
	// certificate chain as inline PEM. Default none.
	KeystoreCertificateChain string
	// KeyPassword is ssl.key.password: decrypts an encrypted PEM key or a JKS key
	// entry (whose default is KeystorePassword). Default none.
	KeyPassword Password
}

// resolve fills in Java's defaults, as tlsconf reads them.
func (s *SSLConfig) resolve() tlsconf.Settings {
	out := tlsconf.Settings{
		Protocol:                 s.Protocol,
		EnabledProtocols:         s.EnabledProtocols,
		CipherSuites:             s.CipherSuites,
		EndpointIdentification:   s.EndpointIdentification.String(),
		TruststoreType:           strings.ToUpper(s.TruststoreType),
		TruststoreLocation:       s.TruststoreLocation,
		TruststorePassword:       string(s.TruststorePassword),
		TruststoreCertificates:   s.TruststoreCertificates,
		KeystoreType:             strings.ToUpper(s.KeystoreType),
		KeystoreLocation:         s.KeystoreLocation,
		KeystorePassword:         string(s.KeystorePassword),
		KeystoreKey:              string(s.KeystoreKey),
		KeystoreCertificateChain: s.KeystoreCertificateChain,
		KeyPassword:              string(s.KeyPassword),
	}
	d := &javaDefaults.SSL
	if out.Protocol == "" {
		out.Protocol = d.Protocol
	}
	if len(out.EnabledProtocols) == 0 {
		out.EnabledProtocols = d.EnabledProtocols
	}
	if out.TruststoreType == "" {
		out.TruststoreType = d.TruststoreType
	}
	if out.KeystoreType == "" {
		out.KeystoreType = d.KeystoreType
	}
	return out
}

// checkSecurity resolves security.protocol, the SASL mechanism for SASL protocols
// (checkSASL) and, when the protocol uses TLS and loadTLS is set, builds the TLS
// configuration (reading the stores the ssl.* settings name). Like Java, ssl.*
// settings are not looked at for a protocol without TLS.
func checkSecurity(c *Config, s *config.Settings, loadTLS bool, errs []error) []error {
	bad := func(prop, value, reason string) {
		errs = append(errs, &ConfigError{Property: prop, Value: value, Reason: reason})
	}
	s.SecurityProtocol = c.SecurityProtocol.String()
	s.SSL = c.SSL.resolve()
	if c.SSL.EndpointIdentification != EndpointIdentificationHTTPS && c.SSL.EndpointIdentification != EndpointIdentificationNone {
		bad("ssl.endpoint.identification.algorithm", c.SSL.EndpointIdentification.String(),
			"must be EndpointIdentificationHTTPS or EndpointIdentificationNone")
		return errs
	}
	p := c.SecurityProtocol
	if !p.valid() {
		bad("security.protocol", p.String(), "must be SecurityPlaintext, SecuritySSL, SecuritySASLPlaintext or SecuritySASLSSL")
		return errs
	}
	errs = checkSASL(c, s, errs)
	switch {
	case !p.usesTLS():
		if c.TLS != nil {
			bad("security.protocol", p.String(), "Config.TLS is set, but this protocol does not use TLS; set SecurityProtocol to SecuritySSL or SecuritySASLSSL")
		}
		return errs
	case c.TLS != nil:
		s.TLS = c.TLS
		return errs
	case !loadTLS:
		return errs
	}
	cfg, notes, err := tlsconf.Build(s.SSL)
	if err != nil {
		for _, e := range unwrapJoined(err) {
			var te *tlsconf.Error
			if errors.As(e, &te) {
				bad(te.Property, te.Value, te.Reason)
			} else {
				errs = append(errs, e)
			}
		}
		return errs
	}
	s.TLS, s.TLSNotes = cfg, notes
	return errs
}

// unwrapJoined lists the errors of an errors.Join.
func unwrapJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// setSecurityProtocol parses security.protocol by Java's names, in any case as
// Java's SecurityProtocol.forName accepts them.
func setSecurityProtocol(c *Config, v string) error {
	for i, n := range securityProtocolNames {
		if strings.EqualFold(v, n) {
			c.SecurityProtocol = SecurityProtocol(i)
			return nil
		}
	}
	return errors.New("must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
}

// setEndpointIdentification parses ssl.endpoint.identification.algorithm.
func setEndpointIdentification(c *Config, v string) error {
	switch {
	case strings.EqualFold(v, "https"):
		c.SSL.EndpointIdentification = EndpointIdentificationHTTPS
	case v == "":
		c.SSL.EndpointIdentification = EndpointIdentificationNone
	default:
		return errors.New(`must be "https" (check the broker's host name, the default) or empty (do not)`)
	}
	return nil
}

// setPassword stores a Password property.
func setPassword(field func(*Config) *Password) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = Password(v)
		return nil
	}
}

// setList stores a LIST property, dropping empty elements.
func setList(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = nonEmpty(config.ParseList(v))
		return nil
	}
}

// setJavaOnly accepts a Java-only ssl.* property at Java's default value (or an
// equivalent one) and refuses any other value, saying why.
func setJavaOnly(prop string) func(*Config, string) error {
	return func(_ *Config, v string) error {
		if reason := tlsconf.Unsupported(prop, v); reason != "" {
			return errors.New(reason)
		}
		return nil
	}
}

// getPassword prints a set secret as Java's logs do.
func getPassword(field func(*config.Settings) string) func(*config.Settings) string {
	return func(s *config.Settings) string {
		if field(s) == "" {
			return ""
		}
		return hiddenPassword
	}
}
