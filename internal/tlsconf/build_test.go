package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/internal/testpki"
)

// handshake runs a TLS handshake between a client built from s, dialing host as
// the broker package does (a clone whose ServerName is the host), and a server
// presenting cert. It returns the client's error and the negotiated state.
func handshake(t *testing.T, s Settings, host string, cert tls.Certificate, server func(*tls.Config)) (tls.ConnectionState, error) {
	t.Helper()
	cfg, _, err := Build(s)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	cfg = cfg.Clone()
	cfg.ServerName = host
	cn, sn := net.Pipe()
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if server != nil {
		server(scfg)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv := tls.Server(sn, scfg)
		if srv.Handshake() == nil {
			// TLS 1.3 sends the client's verdict on the server after the handshake:
			// read so that the client's Handshake returns.
			_, _ = srv.Read(make([]byte, 1))
		}
		srv.Close()
	}()
	cl := tls.Client(cn, cfg)
	err = cl.Handshake()
	state := cl.ConnectionState()
	cl.Close()
	<-done
	return state, err
}

// TestEndpointIdentification: "https" (Java's default) checks the chain and the
// broker's host, by DNS name or, for a broker advertised by IP, by IP SAN; ""
// skips the host but still verifies the chain: an untrusted or expired
// certificate fails either way.
func TestEndpointIdentification(t *testing.T) {
	ca := testpki.NewCA(t, "endpoint CA")
	other := testpki.NewCA(t, "untrusted CA")
	good := ca.Issue(t, testpki.Leaf{CN: "broker", Names: []string{"broker.test", "localhost", "127.0.0.1", "::1"}})
	expired := ca.Issue(t, testpki.Leaf{CN: "broker", Names: []string{"broker.test", "127.0.0.1"}, Expired: true})
	untrusted := other.Issue(t, testpki.Leaf{CN: "broker", Names: []string{"broker.test", "127.0.0.1"}})
	cnOnly := ca.Issue(t, testpki.Leaf{CN: "broker.test"})
	clientOnly := ca.Issue(t, testpki.Leaf{CN: "client", Names: []string{"broker.test"}, Client: true})
	trust := Settings{TruststoreType: "PEM", TruststoreCertificates: ca.PEM()}

	for _, c := range []struct {
		name     string
		endpoint string
		host     string
		cert     tls.Certificate
		want     string // "" = success; else a substring of the error
	}{
		{"https dns", "https", "broker.test", good, ""},
		{"https ip", "https", "127.0.0.1", good, ""},
		{"https ipv6", "HTTPS", "::1", good, ""},
		{"https wrong host", "https", "other.test", good, "not other.test"},
		{"https wrong ip", "https", "127.0.0.2", good, "127.0.0.2"},
		{"https untrusted", "https", "broker.test", untrusted, "unknown authority"},
		{"https expired", "https", "broker.test", expired, "expired"},
		{"https cn only", "https", "broker.test", cnOnly, "Common Name"},
		{"https client certificate", "https", "broker.test", clientOnly, "incompatible key usage"},
		{"none wrong host", "", "other.test", good, ""},
		{"none wrong ip", "", "10.0.0.1", good, ""},
		{"none cn only", "", "broker.test", cnOnly, ""},
		{"none untrusted", "", "broker.test", untrusted, "unknown authority"},
		{"none expired", "", "broker.test", expired, "expired"},
		{"none client certificate", "", "broker.test", clientOnly, "incompatible key usage"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := trust
			s.EndpointIdentification = c.endpoint
			_, err := handshake(t, s, c.host, c.cert, nil)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("handshake failed: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("handshake error %v, want %q", err, c.want)
			}
			var ve *tls.CertificateVerificationError
			if c.want != "" && !errors.As(err, &ve) {
				t.Errorf("error %T is not a *tls.CertificateVerificationError", err)
			}
		})
	}
	if err := build(Settings{EndpointIdentification: "ldaps"}); err == nil || !strings.Contains(err.Error(), "ssl.endpoint.identification.algorithm") {
		t.Errorf("ldaps: %v", err)
	}
}

