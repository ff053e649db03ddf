package testcluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/testcluster"
)

// Java's own ConsoleProducer is the reference for every secure listener: each config that
// `scripts/kafka up --security` writes must get records through, unchanged, and the bad
// variants must fail with the error Java gives. ConsoleProducer exits 0 whatever happened
// to the records (it only logs send errors), so records are read back with franz-go over
// PLAINTEXT, and failures are recognised on stderr and by the topic never being created.

const javaTopicPrefix = "secjava-" // the configs' principals may write topics starting so

// TestRealSecureJavaProducerConfigs runs ConsoleProducer with each generated
// producer.properties (SSL, mTLS with JKS, PKCS12, encrypted PEM and inline PEM stores,
// SASL_PLAINTEXT and SASL_SSL with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER)
// and with OAuth client credentials from a local token endpoint (KIP-768), and reads
// every record back.
func TestRealSecureJavaProducerConfigs(t *testing.T) {
	s := testcluster.Secure(t)
	grantJavaPrincipals(t, s)
	if len(s.Configs) < 13 {
		t.Fatalf("%d client configs, want 13 (every protocol and mechanism): %+v", len(s.Configs), s.Configs)
	}
	for _, cc := range s.Configs {
		t.Run(cc.Name, func(t *testing.T) {
			t.Parallel()
			topic := newTopic(t, s, javaTopicPrefix+cc.Name)
			stderr := javaProduce(t, s, nil, cc.File, s.Listener(cc.Listener), topic, 3)
			if bad := javaErrors(stderr); bad != "" {
				t.Fatalf("ConsoleProducer with %s logged errors:\n%s", cc.File, bad)
			}
			expectValues(t, s, topic, 3)
		})
	}
	t.Run("wronghost-no-endpoint-identification", func(t *testing.T) {
		t.Parallel()
		// ssl.endpoint.identification.algorithm="" skips the host check, not the chain.
		file := writeProps(t, "security.protocol=SSL", "ssl.truststore.type=PEM",
			"ssl.truststore.location="+s.PKI("ca.pem"), "ssl.endpoint.identification.algorithm=")
		topic := newTopic(t, s, javaTopicPrefix+"wronghost")
		stderr := javaProduce(t, s, nil, file, s.Listener("WRONGHOST"), topic, 3)
		if bad := javaErrors(stderr); bad != "" {
			t.Fatalf("ConsoleProducer logged errors:\n%s", bad)
		}
		expectValues(t, s, topic, 3)
	})
	t.Run("oauth-client-credentials", func(t *testing.T) {
		t.Parallel()
		// Signed tokens and the OAUTH listener: Java's client refuses unsigned ones.
		tokens := s.TokenEndpoint(t, map[string]string{"alice": "alice-oauth-secret"}, time.Hour)
		file := writeProps(t, "security.protocol=SASL_SSL", "ssl.truststore.type=PEM",
			"ssl.truststore.location="+s.PKI("ca.pem"), "sasl.mechanism=OAUTHBEARER",
			"sasl.oauthbearer.token.endpoint.url="+tokens.URL,
			"sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
			`sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="alice" clientSecret="alice-oauth-secret";`)
		topic := newTopic(t, s, javaTopicPrefix+"oauth-cc")
		// Kafka 4.0+ calls only token endpoints listed in this system property.
		jvm := []string{"-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=" + tokens.URL}
		stderr := javaProduce(t, s, jvm, file, s.Listener("OAUTH"), topic, 3)
		if bad := javaErrors(stderr); bad != "" {
			t.Fatalf("ConsoleProducer logged errors:\n%s", bad)
		}
		expectValues(t, s, topic, 3)
		if tokens.Issued() == 0 || tokens.Denied() != 0 {
			t.Fatalf("token endpoint issued %d, denied %d; want >0 issued, none denied", tokens.Issued(), tokens.Denied())
		}
	})
}

// grantJavaPrincipals lets every principal of the generated configs produce to the topics
// of these tests. ANONYMOUS (SSL) is a super user already.
func grantJavaPrincipals(t *testing.T, s *testcluster.SecureCluster) {
	t.Helper()
	var acls []testcluster.ACL
	seen := map[string]bool{"User:ANONYMOUS": true}
	for _, cc := range s.Configs {
		if !seen[cc.Principal] {
			seen[cc.Principal] = true
			acls = append(acls, testcluster.ProducerACL(cc.Principal, javaTopicPrefix, true))
		}
	}
	s.Grant(t, acls...)
}

