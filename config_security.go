package kprod

import (
	"errors"
	"strconv"
	"strings"

	"kprod/internal/config"
)

// SecurityProtocol is the security.protocol property: how connections to brokers are
// secured. Its zero value is SecurityPlaintext, Kafka's default.
type SecurityProtocol int8

const (
	// SecurityPlaintext is PLAINTEXT: no TLS, no authentication. Default.
	SecurityPlaintext SecurityProtocol = SecurityProtocol(config.SecurityPlaintext)
	// SecuritySSL is SSL: TLS, with a client certificate if the broker asks for one.
	// Not supported yet.
	SecuritySSL SecurityProtocol = SecurityProtocol(config.SecuritySSL)
	// SecuritySASLPlaintext is SASL_PLAINTEXT: SASL authentication (Config.SASL)
	// without TLS.
	SecuritySASLPlaintext SecurityProtocol = SecurityProtocol(config.SecuritySASLPlaintext)
	// SecuritySASLSSL is SASL_SSL: SASL authentication over TLS. Not supported yet.
	SecuritySASLSSL SecurityProtocol = SecurityProtocol(config.SecuritySASLSSL)
)

// securityNames are Java's security.protocol names, indexed by SecurityProtocol.
var securityNames = [...]string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

// String returns Java's name: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
func (p SecurityProtocol) String() string {
	if p >= 0 && int(p) < len(securityNames) {
		return securityNames[p]
	}
	return "SecurityProtocol(" + strconv.Itoa(int(p)) + ")"
}

func (p SecurityProtocol) sasl() bool { return p == SecuritySASLPlaintext || p == SecuritySASLSSL }

// setSecurityProtocol parses security.protocol, in any case as Java does. SSL and
// SASL_SSL wait for TLS.
func setSecurityProtocol(c *Config, v string) error {
	for i, name := range securityNames {
		if strings.EqualFold(v, name) {
			c.SecurityProtocol = SecurityProtocol(i)
			return checkSecurityProtocol(c.SecurityProtocol)
		}
	}
	return errors.New("must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
}

// checkSecurityProtocol returns why p cannot be used, or nil.
func checkSecurityProtocol(p SecurityProtocol) error {
	switch p {
	case SecurityPlaintext, SecuritySASLPlaintext:
		return nil
	case SecuritySSL, SecuritySASLSSL:
		return errors.New("not supported yet: TLS is not implemented; use PLAINTEXT or SASL_PLAINTEXT")
	}
	return errors.New("must be SecurityPlaintext, SecuritySSL, SecuritySASLPlaintext or SecuritySASLSSL")
}

// checkSecurity resolves security.protocol and SASL into s: the SASL mechanism is
// used on SASL protocols only, and is required there (Java's default, GSSAPI, is
// refused by name); a mechanism given for another protocol is an error rather than
// silently unused.
func checkSecurity(c *Config, d *Config, s *config.Settings, bad func(prop, value, reason string)) {
	s.SecurityProtocol = int8(c.SecurityProtocol)
	if err := checkSecurityProtocol(c.SecurityProtocol); err != nil {
		bad("security.protocol", c.SecurityProtocol.String(), err.Error())
		return
	}
	mech := c.SASL
	if !c.SecurityProtocol.sasl() {
		if mech != nil {
			if _, unbuilt := mech.(unbuiltMechanism); !unbuilt {
				bad("security.protocol", c.SecurityProtocol.String(), "Config.SASL ("+mech.Name()+
					") is set but this protocol does not authenticate: use SecuritySASLPlaintext")
			}
		}
		return
	}
	if mech == nil {
		mech = d.SASL
	}
	if u, unbuilt := mech.(unbuiltMechanism); unbuilt {
		reason := mechanismReason(string(u))
		if reason == "" {
			reason = "needs credentials: set sasl.jaas.config, or give a sasl.Mechanism in Config.SASL"
		}
		bad("sasl.mechanism", string(u), reason)
		return
	}
	s.SASL = mech
}