// TestClientCertificateSent: a keystore's certificate is presented to a broker
// that asks for one (mTLS), and verifies against the broker's trust.
func TestClientCertificateSent(t *testing.T) {
	ca := testpki.NewCA(t, "mtls CA")
	server := ca.Issue(t, testpki.Leaf{CN: "broker", Names: []string{"broker.test"}})
	client := ca.Issue(t, testpki.Leaf{CN: "alice", Client: true})
	s := Settings{EndpointIdentification: "https", TruststoreType: "PEM", TruststoreCertificates: ca.PEM(),
		KeystoreType: "PEM", KeystoreKey: testpki.KeyPEM(t, client.PrivateKey), KeystoreCertificateChain: testpki.CertPEM(client.Leaf.Raw)}
	var seen []*x509.Certificate
	_, err := handshake(t, s, "broker.test", server, func(c *tls.Config) {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = ca.Pool()
		c.VerifyConnection = func(cs tls.ConnectionState) error { seen = cs.PeerCertificates; return nil }
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[0].Subject.CommonName != "alice" {
		t.Fatalf("the broker saw %d client certificates", len(seen))
	}
}

// TestProtocols maps ssl.protocol and ssl.enabled.protocols onto Go's version
// range, as Java would negotiate, and refuses what cannot work.
func TestProtocols(t *testing.T) {
	for _, c := range []struct {
		protocol string
		enabled  []string
		min, max uint16
		want     string // error substring, or a note substring when the range is set
	}{
		{"", nil, tls.VersionTLS12, tls.VersionTLS13, ""},
		{"TLSv1.3", []string{"TLSv1.2", "TLSv1.3"}, tls.VersionTLS12, tls.VersionTLS13, ""},
		{"TLS", []string{"TLSv1.3"}, tls.VersionTLS13, tls.VersionTLS13, ""},
		{"tlsv1.2", nil, tls.VersionTLS12, tls.VersionTLS12, ""}, // Kafka: TLSv1.2 caps even when TLSv1.3 is enabled
		{"TLSv1.3", []string{"TLSv1.2"}, tls.VersionTLS12, tls.VersionTLS12, ""},
		{"", []string{""}, tls.VersionTLS12, tls.VersionTLS13, ""}, // empty list: defaults
		{"", []string{"TLSv1.2", "TLSv1.1", "TLSv1"}, tls.VersionTLS12, tls.VersionTLS12, "TLSv1.1, TLSv1 ignored"},
		{"TLSv1.2", []string{"TLSv1.3"}, 0, 0, "ssl.protocol"},
		{"TLSv1.1", nil, 0, 0, "TLSv1.1 and older are disabled"},
		{"TLSv2", nil, 0, 0, "must be TLSv1.3"},
		{"", []string{"TLSv1", "TLSv1.1"}, 0, 0, "lists only protocols Java disables"},
		{"", []string{"TLSv1.4"}, 0, 0, "unknown protocol TLSv1.4"},
	} {
		cfg, notes, err := Build(Settings{Protocol: c.protocol, EnabledProtocols: c.enabled, EndpointIdentification: "https"})
		name := c.protocol + "/" + strings.Join(c.enabled, ",")
		if c.min == 0 {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want %q", name, err, c.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if cfg.MinVersion != c.min || cfg.MaxVersion != c.max {
			t.Errorf("%s: versions %s-%s", name, tls.VersionName(cfg.MinVersion), tls.VersionName(cfg.MaxVersion))
		}
		if c.want != "" && !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, c.want) }) {
			t.Errorf("%s: notes %v, want %q", name, notes, c.want)
		}
	}
}