// TestRealSecureJavaRejects runs ConsoleProducer with broken variants of the configs: each
// must fail authentication with Java's error, and no record may be written.
func TestRealSecureJavaRejects(t *testing.T) {
	s := testcluster.Secure(t)
	trustCA := []string{"ssl.truststore.type=PEM", "ssl.truststore.location=" + s.PKI("ca.pem")}
	cases := []struct {
		name, listener string
		props          []string
		want           []string // regexps, all of which must appear on stderr
	}{
		{"scram-sha-512-wrong-password", "SASL_SSL", append([]string{"security.protocol=SASL_SSL",
			"sasl.mechanism=SCRAM-SHA-512",
			`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="not-alice-secret";`}, trustCA...),
			[]string{`SaslAuthenticationException: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512`}},
		{"plain-wrong-password", "SASL_PLAINTEXT", []string{"security.protocol=SASL_PLAINTEXT",
			"sasl.mechanism=PLAIN",
			`sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="carol" password="not-carol-secret";`},
			[]string{`SaslAuthenticationException: Authentication failed: Invalid username or password`}},
		{"scram-sha-256-unknown-mechanism-user", "SASL_PLAINTEXT", []string{"security.protocol=SASL_PLAINTEXT",
			"sasl.mechanism=SCRAM-SHA-256", // alice exists for SCRAM-SHA-512 only
			`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-secret";`},
			[]string{`SaslAuthenticationException`}},
		{"untrusted-ca", "SSL", []string{"security.protocol=SSL", "ssl.truststore.type=PEM",
			"ssl.truststore.location=" + s.PKI("untrusted-ca.pem")},
			[]string{`SslAuthenticationException: SSL handshake failed`, `PKIX path building failed`}},
		{"wrong-host", "WRONGHOST", append([]string{"security.protocol=SSL"}, trustCA...),
			[]string{`SslAuthenticationException: SSL handshake failed`, `No subject alternative names matching IP address 127\.0\.0\.1`}},
		{"mtls-no-client-certificate", "MTLS", append([]string{"security.protocol=SSL"}, trustCA...),
			[]string{`SslAuthenticationException`, `bad_certificate`}},
		{"mtls-untrusted-client-certificate", "MTLS", append([]string{"security.protocol=SSL",
			"ssl.keystore.type=PEM", "ssl.keystore.location=" + s.PKI("untrusted-alice.keystore.pem")}, trustCA...),
			[]string{`SslAuthenticationException`, `bad_certificate`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			topic := uniqueTopic(javaTopicPrefix + "reject-" + c.name)
			stderr := javaProduce(t, s, nil, writeProps(t, c.props...), s.Listener(c.listener), topic, 1)
			for _, w := range c.want {
				if !regexp.MustCompile(w).MatchString(stderr) {
					t.Errorf("stderr lacks %q:\n%s", w, tail(stderr, 3000))
				}
			}
			expectNoTopic(t, s, topic)
		})
	}
}

// TestRealSecureJavaTopicAuthorization: alice (SCRAM-SHA-512 over SASL_SSL, through the
// generated config) is denied a topic until she has the producer ACL, then allowed.
func TestRealSecureJavaTopicAuthorization(t *testing.T) {
	s := testcluster.Secure(t)
	cc := s.Config(t, "sasl_ssl-scram-sha-512")
	topic := newTopic(t, s, "secacl-java")

	stderr := javaProduce(t, s, nil, cc.File, s.Listener(cc.Listener), topic, 1)
	if !strings.Contains(stderr, "TopicAuthorizationException: Not authorized to access topics: ["+topic+"]") {
		t.Fatalf("without ACLs, stderr lacks TopicAuthorizationException for %s:\n%s", topic, tail(stderr, 3000))
	}
	s.Grant(t, testcluster.ProducerACL(cc.Principal, topic, false))
	stderr = javaProduce(t, s, nil, cc.File, s.Listener(cc.Listener), topic, 3)
	if bad := javaErrors(stderr); bad != "" {
		t.Fatalf("with the producer ACL, ConsoleProducer logged errors:\n%s", bad)
	}
	expectValues(t, s, topic, 3)
}

// newTopic creates a one-partition topic over PLAINTEXT, replicated to every node, and
// waits until every broker knows it: the producers under test need not create it.
func newTopic(t *testing.T, s *testcluster.SecureCluster, prefix string) string {
	t.Helper()
	topic := uniqueTopic(prefix)
	cl := client(t, s.Cluster)
	testcluster.CreateTopic(t, cl, topic, 1, int16(s.Nodes), nil)
	testcluster.WaitTopicKnown(t, cl, topic)
	return topic
}

