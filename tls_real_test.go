package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
)

// TLS on real Kafka 4.x listeners (scripts/kafka up --security): the SSL listener,
// the MTLS one requiring a client certificate (principal User:alice, which the
// authorizer then checks), WRONGHOST (a certificate for another name). What kprod
// writes is read back over PLAINTEXT with kgo.

// realTLSTopic creates a topic over PLAINTEXT, lets alice produce to it, and waits
// until every broker knows it.
func realTLSTopic(t *testing.T, s *testcluster.SecureCluster, prefix string) string {
	t.Helper()
	topic := rtUniqueTopic(prefix)
	cl := rtClient(t, s.Bootstrap)
	testcluster.CreateTopic(t, cl, topic, 1, int16(s.Nodes), nil)
	testcluster.WaitTopicKnown(t, cl, topic)
	acl := testcluster.ProducerACL("User:alice", topic, false)
	s.Grant(t, acl)
	t.Cleanup(func() { s.Revoke(t, acl) })
	return topic
}

// TestRealTLSProduce produces over SSL and MTLS with every store and key form: the
// Java client configs the harness wrote (JKS, PKCS12, PEM with a PBES1 key, inline
// PEM) loaded unchanged, and Configs for what Java cannot read or the harness files
// do not cover (PBES2 and PKCS#1 keys, the legacy PKCS12, an EC key, no host check).
func TestRealTLSProduce(t *testing.T) {
	s := testcluster.Secure(t)
	topic := realTLSTopic(t, s, "tls-real")
	pemTrust := kprod.SSLConfig{TruststoreType: "PEM", TruststoreLocation: s.PKI("ca.pem")}
	mtls := func(ssl kprod.SSLConfig) kprod.Config {
		return kprod.Config{BootstrapServers: s.Listeners["MTLS"], SecurityProtocol: kprod.SecuritySSL, SSL: ssl}
	}
	inlineKey := func(keyFile, chainFile string, password kprod.Password) kprod.SSLConfig {
		ssl := pemTrust
		ssl.KeystoreType, ssl.KeyPassword = "PEM", password
		ssl.KeystoreKey = kprod.Password(readFile(t, s.PKI(keyFile)))
		ssl.KeystoreCertificateChain = readFile(t, s.PKI(chainFile))
		return ssl
	}
	configs := map[string]func() (kprod.Config, error){}
	for _, name := range []string{"ssl", "mtls", "mtls-p12", "mtls-pem", "mtls-inline"} {
		file := s.Config(t, name).File
		configs[name+".properties"] = func() (kprod.Config, error) {
			props, err := kprod.LoadProperties(file)
			if err != nil {
				return kprod.Config{}, err
			}
			return kprod.ConfigFromProperties(props)
		}
	}
	structs := map[string]kprod.Config{
		"SSL PKCS12 truststore": {BootstrapServers: s.Listeners["SSL"], SecurityProtocol: kprod.SecuritySSL,
			SSL: kprod.SSLConfig{TruststoreType: "PKCS12", TruststoreLocation: s.PKI("truststore.p12"), TruststorePassword: kprod.Password(s.StorePassword)}},
		"SSL no host check": {BootstrapServers: s.Listeners["WRONGHOST"], SecurityProtocol: kprod.SecuritySSL,
			SSL: kprod.SSLConfig{TruststoreType: "PEM", TruststoreLocation: s.PKI("ca.pem"), EndpointIdentification: kprod.EndpointIdentificationNone}},
		"SSL TLSv1.2": {BootstrapServers: s.Listeners["SSL"], SecurityProtocol: kprod.SecuritySSL,
			SSL: kprod.SSLConfig{TruststoreType: "PEM", TruststoreLocation: s.PKI("ca.pem"), Protocol: "TLSv1.2",
				CipherSuites: []string{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}}},
		"MTLS PBES2 key":     mtls(inlineKey("alice.pbes2.key", "alice.pem", kprod.Password(s.KeyPassword))),
		"MTLS PBES1 key":     mtls(inlineKey("alice.pbes1.key", "alice.chain.pem", kprod.Password(s.KeyPassword))),
		"MTLS PKCS#1 key":    mtls(inlineKey("alice.pkcs1.key", "alice.pem", "")),
		"MTLS EC key":        mtls(kprod.SSLConfig{TruststoreType: "PEM", TruststoreLocation: s.PKI("ca.pem"), KeystoreType: "PEM", KeystoreLocation: s.PKI("alice-ec.keystore.pem")}),
		"MTLS legacy PKCS12": mtls(kprod.SSLConfig{TruststoreLocation: s.PKI("truststore.jks"), TruststorePassword: kprod.Password(s.StorePassword), KeystoreType: "PKCS12", KeystoreLocation: s.PKI("alice.legacy.p12"), KeystorePassword: kprod.Password(s.StorePassword)}),
	}
	for name, cfg := range structs {
		configs[name] = func() (kprod.Config, error) { return cfg, nil }
	}

	want := map[string]bool{}
	for name, mk := range configs {
		t.Run(name, func(t *testing.T) {
			cfg, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			before := kprodGoroutines()
			p, err := kprod.NewProducer(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for i := range 5 {
				v := fmt.Sprintf("%s-%d", name, i)
				if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte(v)}); err != nil {
					t.Fatalf("SendSync: %v", err)
				}
				want[v] = true
			}
			if err := p.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			checkNoLeak(t, before)
		})
	}
	recs := rtConsume(t, s.Bootstrap, topic, len(want), time.Minute)
	for _, r := range recs {
		delete(want, string(r.Value))
	}
	if len(want) != 0 {
		t.Fatalf("%d records not read back over PLAINTEXT: %v", len(want), want)
	}
}

