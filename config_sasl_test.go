package kprod

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod/sasl"
)

const (
	plainJAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required username="carol" password="carol-secret";`
	scramJAAS = `org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-secret";`
	oauthJAAS = `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="alice";`
)

// saslConfig parses properties on SASL_PLAINTEXT.
func saslConfig(kv ...string) (Config, error) {
	props := map[string]string{"bootstrap.servers": "a:1", "security.protocol": "SASL_PLAINTEXT"}
	for i := 0; i+1 < len(kv); i += 2 {
		props[kv[i]] = kv[i+1]
	}
	return ConfigFromProperties(props)
}

// firstMessage is the mechanism's first SASL message.
func firstMessage(t *testing.T, c Config) string {
	t.Helper()
	if c.SASL == nil {
		t.Fatal("no SASL mechanism")
	}
	_, msg, err := c.SASL.Authenticate(context.Background(), "b:1")
	if err != nil {
		t.Fatalf("%s: %v", c.SASL.Name(), err)
	}
	return string(msg)
}

// TestSASLFromProperties maps the harness's Java client configs (and the other login
// module for PLAIN and SCRAM, which Java accepts too) onto mechanisms.
func TestSASLFromProperties(t *testing.T) {
	cases := []struct {
		mechanism, jaas string
		want            string // prefix of the first message
	}{
		{"PLAIN", plainJAAS, "\x00carol\x00carol-secret"},
		{"PLAIN", scramJAAS, "\x00alice\x00alice-secret"},
		{"SCRAM-SHA-256", scramJAAS, "n,,n=alice,r="},
		{"SCRAM-SHA-512", scramJAAS, "n,,n=alice,r="},
		{"SCRAM-SHA-512", plainJAAS, "n,,n=carol,r="},
		{"SCRAM-SHA-512", strings.Replace(scramJAAS, ";", " tokenauth=TRUE;", 1), "n,,n=alice,r="},
		{"OAUTHBEARER", oauthJAAS, "n,,\x01auth=Bearer eyJhbGciOiJub25lIn0."},
	}
	for _, c := range cases {
		cfg, err := saslConfig("sasl.mechanism", c.mechanism, "sasl.jaas.config", c.jaas)
		if err != nil {
			t.Errorf("%s with %.60s: %v", c.mechanism, c.jaas, err)
			continue
		}
		if cfg.SecurityProtocol != SecuritySASLPlaintext || cfg.SASL.Name() != c.mechanism {
			t.Errorf("%s: protocol %v mechanism %v", c.mechanism, cfg.SecurityProtocol, cfg.SASL)
		}
		if msg := firstMessage(t, cfg); !strings.HasPrefix(msg, c.want) {
			t.Errorf("%s: first message %q, want prefix %q", c.mechanism, msg, c.want)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", c.mechanism, err)
		}
		if p := cfg.Properties(); p["sasl.mechanism"] != c.mechanism || p["security.protocol"] != "SASL_PLAINTEXT" || p["sasl.jaas.config"] != "" {
			t.Errorf("%s: Properties %v", c.mechanism, p)
		}
	}
	cfg, _ := saslConfig("sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", strings.Replace(scramJAAS, ";", " tokenauth=true;", 1))
	if msg := firstMessage(t, cfg); !strings.HasSuffix(msg, ",tokenauth=true") {
		t.Errorf("tokenauth: %q", msg)
	}
}

// TestSASLPropertiesIgnoredWithoutSASL: on PLAINTEXT the sasl.* properties are checked
// alone (Java's ConfigDef) but build nothing, as in Java.
func TestSASLPropertiesIgnoredWithoutSASL(t *testing.T) {
	cfg, err := ConfigFromProperties(map[string]string{"bootstrap.servers": "a:1", "sasl.mechanism": "GSSAPI",
		"sasl.jaas.config": "not even JAAS", "sasl.kerberos.service.name": "kafka"})
	if err != nil || cfg.SASL != nil || cfg.SecurityProtocol != SecurityPlaintext {
		t.Fatalf("%+v %v", cfg, err)
	}
	if _, err := ConfigFromProperties(map[string]string{"sasl.login.refresh.window.factor": "2"}); err == nil {
		t.Error("an out-of-range sasl.login.refresh.window.factor accepted on PLAINTEXT")
	}
}