// javaProduce writes n records "<topic>-<i>" with ConsoleProducer and returns its stderr.
func javaProduce(t *testing.T, s *testcluster.SecureCluster, jvm []string, config, bootstrap, topic string, n int) string {
	t.Helper()
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "%s-%d\n", topic, i)
	}
	_, stderr, err := s.JavaWith(jvm, in.String(), "ConsoleProducer", "--bootstrap-server", bootstrap,
		"--topic", topic, "--producer.config", config,
		// Fail, not hang, when the broker cannot be reached or authenticated to.
		"--producer-property", "max.block.ms=30000", "--producer-property", "delivery.timeout.ms=30000",
		"--producer-property", "request.timeout.ms=20000")
	if err != nil {
		t.Fatalf("ConsoleProducer: %v", err)
	}
	return stderr
}

// javaErrors returns the ERROR lines of a Java tool's stderr, each with the line after it
// (the exception). WARN lines are left alone: a new topic's first metadata and leader
// elections on three nodes log retriable errors that Java handles itself.
func javaErrors(stderr string) string {
	var bad []string
	lines := strings.Split(stderr, "\n")
	for i, l := range lines {
		if strings.Contains(l, " ERROR ") {
			bad = append(bad, l)
			if i+1 < len(lines) {
				bad = append(bad, lines[i+1])
			}
		}
	}
	return strings.Join(bad, "\n")
}

// expectValues reads topic over PLAINTEXT (ANONYMOUS, a super user) and wants exactly the
// n values javaProduce wrote, in order.
func expectValues(t *testing.T, s *testcluster.SecureCluster, topic string, n int) {
	t.Helper()
	recs := consumeAll(t, s.Cluster, topic, n, 60*time.Second)
	if len(recs) != n {
		t.Fatalf("read %d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("%s-%d", topic, i); string(r.Value) != want {
			t.Fatalf("record %d = %q, want %q", i, r.Value, want)
		}
	}
}

// expectNoTopic checks topic does not exist: the producer never got far enough to create
// it (auto.create.topics.enable=true on the broker), so nothing was written.
func expectNoTopic(t *testing.T, s *testcluster.SecureCluster, topic string) {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = false
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, client(t, s.Cluster))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("topic %s exists after a rejected producer: %+v", topic, resp.Topics)
	}
}

// writeProps writes a producer.properties with the given lines in the test's temp dir.
func writeProps(t *testing.T, lines ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "producer.properties")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// TestRealSecureJavaWriteDenied is the Java side of kprod's TestRealAuthzTopic: noacl
// (SCRAM-SHA-512 over SASL_SSL) may describe the topic but not write it, and may write
// another topic (which allows its idempotent InitProducerId, KIP-679). ConsoleProducer's
// records fail TopicAuthorizationException naming the topic, and nothing is written.
func TestRealSecureJavaWriteDenied(t *testing.T) {
	s := testcluster.Secure(t)
	open, denied := newTopic(t, s, "secacl-java-open"), newTopic(t, s, "secacl-java-denied")
	s.Grant(t, testcluster.ProducerACL("User:noacl", open, false),
		testcluster.ACL{Principal: "User:noacl", Resource: "topic", Name: denied, Operations: []string{"Describe"}})
	u := s.Users["noacl"]
	file := writeProps(t, "security.protocol=SASL_SSL", "ssl.truststore.type=PEM",
		"ssl.truststore.location="+s.PKI("ca.pem"), "sasl.mechanism=SCRAM-SHA-512",
		fmt.Sprintf(`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";`, u.Name, u.Password))
	stderr := javaProduce(t, s, nil, file, s.Listener("SASL_SSL"), denied, 1)
	if !strings.Contains(stderr, "TopicAuthorizationException: Not authorized to access topics: ["+denied+"]") {
		t.Fatalf("stderr lacks TopicAuthorizationException for %s:\n%s", denied, tail(stderr, 3000))
	}
	stderr = javaProduce(t, s, nil, file, s.Listener("SASL_SSL"), open, 2)
	if bad := javaErrors(stderr); bad != "" {
		t.Fatalf("the writable topic: ConsoleProducer logged errors:\n%s", bad)
	}
	expectValues(t, s, open, 2)
}
