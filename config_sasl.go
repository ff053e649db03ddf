package kprod

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/internal/jaas"
	"github.com/kprod-io/kprod/sasl"
)

// The SASL side of the properties path: sasl.mechanism names the mechanism and
// sasl.jaas.config (a login module and its options) gives its credentials, as in Java;
// the sasl.login.* and sasl.oauthbearer.* properties tune OAUTHBEARER. Together they
// build Config.SASL when security.protocol is SASL_PLAINTEXT or SASL_SSL. Each
// property's row checks its value alone (Java's ConfigDef types and ranges, whatever
// the protocol); saslFromProperties then combines them.

// Java class names the sasl.* properties may name.
const (
	plainLoginModule   = "org.apache.kafka.common.security.plain.PlainLoginModule"
	scramLoginModule   = "org.apache.kafka.common.security.scram.ScramLoginModule"
	oauthLoginModule   = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	oauthLoginHandler  = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"
	oauthLoginHandler3 = "org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler" // Kafka 3.x
	oauthPackage       = "org.apache.kafka.common.security.oauthbearer."
)

// secretProperties are Java's PASSWORD properties: their values are never printed.
var secretProperties = map[string]bool{
	"sasl.jaas.config": true,
	"sasl.oauthbearer.client.credentials.client.secret": true,
	"sasl.oauthbearer.assertion.private.key.passphrase": true,
	"ssl.truststore.password":                           true,
	"ssl.keystore.password":                             true,
	"ssl.keystore.key":                                  true,
	"ssl.key.password":                                  true,
}

// shownValue is a property's value as an error may print it.
func shownValue(prop, v string) string {
	if secretProperties[prop] && v != "" {
		return "[hidden]"
	}
	return v
}

// unbuiltMechanism is what sasl.mechanism alone sets: a name without credentials.
// It is also the default (GSSAPI). saslFromProperties replaces it with a real
// mechanism; on a SASL protocol one left over is an error naming sasl.mechanism.
type unbuiltMechanism string

func (m unbuiltMechanism) Name() string { return string(m) }

func (m unbuiltMechanism) Authenticate(context.Context, string) (sasl.Session, []byte, error) {
	return nil, nil, errors.New("kprod: sasl.mechanism " + string(m) + " has no credentials")
}

// mechanismReason says why a mechanism name cannot be used; "" for the built-in ones.
func mechanismReason(name string) string {
	switch name {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER":
		return ""
	case "GSSAPI":
		return "Kerberos (GSSAPI, Java's default sasl.mechanism) is not supported: set sasl.mechanism to PLAIN, " +
			"SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER, or give a sasl.Mechanism in Config.SASL"
	}
	return "is not built in (kprod has PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER): give a sasl.Mechanism " +
		"implementing it (AWS_MSK_IAM, for instance) in Config.SASL"
}

// checkSASL resolves SASL into s: the mechanism is used on SASL protocols only, and
// is required there (Java's default, GSSAPI, is refused by name); a mechanism given
// for another protocol is an error rather than silently unused.
func checkSASL(c *Config, s *config.Settings, errs []error) []error {
	bad := func(prop, value, reason string) []error {
		return append(errs, &ConfigError{Property: prop, Value: value, Reason: reason})
	}
	mech := c.SASL
	if !c.SecurityProtocol.sasl() {
		if _, unbuilt := mech.(unbuiltMechanism); mech != nil && !unbuilt {
			return bad("security.protocol", c.SecurityProtocol.String(), "Config.SASL ("+mech.Name()+
				") is set but this protocol does not authenticate with SASL: use SecuritySASLPlaintext or SecuritySASLSSL")
		}
		return errs
	}
	if mech == nil {
		mech = javaDefaults.SASL
	}
	if u, unbuilt := mech.(unbuiltMechanism); unbuilt {
		reason := mechanismReason(string(u))
		if reason == "" {
			reason = "needs credentials: set sasl.jaas.config, or give a sasl.Mechanism in Config.SASL"
		}
		return bad("sasl.mechanism", string(u), reason)
	}
	s.SASL = mech
	return errs
}

// setSASLMechanism records sasl.mechanism's name; saslFromProperties builds it.
func setSASLMechanism(c *Config, v string) error {
	if v == "" {
		return errors.New("must name a SASL mechanism")
	}
	c.SASL = unbuiltMechanism(v)
	return nil
}

// getSASLMechanism prints the mechanism's name.
func getSASLMechanism(s *config.Settings) string {
	if s.SASL == nil {
		return "GSSAPI"
	}
	return s.SASL.Name()
}