// TestSASLPropertyErrors: each is a *ConfigError naming the property to change, and
// none shows the password.
func TestSASLPropertyErrors(t *testing.T) {
	cases := []struct {
		kv         []string
		prop, want string
	}{
		{nil, "sasl.mechanism", "Kerberos (GSSAPI, Java's default sasl.mechanism) is not supported"},
		{[]string{"sasl.mechanism", "GSSAPI", "sasl.jaas.config", plainJAAS}, "sasl.mechanism", "Kerberos"},
		{[]string{"sasl.mechanism", "AWS_MSK_IAM", "sasl.jaas.config", plainJAAS}, "sasl.mechanism", "give a sasl.Mechanism implementing it"},
		{[]string{"sasl.mechanism", "plain", "sasl.jaas.config", plainJAAS}, "sasl.mechanism", "not built in"},
		{[]string{"sasl.mechanism", ""}, "sasl.mechanism", "must name"},
		{[]string{"sasl.mechanism", "PLAIN"}, "sasl.jaas.config", "does not read JAAS files"},
		{[]string{"sasl.mechanism", "PLAIN", "sasl.jaas.config", strings.TrimSuffix(plainJAAS, ";")}, "sasl.jaas.config", "not terminated by semi-colon"},
		{[]string{"sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS + plainJAAS}, "sasl.jaas.config", "2 login modules"},
		{[]string{"sasl.mechanism", "PLAIN", "sasl.jaas.config", oauthJAAS}, "sasl.jaas.config", "needs " + plainLoginModule},
		{[]string{"sasl.mechanism", "PLAIN", "sasl.jaas.config", plainLoginModule + ` required password="carol-secret";`}, "sasl.jaas.config", "username and password"},
		{[]string{"sasl.mechanism", "OAUTHBEARER", "sasl.jaas.config", plainJAAS}, "sasl.jaas.config", "needs " + oauthLoginModule},
		{[]string{"sasl.mechanism", "OAUTHBEARER", "sasl.jaas.config", oauthLoginModule + " required;"}, "sasl.jaas.config", "no options"},
		{[]string{"sasl.mechanism", "OAUTHBEARER", "sasl.jaas.config", oauthLoginModule + ` required unsecuredLoginStringClaim_name="x";`}, "sasl.jaas.config", "principal claim sub is missing"},
		{[]string{"sasl.mechanism", "OAUTHBEARER", "sasl.jaas.config", oauthLoginModule + ` required unsecuredLoginStringClaim_sub="x" unsecuredLoginLifetimeSeconds="1h";`}, "sasl.jaas.config", "whole number of seconds"},
		{[]string{"sasl.mechanism", "OAUTHBEARER", "sasl.jaas.config", oauthJAAS, "sasl.oauthbearer.token.endpoint.url", "http://x/token"}, "sasl.login.callback.handler.class", "KIP-768"},
		{[]string{"sasl.client.callback.handler.class", "com.example.Handler"}, "sasl.client.callback.handler.class", "give a sasl.Mechanism"},
		{[]string{"sasl.login.class", "com.example.Login"}, "sasl.login.class", "give a sasl.Mechanism"},
		{[]string{"sasl.login.callback.handler.class", "software.amazon.msk.auth.iam.IAMClientCallbackHandler"}, "sasl.login.callback.handler.class", "kprod maps only"},
		{[]string{"sasl.oauthbearer.jwt.retriever.class", "org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever"}, "sasl.oauthbearer.jwt.retriever.class", "give a sasl.TokenSource"},
		{[]string{"sasl.oauthbearer.assertion.file", "/tmp/a.jwt"}, "sasl.oauthbearer.assertion.file", "jwt-bearer"},
		{[]string{"sasl.login.refresh.window.factor", "0.4"}, "sasl.login.refresh.window.factor", "between 0.5 and 1"},
		{[]string{"sasl.login.refresh.window.jitter", "0.3"}, "sasl.login.refresh.window.jitter", "between 0 and 0.25"},
		{[]string{"sasl.login.refresh.window.jitter", "NaN"}, "sasl.login.refresh.window.jitter", "between"},
		{[]string{"sasl.login.refresh.min.period.seconds", "901"}, "sasl.login.refresh.min.period.seconds", "900"},
		{[]string{"sasl.login.refresh.buffer.seconds", "-1"}, "sasl.login.refresh.buffer.seconds", "at least 0"},
		{[]string{"sasl.login.connect.timeout.ms", "x"}, "sasl.login.connect.timeout.ms", ""},
		{[]string{"sasl.login.retry.backoff.ms", "-1"}, "sasl.login.retry.backoff.ms", "at least 0"},
		{[]string{"sasl.oauthbearer.header.urlencode", "yes"}, "sasl.oauthbearer.header.urlencode", ""},
		{[]string{"sasl.oauthbearer.assertion.algorithm", "HS256"}, "sasl.oauthbearer.assertion.algorithm", "ES256, RS256"},
		{[]string{"sasl.kerberos.ticket.renew.jitter", "x"}, "sasl.kerberos.ticket.renew.jitter", "number"},
		{[]string{"sasl.mechanisms", "PLAIN"}, "sasl.mechanisms", "did you mean sasl.mechanism?"},
	}
	for _, c := range cases {
		_, err := saslConfig(c.kv...)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.prop) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %s: ...%s", c.kv, err, c.prop, c.want)
			continue
		}
		if strings.Contains(err.Error(), "carol-secret") {
			t.Errorf("%v: the error shows the password: %v", c.kv, err)
		}
	}
}