// TestCipherSuites maps ssl.cipher.suites: TLS 1.2 suites by IANA (or Java's SSL_)
// name, TLS 1.3 all or none (Go cannot restrict them), the rest ignored or refused.
func TestCipherSuites(t *testing.T) {
	const (
		ecdheGCM = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
		ecdsaGCM = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
		dhe      = "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"
	)
	all13 := []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
	for _, c := range []struct {
		name     string
		suites   []string
		enabled  []string
		ids      []uint16
		min, max uint16
		want     string
	}{
		{"default", nil, nil, nil, tls.VersionTLS12, tls.VersionTLS13, ""},
		{"tls12 only list disables tls13", []string{ecdheGCM, ecdsaGCM}, nil,
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, tls.VersionTLS12, tls.VersionTLS12, ""},
		{"both", append([]string{ecdheGCM}, all13...), nil, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, tls.VersionTLS12, tls.VersionTLS13, ""},
		{"tls13 only", all13, nil, nil, tls.VersionTLS13, tls.VersionTLS13, ""},
		{"java SSL_ name", []string{"SSL_RSA_WITH_AES_128_CBC_SHA"}, nil, []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}, tls.VersionTLS12, tls.VersionTLS12, ""},
		{"unimplemented ignored", []string{dhe, ecdheGCM, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"}, nil,
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, tls.VersionTLS12, tls.VersionTLS12, dhe + " ignored"},
		{"3des ignored as in java", []string{"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", ecdheGCM}, nil,
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, tls.VersionTLS12, tls.VersionTLS12, "3DES"},
		{"some tls13 refused", []string{ecdheGCM, "TLS_AES_256_GCM_SHA384"}, nil, nil, 0, 0, "cannot restrict them"},
		{"some tls13 fine when tls13 is off", []string{ecdheGCM, "TLS_AES_256_GCM_SHA384"}, []string{"TLSv1.2"},
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, tls.VersionTLS12, tls.VersionTLS12, ""},
		{"nothing usable", []string{dhe}, nil, nil, 0, 0, "lists no suite Go's crypto/tls can negotiate"},
		{"unknown", []string{"AES256-SHA"}, nil, nil, 0, 0, "unknown cipher suite AES256-SHA"},
		{"tls12 list with tls13 only", []string{ecdheGCM}, []string{"TLSv1.3"}, nil, 0, 0, "lists no suite for the protocols"},
		{"tls13 list with tls12 only", all13, []string{"TLSv1.2"}, nil, 0, 0, "lists no suite for the protocols"},
	} {
		cfg, notes, err := Build(Settings{CipherSuites: c.suites, EnabledProtocols: c.enabled, EndpointIdentification: "https"})
		if c.min == 0 {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want %q", c.name, err, c.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(cfg.CipherSuites, c.ids) || cfg.MinVersion != c.min || cfg.MaxVersion != c.max {
			t.Errorf("%s: suites %v, versions %s-%s", c.name, cfg.CipherSuites, tls.VersionName(cfg.MinVersion), tls.VersionName(cfg.MaxVersion))
		}
		if c.want != "" && !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, c.want) }) {
			t.Errorf("%s: notes %v, want %q", c.name, notes, c.want)
		}
	}
}

// TestNegotiatedAsConfigured: a TLS 1.2-only suite list really negotiates TLS 1.2
// with that suite against a server offering everything.
func TestNegotiatedAsConfigured(t *testing.T) {
	ca := testpki.NewCA(t, "suites CA")
	server := ca.Issue(t, testpki.Leaf{CN: "broker", Names: []string{"broker.test"}})
	s := Settings{EndpointIdentification: "https", TruststoreType: "PEM", TruststoreCertificates: ca.PEM(),
		CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"}}
	st, err := handshake(t, s, "broker.test", server, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != tls.VersionTLS12 || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 {
		t.Fatalf("negotiated %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	}
	s.CipherSuites = nil
	if st, err = handshake(t, s, "broker.test", server, nil); err != nil || st.Version != tls.VersionTLS13 {
		t.Fatalf("default: %v, %s", err, tls.VersionName(st.Version))
	}
}

// TestUnsupported: Java-only properties pass at Java's default (or an equivalent)
// and are refused otherwise with a reason.
func TestUnsupported(t *testing.T) {
	for _, c := range []struct {
		prop, value string
		ok          bool
	}{
		{"ssl.provider", "", true},
		{"ssl.provider", "SunJSSE", false},
		{"ssl.keymanager.algorithm", "SunX509", true},
		{"ssl.keymanager.algorithm", "PKIX", true},
		{"ssl.keymanager.algorithm", "IbmX509", false},
		{"ssl.trustmanager.algorithm", "PKIX", true},
		{"ssl.trustmanager.algorithm", "SunX509", false},
		{"ssl.secure.random.implementation", "", true},
		{"ssl.secure.random.implementation", "SHA1PRNG", false},
		{"ssl.engine.factory.class", "", true},
		{"ssl.engine.factory.class", "com.example.Factory", false},
	} {
		if got := Unsupported(c.prop, c.value); (got == "") != c.ok {
			t.Errorf("%s=%s: %q", c.prop, c.value, got)
		}
	}
}

// TestSettingsHideSecrets: printing settings (or a struct holding them) shows no
// password or key.
func TestSettingsHideSecrets(t *testing.T) {
	s := Settings{TruststorePassword: "tp-secret", KeystorePassword: "kp-secret", KeystoreKey: "key-secret-pem",
		KeyPassword: "k-secret", TruststoreLocation: "/ts.jks"}
	holder := struct{ SSL Settings }{s}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", holder), fmt.Sprintf("%#v", holder), fmt.Sprintf("%v", &holder)} {
		if strings.Contains(out, "secret") || !strings.Contains(out, "/ts.jks") || !strings.Contains(out, hidden) {
			t.Errorf("printed %s", out)
		}
	}
	if s.KeyPassword != "k-secret" {
		t.Fatal("String changed the settings")
	}
}
