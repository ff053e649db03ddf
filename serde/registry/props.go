package registry

import (
	"crypto/tls"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/kprod-io/kprod/internal/tlsconf"
)

// sslPrefix is where Confluent's serializers read the registry client's TLS
// settings: schema.registry.ssl.truststore.location and so on.
const sslPrefix = "schema.registry.ssl."

// ParseProperties reads Java serializer properties (schema.registry.url,
// basic.auth.credentials.source, basic.auth.user.info, bearer.auth.token,
// auto.register.schemas, use.schema.id, use.latest.version,
// latest.compatibility.strict, id.compatibility.strict, normalize.schemas,
// key.subject.name.strategy, value.subject.name.strategy, latest.cache.ttl.sec,
// max.schemas.per.subject, http.connect.timeout.ms, http.read.timeout.ms,
// request.header.*, schema.registry.ssl.*). Properties it
// does not know are left alone, as Java ignores them; a known property with a
// value it cannot use fails, naming the property, and so does a Java serializer
// property whose effect kprod does not implement (proxy.host, proxy.port,
// use.latest.with.metadata, context.name.strategy, ...: see unsupported) set to
// other than Java's default. schema.registry.ssl.* settings
// build Config.TLS (reading the stores they name); without them https URLs use
// the system's trusted roots, as Java's default trust store does.
func ParseProperties(props map[string]string) (Config, SerdeConfig, error) {
	var cfg Config
	var sc SerdeConfig
	var errs []error
	bad := func(prop, value, reason string) {
		errs = append(errs, configErr(prop, value, reason))
	}
	get := func(name string) (string, bool) {
		v, ok := props[name]
		return strings.TrimSpace(v), ok
	}
	boolProp := func(name string) *bool {
		v, ok := get(name)
		if !ok {
			return nil
		}
		b, err := ParseBool(name, v)
		if err != nil {
			bad(name, v, "must be true or false")
			return nil
		}
		return &b
	}
	intProp := func(name string, min int64) (int64, bool) {
		v, ok := get(name)
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < min {
			bad(name, v, "must be an integer of at least "+strconv.FormatInt(min, 10))
			return 0, false
		}
		return n, true
	}

	if v, ok := get("schema.registry.url"); !ok || v == "" {
		bad("schema.registry.url", v, "is required: the registry's URL(s), comma-separated")
	} else {
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				cfg.URLs = append(cfg.URLs, u)
			}
		}
	}
	if v, ok := get("basic.auth.credentials.source"); ok {
		cfg.BasicAuthCredentialsSource = strings.ToUpper(v)
		switch cfg.BasicAuthCredentialsSource {
		case "URL", "USER_INFO":
		case "SASL_INHERIT":
			bad("basic.auth.credentials.source", v, "SASL_INHERIT is not supported: kprod does not hand the producer's SASL credentials to the registry; set USER_INFO with basic.auth.user.info")
		default:
			bad("basic.auth.credentials.source", v, "must be URL, USER_INFO or SASL_INHERIT")
		}
	}
	// schema.registry.basic.auth.user.info is the older name Java still reads.
	for _, name := range []string{"schema.registry.basic.auth.user.info", "basic.auth.user.info"} {
		if v, ok := props[name]; ok {
			cfg.BasicAuthUserInfo = v
		}
	}
	if v, ok := get("bearer.auth.credentials.source"); ok && !strings.EqualFold(v, "STATIC_TOKEN") {
		bad("bearer.auth.credentials.source", v, "only STATIC_TOKEN (with bearer.auth.token) is supported")
	}
	cfg.BearerAuthToken = props["bearer.auth.token"]
	// Confluent Cloud's routing headers, which Java's bearer providers send.
	for prop, header := range map[string]string{
		"bearer.auth.logical.cluster":  "target-sr-cluster",
		"bearer.auth.identity.pool.id": "Confluent-Identity-Pool-Id",
	} {
		if v, ok := get(prop); ok && v != "" {
			if cfg.RequestHeaders == nil {
				cfg.RequestHeaders = map[string]string{}
			}
			cfg.RequestHeaders[header] = v
		}
	}
	for k, v := range props {
		if h, ok := strings.CutPrefix(k, "request.header."); ok {
			if h == "" || strings.ContainsAny(h, " \t\r\n:") || strings.ContainsAny(v, "\r\n") {
				// The value is not echoed: it may be a secret (Authorization).
				bad(k, "(hidden)", "is not a valid HTTP header")
				continue
			}
			if cfg.RequestHeaders == nil {
				cfg.RequestHeaders = map[string]string{}
			}
			cfg.RequestHeaders[h] = v
		}
	}
	if n, ok := intProp("http.read.timeout.ms", 1); ok {
		cfg.Timeout = time.Duration(n) * time.Millisecond
	}
	if n, ok := intProp("http.connect.timeout.ms", 1); ok {
		cfg.ConnectTimeout = time.Duration(n) * time.Millisecond
	}

	sc.AutoRegisterSchemas = boolProp("auto.register.schemas")
	if n, ok := intProp("use.schema.id", -1); ok && n >= 0 {
		if n == 0 {
			bad("use.schema.id", "0", "schema ids start at 1; -1 means unset")
		}
		sc.UseSchemaID = int(n)
	}
	if b := boolProp("use.latest.version"); b != nil {
		sc.UseLatestVersion = *b
	}
	sc.LatestCompatibilityStrict = boolProp("latest.compatibility.strict")
	sc.IDCompatibilityStrict = boolProp("id.compatibility.strict")
	if b := boolProp("normalize.schemas"); b != nil {
		sc.NormalizeSchemas = *b
	}
	for _, p := range []struct {
		name string
		dst  *Strategy
	}{{"key.subject.name.strategy", &sc.KeySubjectNameStrategy}, {"value.subject.name.strategy", &sc.ValueSubjectNameStrategy}} {
		if v, ok := get(p.name); ok {
			s, err := parseStrategy(v)
			if err != nil {
				bad(p.name, v, err.Error())
			}
			*p.dst = s
		}
	}
	if n, ok := intProp("latest.cache.ttl.sec", -1); ok {
		switch {
		case n == 0: // Java's cache then expires entries at once: ask every time
			sc.LatestCacheTTL = time.Nanosecond
		case n > 0:
			sc.LatestCacheTTL = time.Duration(n) * time.Second
		}
	}
	if n, ok := intProp("max.schemas.per.subject", 1); ok {
		sc.MaxSchemasPerSubject = int(n)
	}
	intProp("latest.cache.size", 0) // checked only: the latest cache holds one entry per subject
	unsupportedProps(props, bad)

	tlsCfg, err := parseSSL(props)
	if err != nil {
		errs = append(errs, err)
	}
	cfg.TLS = tlsCfg
	if len(errs) > 0 {
		return Config{}, SerdeConfig{}, errors.Join(errs...)
	}
	return cfg, sc, nil
}