// TestSASLConfigPath: the typed Config agrees with the properties path.
func TestSASLConfigPath(t *testing.T) {
	mech := unbuiltMechanism("x") // any mechanism of ours
	cases := []struct {
		cfg        Config
		prop, want string
	}{
		{Config{SecurityProtocol: SecuritySASLPlaintext}, "sasl.mechanism", "Kerberos"},
		{Config{SASL: sasl.ScramSHA512("u", "p")}, "security.protocol", "does not authenticate"},
		{Config{SecurityProtocol: SecuritySSL, SASL: sasl.Plain("u", "p")}, "security.protocol", "does not authenticate with SASL"},
		{Config{SecurityProtocol: SecurityProtocol(7)}, "security.protocol", "must be"},
		{Config{SecurityProtocol: SecuritySASLPlaintext, SASL: mech}, "sasl.mechanism", "not built in"},
	}
	for _, c := range cases {
		c.cfg.BootstrapServers = []string{"a:1"}
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.prop) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %s: ...%s", c.cfg, err, c.prop, c.want)
		}
	}
	ok := Config{BootstrapServers: []string{"a:1"}, SecurityProtocol: SecuritySASLPlaintext, SASL: sasl.ScramSHA512("u", "p")}
	s, err := ok.settings()
	if err != nil || s.SASL != ok.SASL || s.SecurityProtocol != "SASL_PLAINTEXT" {
		t.Errorf("%+v %v", s, err)
	}
}

// TestSASLSecretsNotPrinted: a Config holding credentials prints none of them.
func TestSASLSecretsNotPrinted(t *testing.T) {
	cfg, err := saslConfig("sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(f, cfg); strings.Contains(out, "carol-secret") {
			t.Errorf("%s shows the password: %s", f, out)
		}
	}
	_, err = saslConfig("sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS+" x", "retries", "-9")
	if err == nil || strings.Contains(err.Error(), "carol-secret") || !strings.Contains(err.Error(), "[hidden]") {
		t.Errorf("error %v", err)
	}
}

