package kprod_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testpki"
	"github.com/kprod-io/kprod/kafkatest"
)

// The fast tier of TLS: the embedded cluster (kfake) listening with TLS, requiring a
// client certificate. The real listeners are in tls_real_test.go.

// tlsBroker is a kfake cluster speaking TLS with cert; with clientCA it requires a
// client certificate that CA signed (mTLS).
func tlsBroker(t *testing.T, topic string, cert tls.Certificate, clientCA *testpki.CA) *kafkatest.Cluster {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCA != nil {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, clientCA.Pool()
	}
	return kafkatest.New(t, kafkatest.Topic(topic, 2), kafkatest.With(kfake.TLS(cfg)))
}

// TestTLSProduceEmbedded: each way of configuring mTLS (properties with PEM files,
// inline PEM, a *tls.Config given) produces records that an independent client
// (kgo, over TLS) reads back.
func TestTLSProduceEmbedded(t *testing.T) {
	const topic = "tls-roundtrip"
	ca := testpki.NewCA(t, "kfake CA")
	server := ca.Issue(t, testpki.Leaf{CN: "broker", Names: []string{"127.0.0.1", "localhost"}})
	client := ca.Issue(t, testpki.Leaf{CN: "alice", Client: true})
	c := tlsBroker(t, topic, server, ca)
	caFile := testpki.WriteFile(t, "ca.pem", ca.PEM())
	keystore := testpki.WriteFile(t, "alice.keystore.pem", testpki.KeystorePEM(t, client))
	boot := c.BootstrapServers()

	configs := map[string]func() (kprod.Config, error){
		"PEM files": func() (kprod.Config, error) {
			return kprod.ConfigFromProperties(map[string]string{"bootstrap.servers": boot, "security.protocol": "SSL",
				"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile,
				"ssl.keystore.type": "PEM", "ssl.keystore.location": keystore})
		},
		"inline PEM": func() (kprod.Config, error) {
			oneLine := func(s string) string { return strings.Join(strings.Fields(s), " ") }
			return kprod.ConfigFromProperties(map[string]string{"bootstrap.servers": boot, "security.protocol": "SSL",
				"ssl.truststore.type": "PEM", "ssl.truststore.certificates": oneLine(ca.PEM()),
				"ssl.keystore.type": "PEM", "ssl.keystore.key": testpki.KeyPEM(t, client.PrivateKey),
				"ssl.keystore.certificate.chain": oneLine(testpki.CertPEM(client.Certificate...))})
		},
		"Config.TLS": func() (kprod.Config, error) {
			return kprod.Config{BootstrapServers: c.Bootstrap(), SecurityProtocol: kprod.SecuritySSL,
				TLS: &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{client}}}, nil
		},
	}
	want := map[string]bool{}
	for name, mk := range configs {
		cfg, err := mk()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, err := kprod.NewProducer(cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range 10 {
			v := fmt.Sprintf("%s-%d", name, i)
			want[v] = true
			if _, err := p.SendSync(context.Background(), &kprod.Record{Topic: topic, Value: []byte(v)}); err != nil {
				t.Fatalf("%s: SendSync: %v", name, err)
			}
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatalf("%s: Close: %v", name, err)
		}
	}
	recs := rtConsume(t, c.Bootstrap(), topic, len(want), 30*time.Second,
		kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{client}}))
	for _, r := range recs {
		delete(want, string(r.Value))
	}
	if len(want) != 0 {
		t.Fatalf("%d records not read back: %v", len(want), want)
	}
}

// TestTLSAuthenticationFailsFast: certificate problems make Send return
// ErrAuthentication naming the broker within about socket.connection.setup.timeout.ms,
// not after max.block.ms (60 s here: the bound below detects a hang, it does not
// measure speed); the error is neither retriable nor a possibly written record, and
// the producer closes leaving no goroutine.
func TestTLSAuthenticationFailsFast(t *testing.T) {
	const topic = "tls-fail"
	ca, other := testpki.NewCA(t, "kfake CA"), testpki.NewCA(t, "untrusted CA")
	good := ca.Issue(t, testpki.Leaf{CN: "broker", Names: []string{"127.0.0.1"}})
	client := ca.Issue(t, testpki.Leaf{CN: "alice", Client: true})
	trust := kprod.SSLConfig{TruststoreType: "PEM", TruststoreCertificates: ca.PEM()}
	withKey := trust
	withKey.KeystoreType, withKey.KeystoreKey = "PEM", kprod.Password(testpki.KeyPEM(t, client.PrivateKey))
	withKey.KeystoreCertificateChain = testpki.CertPEM(client.Certificate...)
	for _, c := range []struct {
		name     string
		cert     tls.Certificate
		clientCA *testpki.CA
		ssl      kprod.SSLConfig
		host     string // dial this host instead of 127.0.0.1
		want     string
	}{
		{"untrusted CA", other.Issue(t, testpki.Leaf{CN: "broker", Names: []string{"127.0.0.1"}}), nil, trust, "", "ssl.truststore"},
		{"expired certificate", ca.Issue(t, testpki.Leaf{CN: "broker", Names: []string{"127.0.0.1"}, Expired: true}), nil, trust, "", "expired"},
		{"wrong host", good, nil, trust, "localhost", "not valid for this host"},
		{"missing client certificate", good, ca, trust, "", "client certificate"},
		{"untrusted client certificate", good, other, withKey, "", "client certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := kprodGoroutines()
			cl := tlsBroker(t, topic, c.cert, c.clientCA)
			addr := cl.Bootstrap()[0]
			if c.host != "" {
				_, port, _ := net.SplitHostPort(addr)
				addr = net.JoinHostPort(c.host, port)
			}
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{addr}, SecurityProtocol: kprod.SecuritySSL,
				SSL: c.ssl, MaxBlock: time.Minute, SocketConnectionSetupTimeout: 2 * time.Second},
				kprod.WithLogger(slog.New(slog.DiscardHandler))) // the refresher's warnings are expected
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = p.Send(context.Background(), &kprod.Record{Topic: topic, Value: []byte("x")}, nil)
			took := time.Since(start)
			closeWithin(t, p, context.Background(), 5*time.Second)
			checkNoLeak(t, before)
			if !errors.Is(err, kprod.ErrAuthentication) {
				t.Fatalf("Send: %v, want ErrAuthentication", err)
			}
			if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not name the broker %s and %q", err, addr, c.want)
			}
			if kprod.IsRetriable(err) || kprod.MaybeWritten(err) {
				t.Errorf("IsRetriable %v, MaybeWritten %v: want false, false", kprod.IsRetriable(err), kprod.MaybeWritten(err))
			}
			if took > 20*time.Second {
				t.Errorf("Send took %v with a 2s setup timeout: it waited for max.block.ms", took)
			}
		})
	}
}