// parseStrategy reads a subject name strategy by its Java class name, or the
// class's simple name.
func parseStrategy(v string) (Strategy, error) {
	for _, s := range []Strategy{TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy} {
		if v == s.String() || v == strings.TrimPrefix(s.String(), strategyPackage) {
			return s, nil
		}
	}
	return TopicNameStrategy, errors.New("must be one of " + TopicNameStrategy.String() + ", " +
		RecordNameStrategy.String() + " or " + TopicRecordNameStrategy.String())
}

// parseSSL builds the registry client's TLS configuration from schema.registry.ssl.*
// with Java's defaults, or returns nil when none is set.
func parseSSL(props map[string]string) (*tls.Config, error) {
	var s tlsconf.Settings
	s.EndpointIdentification = "https"
	any := false
	for k, v := range props {
		name, ok := strings.CutPrefix(k, sslPrefix)
		if !ok {
			continue
		}
		any = true
		v = strings.TrimSpace(v)
		list := func() []string {
			var out []string
			for _, e := range strings.Split(v, ",") {
				if e = strings.TrimSpace(e); e != "" {
					out = append(out, e)
				}
			}
			return out
		}
		switch name {
		case "protocol":
			s.Protocol = v
		case "enabled.protocols":
			s.EnabledProtocols = list()
		case "cipher.suites":
			s.CipherSuites = list()
		case "endpoint.identification.algorithm":
			s.EndpointIdentification = v
		case "truststore.type":
			s.TruststoreType = strings.ToUpper(v)
		case "truststore.location":
			s.TruststoreLocation = v
		case "truststore.password":
			s.TruststorePassword = v
		case "truststore.certificates":
			s.TruststoreCertificates = v
		case "keystore.type":
			s.KeystoreType = strings.ToUpper(v)
		case "keystore.location":
			s.KeystoreLocation = v
		case "keystore.password":
			s.KeystorePassword = v
		case "keystore.key":
			s.KeystoreKey = v
		case "keystore.certificate.chain":
			s.KeystoreCertificateChain = v
		case "key.password":
			s.KeyPassword = v
		default:
			if reason := tlsconf.Unsupported("ssl."+name, v); reason != "" {
				return nil, configErr(k, v, reason)
			}
		}
	}
	if !any {
		return nil, nil
	}
	if s.Protocol == "" {
		s.Protocol = "TLSv1.3"
	}
	if len(s.EnabledProtocols) == 0 {
		s.EnabledProtocols = []string{"TLSv1.2", "TLSv1.3"}
	}
	if s.TruststoreType == "" {
		s.TruststoreType = "JKS"
	}
	if s.KeystoreType == "" {
		s.KeystoreType = "JKS"
	}
	cfg, _, err := tlsconf.Build(s)
	if err != nil {
		var out []error
		for _, e := range unwrapJoined(err) {
			var te *tlsconf.Error
			if errors.As(e, &te) {
				out = append(out, configErr("schema.registry."+te.Property, te.Value, te.Reason))
			} else {
				out = append(out, e)
			}
		}
		return nil, errors.Join(out...)
	}
	return cfg, nil
}

// unwrapJoined lists the errors of an errors.Join.
func unwrapJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// ParseBool reads a boolean property as Kafka's ConfigDef does: "true" or "false", any
// case, surrounding spaces ignored; anything else is a *ConfigError naming it. The
// serializers read their own boolean properties with it.
func ParseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &ConfigError{Property: name, Value: v, Reason: "must be true or false"}
}