// TestSASLClientCredentialsFromProperties: KIP-768 through properties reaches the
// token endpoint with the properties' client id winning over the JAAS option (as Kafka
// 4.4 does), the JAAS secret, scope and extensions, and the login timeouts.
func TestSASLClientCredentialsFromProperties(t *testing.T) {
	var gotAuth, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		r.ParseForm()
		gotBody = r.PostForm.Encode()
		claims, _ := json.Marshal(map[string]any{"sub": "svc", "exp": time.Now().Add(time.Hour).Unix()})
		tok := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(claims) + "."
		fmt.Fprintf(w, `{"access_token":%q}`, tok)
	}))
	defer srv.Close()
	jaas := oauthLoginModule + ` required clientId="jaas-id" clientSecret="jaas-secret" scope="s1" extension_logicalCluster="lkc-1";`
	cfg, err := saslConfig("sasl.mechanism", "OAUTHBEARER", "sasl.jaas.config", jaas,
		"sasl.login.callback.handler.class", oauthLoginHandler, "sasl.oauthbearer.token.endpoint.url", srv.URL,
		"sasl.oauthbearer.client.credentials.client.id", "prop-id", "sasl.login.connect.timeout.ms", "5000")
	if err != nil {
		t.Fatal(err)
	}
	msg := firstMessage(t, cfg)
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("prop-id:jaas-secret")); gotAuth != want || gotBody != "grant_type=client_credentials&scope=s1" {
		t.Errorf("request: %q %q", gotAuth, gotBody)
	}
	if !strings.HasSuffix(msg, "\x01logicalCluster=lkc-1\x01\x01") {
		t.Errorf("message %q lacks the extension", msg)
	}

	// Kafka 3.x's handler class is accepted too; what is missing is named.
	for _, c := range []struct {
		kv         []string
		prop, want string
	}{
		{[]string{}, "sasl.oauthbearer.token.endpoint.url", "is required"},
		{[]string{"sasl.oauthbearer.token.endpoint.url", "file:/tmp/token"}, "sasl.oauthbearer.token.endpoint.url", "file:"},
		{[]string{"sasl.oauthbearer.token.endpoint.url", srv.URL, "sasl.jaas.config", oauthLoginModule + " required clientSecret=\"s\";"},
			"sasl.oauthbearer.client.credentials.client.id", "is required"},
		{[]string{"sasl.oauthbearer.token.endpoint.url", srv.URL, "sasl.jaas.config", oauthLoginModule + " required clientId=\"i\";"},
			"sasl.oauthbearer.client.credentials.client.secret", "is required"},
		{[]string{"sasl.oauthbearer.token.endpoint.url", srv.URL, "sasl.login.retry.backoff.ms", "500", "sasl.login.retry.backoff.max.ms", "100"},
			"sasl.login.retry.backoff.max.ms", "at least"},
	} {
		kv := append([]string{"sasl.mechanism", "OAUTHBEARER", "sasl.jaas.config", jaas,
			"sasl.login.callback.handler.class", oauthLoginHandler3}, c.kv...)
		_, err := saslConfig(kv...)
		if err == nil || !strings.Contains(err.Error(), c.prop) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v", c.kv, err)
		}
	}
}

// javaSASLProperties are the sasl.* names of Kafka 4.4's ProducerConfig, sorted.
var javaSASLProperties = strings.Fields(`sasl.client.callback.handler.class sasl.jaas.config
	sasl.kerberos.kinit.cmd sasl.kerberos.min.time.before.relogin sasl.kerberos.service.name
	sasl.kerberos.ticket.renew.jitter sasl.kerberos.ticket.renew.window.factor
	sasl.login.callback.handler.class sasl.login.class sasl.login.connect.timeout.ms
	sasl.login.read.timeout.ms sasl.login.refresh.buffer.seconds sasl.login.refresh.min.period.seconds
	sasl.login.refresh.window.factor sasl.login.refresh.window.jitter sasl.login.retry.backoff.max.ms
	sasl.login.retry.backoff.ms sasl.mechanism sasl.oauthbearer.allow.unverified.audience
	sasl.oauthbearer.allow.unverified.issuer sasl.oauthbearer.assertion.algorithm
	sasl.oauthbearer.assertion.claim.aud sasl.oauthbearer.assertion.claim.exp.seconds
	sasl.oauthbearer.assertion.claim.iss sasl.oauthbearer.assertion.claim.jti.include
	sasl.oauthbearer.assertion.claim.nbf.seconds sasl.oauthbearer.assertion.claim.sub
	sasl.oauthbearer.assertion.file sasl.oauthbearer.assertion.private.key.file
	sasl.oauthbearer.assertion.private.key.passphrase sasl.oauthbearer.assertion.template.file
	sasl.oauthbearer.client.credentials.client.id sasl.oauthbearer.client.credentials.client.secret
	sasl.oauthbearer.clock.skew.seconds sasl.oauthbearer.expected.audience
	sasl.oauthbearer.expected.issuer sasl.oauthbearer.header.urlencode
	sasl.oauthbearer.jwks.endpoint.refresh.ms sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms
	sasl.oauthbearer.jwks.endpoint.retry.backoff.ms sasl.oauthbearer.jwks.endpoint.url
	sasl.oauthbearer.jwt.retriever.class sasl.oauthbearer.jwt.validator.class sasl.oauthbearer.scope
	sasl.oauthbearer.scope.claim.name sasl.oauthbearer.sub.claim.name sasl.oauthbearer.token.endpoint.url`)