// setClass accepts an empty CLASS property or one of the classes kprod maps.
func setClass(reason string, allowed ...string) func(*Config, string) error {
	return func(_ *Config, v string) error {
		if v == "" {
			return nil
		}
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return errors.New(reason)
	}
}

// setEmpty accepts a property only when it is empty.
func setEmpty(reason string) func(*Config, string) error {
	return func(_ *Config, v string) error {
		if v != "" {
			return errors.New(reason)
		}
		return nil
	}
}

// ignoreString accepts any value.
func ignoreString(*Config, string) error { return nil }

// ignoreIntRange validates an ignored or later-read integer against Java's range.
func ignoreIntRange(bits int, lo, hi int64) func(*Config, string) error {
	return func(_ *Config, v string) error {
		n, err := config.ParseInt(v, bits)
		if err != nil {
			return err
		}
		if reason := checkRange(n, lo, hi); reason != "" {
			return errors.New(reason)
		}
		return nil
	}
}

// parseDouble parses a Java double (Double.parseDouble: a trailing d or f is allowed).
func parseDouble(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimRight(v, "dDfF"), 64)
	if err != nil {
		return 0, errors.New("must be a number")
	}
	return f, nil
}

// ignoreDouble validates a DOUBLE property against Java's range.
func ignoreDouble(lo, hi float64) func(*Config, string) error {
	return func(_ *Config, v string) error {
		f, err := parseDouble(v)
		if err != nil {
			return err
		}
		if !(f >= lo && f <= hi) {
			return fmt.Errorf("must be between %v and %v", lo, hi)
		}
		return nil
	}
}

// saslProps reads the sasl.* properties, trimmed, with the table's defaults.
type saslProps map[string]string

func (p saslProps) get(name string) string {
	if v, ok := p[name]; ok {
		return config.Trim(v)
	}
	if def := propertyIndex[name].Default; def != "null" {
		return def
	}
	return ""
}

func (p saslProps) int(name string) int64 {
	n, _ := config.ParseInt(p.get(name), 64) // valid: its row checked it
	return n
}

// millis reads a millisecond property into a sasl duration: 0 means 0 (negative).
func (p saslProps) millis(name string) time.Duration {
	if p.get(name) == "" {
		return 0 // null: none
	}
	return zeroAsNegative(time.Duration(p.int(name)) * time.Millisecond)
}

