package kprod_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/sasl"
)

// The proof on real Kafka (testcluster.Secure: Kafka 4.x with a SASL_PLAINTEXT listener
// whose sessions expire after 10s, KIP-368, a SASL_SSL one, and OAUTH: SASL_SSL with
// signed tokens). Records are read back with kgo over PLAINTEXT, where the principal is
// a super user.

const saslTopicPrefix = "kprod-sasl-" // the SASL principals may write topics starting so

// saslSecure returns the secure cluster with the SASL principals allowed to produce to
// saslTopicPrefix topics.
func saslSecure(t *testing.T) *testcluster.SecureCluster {
	t.Helper()
	s := testcluster.Secure(t)
	var acls []testcluster.ACL
	for _, u := range []string{"alice", "bob", "carol", "svc"} {
		acls = append(acls, testcluster.ProducerACL("User:"+u, saslTopicPrefix, true))
	}
	s.Grant(t, acls...)
	return s
}

// saslTopic creates a topic over PLAINTEXT and waits until every broker knows it.
func saslTopic(t *testing.T, s *testcluster.SecureCluster, name string, partitions int32) string {
	t.Helper()
	topic := rtUniqueTopic(saslTopicPrefix + name)
	cl := rtClient(t, s.Bootstrap)
	testcluster.CreateTopic(t, cl, topic, partitions, int16(s.Nodes), nil)
	testcluster.WaitTopicKnown(t, cl, topic)
	return topic
}

// sendValues sends "<topic>-<i>" for i < n synchronously.
func sendValues(t *testing.T, p *kprod.Producer, topic string, n int) {
	t.Helper()
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte(topic + "-" + strconv.Itoa(i))})
		cancel()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
}

// expectSASLValues reads the n values sendValues wrote, in order, over PLAINTEXT.
func expectSASLValues(t *testing.T, s *testcluster.SecureCluster, topic string, n int) {
	t.Helper()
	recs := rtConsume(t, s.Bootstrap, topic, n, time.Minute)
	if len(recs) != n {
		t.Fatalf("read %d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		if want := topic + "-" + strconv.Itoa(i); string(r.Value) != want {
			t.Fatalf("record %d = %q, want %q", i, r.Value, want)
		}
	}
}

// TestRealSASLJavaConfigs: every SASL_PLAINTEXT and SASL_SSL producer.properties the
// harness wrote for Java (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER with
// unsecured tokens) works unchanged through LoadProperties and ConfigFromProperties.
func TestRealSASLJavaConfigs(t *testing.T) {
	s := saslSecure(t)
	seen := 0
	for _, cc := range s.Configs {
		if cc.Mechanism == "" {
			continue // SSL: the TLS tests' business
		}
		seen++
		t.Run(cc.Name, func(t *testing.T) {
			props, err := kprod.LoadProperties(cc.File)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := kprod.ConfigFromProperties(props)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SASL == nil || cfg.SASL.Name() != cc.Mechanism {
				t.Fatalf("mechanism %v, want %s", cfg.SASL, cc.Mechanism)
			}
			topic := saslTopic(t, s, cc.Name, 1)
			p := rtProducer(t, cfg.BootstrapServers, func(c *kprod.Config) { *c = cfg })
			sendValues(t, p, topic, 5)
			expectSASLValues(t, s, topic, 5)
		})
	}
	if seen != 8 {
		t.Errorf("%d SASL configs, want one per protocol and mechanism", seen)
	}
}