// javaSASLDefaults are the non-null defaults Java 4.4's ConfigDef prints (a LIST's []
// written as "", a CLASS without Java's "class " prefix).
var javaSASLDefaults = map[string]string{
	"sasl.kerberos.kinit.cmd": "/usr/bin/kinit", "sasl.kerberos.min.time.before.relogin": "60000",
	"sasl.kerberos.ticket.renew.jitter": "0.05", "sasl.kerberos.ticket.renew.window.factor": "0.8",
	"sasl.login.refresh.buffer.seconds": "300", "sasl.login.refresh.min.period.seconds": "60",
	"sasl.login.refresh.window.factor": "0.8", "sasl.login.refresh.window.jitter": "0.05",
	"sasl.login.retry.backoff.max.ms": "10000", "sasl.login.retry.backoff.ms": "100", "sasl.mechanism": "GSSAPI",
	"sasl.oauthbearer.allow.unverified.audience": "false", "sasl.oauthbearer.allow.unverified.issuer": "false",
	"sasl.oauthbearer.assertion.algorithm": "RS256", "sasl.oauthbearer.assertion.claim.exp.seconds": "300",
	"sasl.oauthbearer.assertion.claim.jti.include": "false", "sasl.oauthbearer.assertion.claim.nbf.seconds": "60",
	"sasl.oauthbearer.clock.skew.seconds": "30", "sasl.oauthbearer.expected.audience": "",
	"sasl.oauthbearer.header.urlencode": "false", "sasl.oauthbearer.jwks.endpoint.refresh.ms": "3600000",
	"sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms": "10000", "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms": "100",
	"sasl.oauthbearer.jwt.retriever.class": "org.apache.kafka.common.security.oauthbearer.DefaultJwtRetriever",
	"sasl.oauthbearer.jwt.validator.class": "org.apache.kafka.common.security.oauthbearer.DefaultJwtValidator",
	"sasl.oauthbearer.scope.claim.name":    "scope", "sasl.oauthbearer.sub.claim.name": "sub",
}

func TestJAASList(t *testing.T) {
	for in, want := range map[string]string{
		"": "[]", ",": "[]", ",a,b": "[a b]", "|a|b|": "[a b ]", ",a,,b": "[a  b ]", ",,a": "[ a ]", ".a.b": "[a b]",
	} {
		if got := fmt.Sprint(jaasList(in)); got != want {
			t.Errorf("jaasList(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestSASLRowsAcceptTheirDefaults: every sasl.* row takes Java's default as a value (a
// properties file may spell the default out), which TestConfigTableRowsAreComplete
// checks only for rows with a field.
func TestSASLRowsAcceptTheirDefaults(t *testing.T) {
	n := 0
	for _, p := range configTable {
		if !strings.HasPrefix(p.Property, "sasl.") || p.Default == "null" {
			continue
		}
		n++
		var c Config
		if err := p.parse(&c, p.Default); err != nil {
			t.Errorf("%s=%s: %v", p.Property, p.Default, err)
		}
	}
	// Every sasl.* property of Java 4.4's producer (ProducerConfig.configDef(), printed
	// by Java), no more.
	var rows []string
	for _, p := range configTable {
		if strings.HasPrefix(p.Property, "sasl.") {
			rows = append(rows, p.Property)
		}
	}
	slices.Sort(rows)
	if !slices.Equal(rows, javaSASLProperties) {
		t.Errorf("sasl.* rows\n%v\nJava 4.4's\n%v", rows, javaSASLProperties)
	}
	total := len(rows)
	for _, e := range ConfigTable() {
		if want, ok := javaSASLDefaults[e.Property]; ok && e.Default != want {
			t.Errorf("%s default %q, Java's %q", e.Property, e.Default, want)
		}
	}
	t.Logf("%d of %d sasl.* rows have a default", n, total)
}