func zeroAsNegative(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// saslFromProperties builds the mechanism the sasl.* properties describe (on a SASL
// protocol), as Java's SaslChannelBuilder and login modules would; each problem is a
// *ConfigError naming the property to change.
func saslFromProperties(props map[string]string) (sasl.Mechanism, []error) {
	p := saslProps(props)
	var errs []error
	bad := func(prop, reason string) {
		errs = append(errs, &ConfigError{Property: prop, Value: shownValue(prop, p.get(prop)), Reason: reason})
	}
	name := p.get("sasl.mechanism")
	if reason := mechanismReason(name); reason != "" {
		bad("sasl.mechanism", reason)
		return nil, errs
	}
	raw := p.get("sasl.jaas.config")
	if raw == "" {
		bad("sasl.jaas.config", "is required with sasl.mechanism="+name+": kprod does not read JAAS files "+
			"(java.security.auth.login.config); give the login module here, e.g. "+plainLoginModule+` required username="..." password="...";`)
		return nil, errs
	}
	entry, err := jaas.Parse(raw)
	if err != nil {
		bad("sasl.jaas.config", err.Error())
		return nil, errs
	}
	option := func(k string) (string, bool) { v, ok := entry.Options[k]; return v, ok }

	if name != "OAUTHBEARER" {
		// Java's PLAIN and SCRAM clients take the user and password that either
		// PlainLoginModule or ScramLoginModule put in the login Subject.
		if entry.Module != plainLoginModule && entry.Module != scramLoginModule {
			bad("sasl.jaas.config", "sasl.mechanism="+name+" needs "+plainLoginModule+" or "+scramLoginModule+", not "+entry.Module)
			return nil, errs
		}
		user, okUser := option("username")
		pass, okPass := option("password")
		if !okUser || !okPass {
			bad("sasl.jaas.config", "the login module needs the options username and password")
			return nil, errs
		}
		tokenAuth := entry.Module == scramLoginModule && strings.EqualFold(entry.Options["tokenauth"], "true")
		switch {
		case name == "PLAIN":
			return sasl.Plain(user, pass), nil
		case name == "SCRAM-SHA-256" && tokenAuth:
			return sasl.ScramSHA256Token(user, pass), nil
		case name == "SCRAM-SHA-256":
			return sasl.ScramSHA256(user, pass), nil
		case tokenAuth:
			return sasl.ScramSHA512Token(user, pass), nil
		}
		return sasl.ScramSHA512(user, pass), nil
	}

	if entry.Module != oauthLoginModule {
		bad("sasl.jaas.config", "sasl.mechanism=OAUTHBEARER needs "+oauthLoginModule+", not "+entry.Module)
		return nil, errs
	}
	var src sasl.TokenSource
	switch handler := p.get("sasl.login.callback.handler.class"); {
	case handler != "":
		src, errs = clientCredentialsFromProperties(p, entry, errs)
	case p.get("sasl.oauthbearer.token.endpoint.url") != "":
		bad("sasl.login.callback.handler.class", "must be "+oauthLoginHandler+" for sasl.oauthbearer.token.endpoint.url "+
			"to be used (KIP-768): without it Java makes unsecured tokens from the JAAS options")
	default:
		src, errs = unsecuredFromOptions(p, entry, errs)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return sasl.OAuthBearer(src), nil
}

// unsecuredFromOptions maps OAuthBearerLoginModule's unsecuredLogin* options onto
// sasl.UnsecuredToken and makes one token, so that a configuration Java refuses at
// login fails here too.
func unsecuredFromOptions(p saslProps, entry jaas.Entry, errs []error) (sasl.TokenSource, []error) {
	bad := func(reason string) []error {
		return append(errs, &ConfigError{Property: "sasl.jaas.config", Value: "[hidden]", Reason: reason})
	}
	if len(entry.Options) == 0 {
		return nil, bad("OAuthBearerLoginModule has no options, so Java would make no token: give unsecuredLoginStringClaim_sub=\"...\" " +
			"for an unsecured token, or sasl.login.callback.handler.class=" + oauthLoginHandler + " and sasl.oauthbearer.token.endpoint.url for KIP-768")
	}
	cfg := sasl.UnsecuredTokenConfig{StringClaims: map[string]string{}, NumberClaims: map[string]float64{},
		ListClaims: map[string][]string{}, Extensions: map[string]string{}}
	const prefix = "unsecuredLogin"
	for k, v := range entry.Options {
		switch {
		case k == prefix+"PrincipalClaimName":
			cfg.PrincipalClaimName = v
		case k == prefix+"ScopeClaimName":
			cfg.ScopeClaimName = v
		case k == prefix+"LifetimeSeconds":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, bad("unsecuredLoginLifetimeSeconds must be a whole number of seconds")
			}
			cfg.Lifetime = time.Duration(n) * time.Second
		case strings.HasPrefix(k, prefix+"StringClaim_") && len(k) > len(prefix+"StringClaim_"):
			cfg.StringClaims[strings.TrimPrefix(k, prefix+"StringClaim_")] = v
		case strings.HasPrefix(k, prefix+"NumberClaim_") && len(k) > len(prefix+"NumberClaim_"):
			f, err := parseDouble(v)
			if err != nil {
				return nil, bad(k + " must be a number")
			}
			cfg.NumberClaims[strings.TrimPrefix(k, prefix+"NumberClaim_")] = f
		case strings.HasPrefix(k, prefix+"ListClaim_") && len(k) > len(prefix+"ListClaim_"):
			cfg.ListClaims[strings.TrimPrefix(k, prefix+"ListClaim_")] = jaasList(v)
		case strings.HasPrefix(k, prefix+"Extension_"):
			cfg.Extensions[strings.TrimPrefix(k, prefix+"Extension_")] = v
		}
	}
	src := sasl.UnsecuredToken(cfg)
	if _, err := src.Token(context.Background()); err != nil {
		return nil, bad(strings.TrimPrefix(err.Error(), "kprod: "))
	}
	return src, errs
}

// jaasList reads an unsecuredLoginListClaim_ value: its first character is the
// delimiter of the rest (OAuthBearerUnsecuredLoginCallbackHandler.listJsonText); empty
// elements are kept, except that Java's split drops trailing ones and then adds one
// empty element back if there was any empty element at all.
func jaasList(v string) []string {
	if len(v) <= 1 {
		return []string{}
	}
	delim, rest := v[:1], v[1:]
	parts := strings.Split(rest, delim)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1] // String.split drops trailing empty strings
	}
	if len(parts) == 0 {
		parts = []string{""} // "".split(x) is [""] in Java
	}
	if strings.HasPrefix(rest, delim) || strings.HasSuffix(rest, delim) || strings.Contains(rest, delim+delim) {
		parts = append(parts, "")
	}
	return parts
}