// TestRealSASLClientCredentials: OAUTHBEARER with tokens from a local KIP-768 token
// endpoint, configured as Java is (the properties and JAAS options), on SASL_PLAINTEXT.
func TestRealSASLClientCredentials(t *testing.T) {
	s := saslSecure(t)
	tokens := testcluster.NewTokenEndpoint(t, map[string]string{"svc": "svc-oauth-secret"}, time.Hour)
	props := map[string]string{
		"bootstrap.servers": s.Listener("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
		"sasl.mechanism":                      "OAUTHBEARER",
		"sasl.login.callback.handler.class":   "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
		"sasl.oauthbearer.token.endpoint.url": tokens.URL,
		"sasl.jaas.config":                    `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="svc" clientSecret="svc-oauth-secret";`,
	}
	cfg, err := kprod.ConfigFromProperties(props)
	if err != nil {
		t.Fatal(err)
	}
	topic := saslTopic(t, s, "oauth-cc", 1)
	p := rtProducer(t, cfg.BootstrapServers, func(c *kprod.Config) { *c = cfg })
	sendValues(t, p, topic, 5)
	expectSASLValues(t, s, topic, 5)
	// One token serves every connection: it is cached until its refresh time.
	if tokens.Issued() != 1 || tokens.Denied() != 0 {
		t.Errorf("token endpoint issued %d and denied %d tokens, want 1 and 0", tokens.Issued(), tokens.Denied())
	}
}

// TestRealSASLReauthUnderLoad: an idempotent producer with max.in.flight=5 sends paced
// records for more than three 10-second sessions of SCRAM-SHA-512 on SASL_PLAINTEXT. The
// broker closes a connection whose session expired (KIP-368), so every record arriving
// proves the re-authentications happened in time; the records read back over PLAINTEXT
// are all there, once, in order; and the connections re-authenticated about once per
// session, never in a loop.
func TestRealSASLReauthUnderLoad(t *testing.T) {
	s := saslSecure(t)
	topic := saslTopic(t, s, "reauth", 3)
	user := s.Users["alice"]
	mech := &authCounter{Mechanism: sasl.ScramSHA512(user.Name, user.Password)}
	dc := &dialCounter{}
	before := kprodGoroutines()
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: s.Listeners["SASL_PLAINTEXT"],
		SecurityProtocol: kprod.SecuritySASLPlaintext, SASL: mech, Idempotence: kprod.ToggleOn, MaxInFlight: 5,
		Linger: 2 * time.Millisecond}, kprod.WithDialer(dc.dial))
	if err != nil {
		t.Fatal(err)
	}
	lifetime := time.Duration(s.ReauthMs) * time.Millisecond
	start := time.Now()
	sent := pacedRun(t, p, topic, 2*time.Second, nil) // every connection is up
	setupDials := dc.dials.Load()
	sent = pacedRun(t, p, topic, 3*lifetime+3*time.Second, sent)
	elapsed := time.Since(start)
	reauths, dials := mech.auths.Load()-dc.dials.Load(), dc.dials.Load()
	closeWithin(t, p, context.Background(), 30*time.Second)
	checkNoLeak(t, before)

	cl := rtClient(t, s.Bootstrap)
	checkReadBack(t, sent, consumeAll(t, cl, topic, sent))

	// The sender's connection lived through the whole run: it re-authenticated at
	// least once per elapsed 95% of a session; no connection did more than once per
	// 85% of one (and dials count every connection, re-dialed ones included).
	if dials != setupDials {
		t.Errorf("%d connections were opened again after the first %d: the broker closed expired sessions", dials-setupDials, setupDials)
	}
	perSession := float64(elapsed) / float64(lifetime)
	if float64(reauths) < perSession/0.95-1 || float64(reauths) > float64(dials)*(perSession/0.85+1) {
		t.Errorf("%d re-authentications on %d connections in %v with %v sessions", reauths, dials, elapsed, lifetime)
	}
	t.Logf("%d re-authentications on %d connections in %v (sessions of %v)", reauths, dials, elapsed, lifetime)
}

// TestRealSASLRejected: wrong password, a user without credentials for the mechanism,
// an expired token and a refused client secret all fail Send fast with
// ErrAuthentication, keeping the broker's explanation and showing no secret; Close then
// leaves no goroutine.
func TestRealSASLRejected(t *testing.T) {
	s := saslSecure(t)
	bob, carol := s.Users["bob"], s.Users["carol"]
	expired := testcluster.UnsecuredJWT("alice", time.Now().Add(-2*time.Hour), time.Hour)
	tokens := testcluster.NewTokenEndpoint(t, map[string]string{"svc": "svc-oauth-secret"}, time.Hour)
	cases := []struct {
		name   string
		mech   sasl.Mechanism
		secret string
		want   string
	}{
		{"wrong password", sasl.Plain(carol.Name, "not-"+carol.Password), "not-" + carol.Password, "Invalid username or password"},
		{"unknown user", sasl.ScramSHA256("nobody", "nobody-secret"), "nobody-secret", "SASL_AUTHENTICATION_FAILED"},
		// bob has SCRAM-SHA-256 credentials only.
		{"wrong mechanism", sasl.ScramSHA512(bob.Name, bob.Password), bob.Password, "SASL_AUTHENTICATION_FAILED"},
		{"expired token", sasl.OAuthBearer(sasl.StaticToken(sasl.Token{Value: expired})), expired, "SASL_AUTHENTICATION_FAILED"},
		{"refused client secret", sasl.OAuthBearer(sasl.ClientCredentials(sasl.ClientCredentialsConfig{TokenURL: tokens.URL,
			ClientID: "svc", ClientSecret: "wrong-oauth-secret"})), "wrong-oauth-secret", "invalid_client"},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "-"), func(t *testing.T) {
			before := kprodGoroutines()
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: s.Listeners["SASL_PLAINTEXT"],
				SecurityProtocol: kprod.SecuritySASLPlaintext, SASL: c.mech})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = p.Send(context.Background(), &kprod.Record{Topic: saslTopicPrefix + "rejected", Value: []byte("v")}, nil)
			took := time.Since(start)
			if !errors.Is(err, kprod.ErrAuthentication) || kprod.IsRetriable(err) || kprod.MaybeWritten(err) {
				t.Fatalf("Send: %v", err)
			}
			if took > 30*time.Second { // a hang detector: max.block.ms is 60s
				t.Errorf("Send failed after %v", took)
			}
			if msg := err.Error(); !strings.Contains(msg, c.want) || !strings.Contains(msg, s.Listeners["SASL_PLAINTEXT"][0]) ||
				!strings.Contains(msg, c.mech.Name()) || strings.Contains(msg, c.secret) {
				t.Errorf("error %q: want %q, the broker and the mechanism, and no secret", msg, c.want)
			}
			t.Logf("after %v: %v", took, err)
			closeWithin(t, p, context.Background(), 10*time.Second)
			checkNoLeak(t, before)
		})
	}
}