// TestRealTLSFailsFast: each certificate or protocol mistake on a real listener fails
// Send with ErrAuthentication naming the broker, within about
// socket.connection.setup.timeout.ms (max.block.ms is 60 s: the bound detects a hang,
// it does not measure speed), and Close leaves no goroutine. Nothing is written.
func TestRealTLSFailsFast(t *testing.T) {
	s := testcluster.Secure(t)
	topic := realTLSTopic(t, s, "tls-real-fail")
	ca := kprod.SSLConfig{TruststoreType: "PEM", TruststoreLocation: s.PKI("ca.pem")}
	for _, c := range []struct {
		name, listener string
		protocol       kprod.SecurityProtocol
		ssl            kprod.SSLConfig
		want           string
	}{
		{"untrusted CA", "SSL", kprod.SecuritySSL,
			kprod.SSLConfig{TruststoreType: "PEM", TruststoreLocation: s.PKI("untrusted-ca.pem")}, "ssl.truststore"},
		{"wrong host", "WRONGHOST", kprod.SecuritySSL, ca, "not valid for this host"},
		{"missing client certificate", "MTLS", kprod.SecuritySSL, ca, "bad certificate"},
		{"untrusted client certificate", "MTLS", kprod.SecuritySSL,
			kprod.SSLConfig{TruststoreType: "PEM", TruststoreLocation: s.PKI("ca.pem"), KeystoreType: "PEM",
				KeystoreLocation: s.PKI("untrusted-alice.keystore.pem")}, "bad certificate"},
		{"PLAINTEXT to the SSL listener", "SSL", kprod.SecurityPlaintext, kprod.SSLConfig{}, "security.protocol=SSL"},
		{"SSL to the PLAINTEXT listener", "PLAINTEXT", kprod.SecuritySSL, ca, "not a TLS listener"},
	} {
		t.Run(c.name, func(t *testing.T) {
			const setup = 5 * time.Second
			before := kprodGoroutines()
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: s.Listeners[c.listener], SecurityProtocol: c.protocol,
				SSL: c.ssl, MaxBlock: time.Minute, SocketConnectionSetupTimeout: setup},
				kprod.WithLogger(slog.New(slog.DiscardHandler))) // the refresher's warnings are expected
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = p.Send(context.Background(), &kprod.Record{Topic: topic, Value: []byte(c.name)}, nil)
			took := time.Since(start)
			closeWithin(t, p, context.Background(), 5*time.Second)
			checkNoLeak(t, before)
			if !errors.Is(err, kprod.ErrAuthentication) || kprod.IsRetriable(err) || kprod.MaybeWritten(err) {
				t.Fatalf("Send: %v (retriable %v, maybe written %v), want ErrAuthentication, neither", err,
					kprod.IsRetriable(err), kprod.MaybeWritten(err))
			}
			if !strings.Contains(err.Error(), s.Listeners[c.listener][0]) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not name the broker %s and %q", err, s.Listeners[c.listener][0], c.want)
			}
			if took > setup+10*time.Second {
				t.Errorf("Send took %v with a %v setup timeout: it waited for max.block.ms", took, setup)
			}
			t.Logf("%v after %v", err, took.Round(time.Millisecond))
		})
	}
	if n := rtEndOffsetsSum(t, rtClient(t, s.Bootstrap), topic, 1); n != 0 {
		t.Fatalf("%d records written by failing producers", n)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