// clientCredentialsFromProperties maps the KIP-768 properties and the
// OAuthBearerLoginModule options clientId, clientSecret, scope and extension_<name>
// onto sasl.ClientCredentials. As in Kafka 4.x, the sasl.oauthbearer.client.credentials.*
// and sasl.oauthbearer.scope properties win over the JAAS options.
func clientCredentialsFromProperties(p saslProps, entry jaas.Entry, errs []error) (sasl.TokenSource, []error) {
	bad := func(prop, reason string) {
		errs = append(errs, &ConfigError{Property: prop, Value: shownValue(prop, p.get(prop)), Reason: reason})
	}
	pick := func(prop, option string) string {
		if v := p.get(prop); v != "" {
			return v
		}
		return entry.Options[option]
	}
	cfg := sasl.ClientCredentialsConfig{
		TokenURL:        p.get("sasl.oauthbearer.token.endpoint.url"),
		ClientID:        pick("sasl.oauthbearer.client.credentials.client.id", "clientId"),
		ClientSecret:    pick("sasl.oauthbearer.client.credentials.client.secret", "clientSecret"),
		Scope:           pick("sasl.oauthbearer.scope", "scope"),
		SubClaimName:    p.get("sasl.oauthbearer.sub.claim.name"),
		ScopeClaimName:  p.get("sasl.oauthbearer.scope.claim.name"),
		URLEncodeHeader: strings.EqualFold(p.get("sasl.oauthbearer.header.urlencode"), "true"),
		ConnectTimeout:  p.millis("sasl.login.connect.timeout.ms"),
		ReadTimeout:     p.millis("sasl.login.read.timeout.ms"),
		RetryBackoff:    p.millis("sasl.login.retry.backoff.ms"),
		RetryBackoffMax: p.millis("sasl.login.retry.backoff.max.ms"),
		Extensions:      map[string]string{},
		Refresh:         refreshFromProperties(p),
	}
	for k, v := range entry.Options {
		if name, ok := strings.CutPrefix(k, "extension_"); ok {
			cfg.Extensions[name] = v
		}
	}
	switch u := cfg.TokenURL; {
	case u == "":
		bad("sasl.oauthbearer.token.endpoint.url", "is required with sasl.login.callback.handler.class="+oauthLoginHandler)
	case strings.HasPrefix(u, "file:"):
		bad("sasl.oauthbearer.token.endpoint.url", "file: token sources are not supported; give a sasl.TokenSource in Config.SASL")
	case !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://"):
		bad("sasl.oauthbearer.token.endpoint.url", "must be an http:// or https:// URL")
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		bad("sasl.oauthbearer.client.credentials.client.id", "is required for the client credentials grant (or the JAAS option clientId)")
	}
	if strings.TrimSpace(cfg.ClientSecret) == "" {
		bad("sasl.oauthbearer.client.credentials.client.secret", "is required for the client credentials grant (or the JAAS option clientSecret)")
	}
	if p.int("sasl.login.retry.backoff.max.ms") < p.int("sasl.login.retry.backoff.ms") {
		bad("sasl.login.retry.backoff.max.ms", "must be at least sasl.login.retry.backoff.ms")
	}
	if err := sasl.CheckExtensions(cfg.Extensions); err != nil {
		errs = append(errs, &ConfigError{Property: "sasl.jaas.config", Value: "[hidden]", Reason: strings.TrimPrefix(err.Error(), "kprod: ")})
	}
	return sasl.ClientCredentials(cfg), errs
}

// refreshFromProperties reads the sasl.login.refresh.* properties (0 means 0).
func refreshFromProperties(p saslProps) sasl.Refresh {
	f := func(name string) float64 {
		v, _ := parseDouble(p.get(name))
		if v == 0 {
			return -1
		}
		return v
	}
	return sasl.Refresh{
		WindowFactor: f("sasl.login.refresh.window.factor"),
		WindowJitter: f("sasl.login.refresh.window.jitter"),
		MinPeriod:    zeroAsNegative(time.Duration(p.int("sasl.login.refresh.min.period.seconds")) * time.Second),
		Buffer:       zeroAsNegative(time.Duration(p.int("sasl.login.refresh.buffer.seconds")) * time.Second),
	}
}