// TestRealSASLWrongListener: SASL to the PLAINTEXT listener is refused at the
// handshake, fast, with ErrAuthentication.
func TestRealSASLWrongListener(t *testing.T) {
	s := testcluster.Secure(t)
	p := rtProducer(t, s.Bootstrap, func(c *kprod.Config) {
		c.SecurityProtocol, c.SASL = kprod.SecuritySASLPlaintext, sasl.Plain("carol", "carol-secret")
	})
	err := p.Send(context.Background(), &kprod.Record{Topic: saslTopicPrefix + "wrong-listener", Value: []byte("v")}, nil)
	if !errors.Is(err, kprod.ErrAuthentication) || !strings.Contains(err.Error(), "ILLEGAL_SASL_STATE") {
		t.Fatalf("Send: %v", err)
	}
}

// TestRealSASLSSLClientCredentials: OAUTHBEARER over SASL_SSL on the OAUTH listener,
// which validates signed tokens (RS256 against a JWK Set, with audience and issuer):
// tokens come from a local KIP-768 token endpoint, configured as a Java producer is.
func TestRealSASLSSLClientCredentials(t *testing.T) {
	s := saslSecure(t)
	tokens := s.TokenEndpoint(t, map[string]string{"svc": "svc-oauth-secret"}, time.Hour)
	props := map[string]string{
		"bootstrap.servers": s.Listener("OAUTH"), "security.protocol": "SASL_SSL",
		"ssl.truststore.type": "PEM", "ssl.truststore.location": s.PKI("ca.pem"),
		"sasl.mechanism":                      "OAUTHBEARER",
		"sasl.login.callback.handler.class":   "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
		"sasl.oauthbearer.token.endpoint.url": tokens.URL,
		"sasl.jaas.config":                    `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="svc" clientSecret="svc-oauth-secret";`,
	}
	cfg, err := kprod.ConfigFromProperties(props)
	if err != nil {
		t.Fatal(err)
	}
	topic := saslTopic(t, s, "oauth-ssl", 1)
	p := rtProducer(t, cfg.BootstrapServers, func(c *kprod.Config) { *c = cfg })
	sendValues(t, p, topic, 5)
	expectSASLValues(t, s, topic, 5)
	if tokens.Issued() != 1 || tokens.Denied() != 0 {
		t.Errorf("token endpoint issued %d and denied %d tokens, want 1 and 0", tokens.Issued(), tokens.Denied())
	}

	// An unsigned token is refused by this listener's validator: ErrAuthentication.
	bad := rtProducer(t, s.Listeners["OAUTH"], func(c *kprod.Config) {
		c.SecurityProtocol, c.TLS = kprod.SecuritySASLSSL, s.TLSConfig(t, "")
		c.SASL = sasl.OAuthBearer(sasl.UnsecuredToken(sasl.UnsecuredTokenConfig{StringClaims: map[string]string{"sub": "svc"}}))
	})
	err = bad.Send(context.Background(), &kprod.Record{Topic: topic, Value: []byte("v")}, nil)
	if !errors.Is(err, kprod.ErrAuthentication) {
		t.Fatalf("unsigned token: %v", err)
	}
}
