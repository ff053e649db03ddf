package testcluster_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/kprod-io/kprod/internal/testcluster"
)

// TestRealSecureTopicAuthorization: alice authenticated with SCRAM-SHA-512 over SASL_SSL
// (franz-go) gets TOPIC_AUTHORIZATION_FAILED on a topic she has no ACL for, succeeds once
// Grant returns, and is denied again once Revoke returns: ACLs are enforced, and the
// helpers wait until the broker applies them.
func TestRealSecureTopicAuthorization(t *testing.T) {
	s := testcluster.Secure(t)
	topic := newTopic(t, s, "secacl-kgo")
	alice := s.Users["alice"]
	produce := func() error {
		// Idempotence off: InitProducerId needs an ACL of its own, and this test is
		// about the topic.
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.Listeners["SASL_SSL"]...), kgo.DialTLSConfig(s.TLSConfig(t, "")),
			kgo.SASL(scram.Auth{User: alice.Name, Pass: alice.Password}.AsSha512Mechanism()),
			kgo.DisableIdempotentWrite(), kgo.RecordDeliveryTimeout(30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(topic)}).FirstErr()
	}
	if err := produce(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("without ACLs: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	acl := testcluster.ProducerACL("User:alice", topic, false)
	s.Grant(t, acl)
	if err := produce(); err != nil {
		t.Fatalf("with the producer ACL: %v", err)
	}
	s.Revoke(t, acl)
	if err := produce(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("after Revoke: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	if recs := consumeAll(t, s.Cluster, topic, 1, 30*time.Second); string(recs[0].Value) != topic {
		t.Fatalf("read %q, want %q", recs[0].Value, topic)
	}
}

// TestRealSecureGrantCounted: an ACL only a subtest granted is gone when the subtest ends
// (t.Cleanup revokes it); one the test granted too stays (the subtest releases only its
// own grant), and is gone once the test that still held it revokes it.
func TestRealSecureGrantCounted(t *testing.T) {
	s := testcluster.Secure(t)
	topic := newTopic(t, s, "secacl-count")
	alice := s.Users["alice"]
	produce := func() error {
		return produceAs(t, s, alice, topic)
	}
	own := newTopic(t, s, "secacl-count-own")
	t.Run("only-granted-here", func(t *testing.T) {
		s.Grant(t, testcluster.ProducerACL("User:alice", own, false))
		if err := produceAs(t, s, alice, own); err != nil {
			t.Fatalf("with the grant: %v", err)
		}
	})
	if err := produceAs(t, s, alice, own); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("after the subtest that alone granted it ended: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	acl := testcluster.ProducerACL("User:alice", topic, false)
	s.Grant(t, acl)
	t.Run("also-granted", func(t *testing.T) { s.Grant(t, acl) })
	if err := produce(); err != nil {
		t.Fatalf("after the subtest released its grant: %v; want the test's grant to hold", err)
	}
	s.Revoke(t, acl)
	if err := produce(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("after the last grant was revoked: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
}

// produceAs writes one record to topic as user (SCRAM-SHA-512 over SASL_SSL, idempotence
// off: InitProducerId needs an ACL of its own).
func produceAs(t *testing.T, s *testcluster.SecureCluster, user testcluster.User, topic string) error {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Listeners["SASL_SSL"]...), kgo.DialTLSConfig(s.TLSConfig(t, "")),
		kgo.SASL(scram.Auth{User: user.Name, Pass: user.Password}.AsSha512Mechanism()),
		kgo.DisableIdempotentWrite(), kgo.RecordDeliveryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(topic)}).FirstErr()
}

// TestRealSecureSessionLifetime authenticates with SASL PLAIN by hand and reads the session
// lifetime the broker grants (KIP-368, SaslAuthenticate v1+): --reauth-ms on
// SASL_PLAINTEXT, none (0) on SASL_SSL. Re-authentication tests depend on it.
func TestRealSecureSessionLifetime(t *testing.T) {
	s := testcluster.Secure(t)
	carol := s.Users["carol"]
	for _, l := range []struct {
		listener string
		tls      bool
		want     int64
	}{{"SASL_PLAINTEXT", false, int64(s.ReauthMs)}, {"SASL_SSL", true, 0}} {
		t.Run(l.listener, func(t *testing.T) {
			conn := dial(t, s.Listeners[l.listener][0], l.tls, s.TLSConfig(t, ""))
			handshakeSASL(t, conn, "PLAIN")
			r := authenticate(t, conn, []byte("\x00"+carol.Name+"\x00"+carol.Password))
			if r.ErrorCode != 0 {
				t.Fatalf("SaslAuthenticate: error %d %v", r.ErrorCode, r.ErrorMessage)
			}
			if r.SessionLifetimeMillis != l.want {
				t.Fatalf("session lifetime %d ms, want %d", r.SessionLifetimeMillis, l.want)
			}
		})
	}
}

// TestRealSecureOAuthBearer authenticates with OAUTHBEARER by hand (RFC 7628 client first
// message): an unsigned token is accepted on SASL_SSL (unsecured validator), refused on
// OAUTH, where only tokens signed by the PKI's key, for the right audience and not expired
// pass. This proves the JWK Set scripts/kafka-pki wrote and SignedJWT agree.
func TestRealSecureOAuthBearer(t *testing.T) {
	s := testcluster.Secure(t)
	now := time.Now()
	signed := func(aud string, issued time.Time, lifetime time.Duration) string {
		tok, err := testcluster.SignJWT(s.OAuthSigner(t), s.OAuthKeyID, map[string]any{"sub": "alice",
			"aud": aud, "iss": s.OAuthIssuer, "iat": issued.Unix(), "exp": issued.Add(lifetime).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, c := range []struct {
		name, listener, token string
		ok                    bool
	}{
		{"unsecured-on-sasl_ssl", "SASL_SSL", testcluster.UnsecuredJWT("alice", now, time.Hour), true},
		{"expired-unsecured-on-sasl_ssl", "SASL_SSL", testcluster.UnsecuredJWT("alice", now.Add(-2*time.Hour), time.Hour), false},
		{"signed-on-oauth", "OAUTH", s.SignedJWT(t, "alice", now, time.Hour), true},
		{"unsecured-on-oauth", "OAUTH", testcluster.UnsecuredJWT("alice", now, time.Hour), false},
		{"expired-on-oauth", "OAUTH", signed(s.OAuthAudience, now.Add(-2*time.Hour), time.Hour), false},
		{"wrong-audience-on-oauth", "OAUTH", signed("someone-else", now, time.Hour), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dial(t, s.Listeners[c.listener][0], true, s.TLSConfig(t, ""))
			handshakeSASL(t, conn, "OAUTHBEARER")
			r := authenticate(t, conn, []byte("n,,\x01auth=Bearer "+c.token+"\x01\x01"))
			if r.ErrorCode == 0 && len(r.SASLAuthBytes) > 0 {
				// RFC 7628 3.2.2: a failure is a JSON challenge the client answers with
				// %x01; the broker then fails the exchange.
				t.Logf("challenge: %s", r.SASLAuthBytes)
				r = authenticate(t, conn, []byte{1})
			}
			if ok := r.ErrorCode == 0; ok != c.ok {
				t.Fatalf("authenticated = %v, want %v (error %d %v)", ok, c.ok, r.ErrorCode, r.ErrorMessage)
			}
		})
	}
}

func handshakeSASL(t *testing.T, conn net.Conn, mechanism string) {
	t.Helper()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, mechanism
	if r := roundTrip(t, conn, hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != 0 {
		t.Fatalf("SaslHandshake %s: error %d, mechanisms %v", mechanism, r.ErrorCode, r.SupportedMechanisms)
	}
}

func authenticate(t *testing.T, conn net.Conn, msg []byte) *kmsg.SASLAuthenticateResponse {
	t.Helper()
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.Version, auth.SASLAuthBytes = 1, msg
	return roundTrip(t, conn, auth).(*kmsg.SASLAuthenticateResponse)
}

// TestRealSecurePKIWithGo checks the test PKI from Go's side (crypto/tls, crypto/x509),
// what kprod's TLS code will see: the brokers' certificate verifies for 127.0.0.1 and
// localhost, WRONGHOST's only for its own name, nothing verifies against the untrusted CA,
// MTLS takes alice's certificate and refuses none (TLS 1.3: at the first read), and the key
// files are in the formats their names say.
func TestRealSecurePKIWithGo(t *testing.T) {
	s := testcluster.Secure(t)
	ssl, wrong, mtls := s.Listeners["SSL"][0], s.Listeners["WRONGHOST"][0], s.Listeners["MTLS"][0]

	for _, name := range []string{"", "localhost"} { // "" = the IP SAN
		cfg := s.TLSConfig(t, "")
		cfg.ServerName = name
		apiVersions(t, dial(t, ssl, true, cfg))
	}
	var hostErr x509.HostnameError
	if err := handshake(wrong, s.TLSConfig(t, "")); !errors.As(err, &hostErr) {
		t.Errorf("WRONGHOST as 127.0.0.1: %v, want a HostnameError", err)
	}
	cfg := s.TLSConfig(t, "")
	cfg.ServerName = s.WrongHost
	if err := handshake(wrong, cfg); err != nil {
		t.Errorf("WRONGHOST as %s: %v", s.WrongHost, err)
	}
	untrusted := s.TLSConfig(t, "")
	untrusted.RootCAs = x509.NewCertPool()
	untrusted.RootCAs.AppendCertsFromPEM(read(t, s.PKI("untrusted-ca.pem")))
	var authErr x509.UnknownAuthorityError
	if err := handshake(ssl, untrusted); !errors.As(err, &authErr) {
		t.Errorf("SSL with the untrusted CA: %v, want an UnknownAuthorityError", err)
	}
	apiVersions(t, dial(t, mtls, true, s.TLSConfig(t, "alice")))
	// Without a certificate the TLS 1.3 handshake completes on the client's side; the
	// broker's refusal (a fatal alert) arrives at the first read.
	conn := dial(t, mtls, true, s.TLSConfig(t, ""))
	if err := writeRequest(conn, 1, kmsg.NewPtrApiVersionsRequest()); err == nil {
		_, err = io.ReadFull(conn, make([]byte, 4))
		if err == nil || !strings.Contains(err.Error(), "remote error: tls: ") {
			t.Errorf("MTLS without a certificate: first read %v, want a TLS alert", err)
		}
		t.Logf("MTLS without a certificate, first read: %v", err)
	}

	for _, u := range []string{"alice", "noacl", "alice-ec", "untrusted-alice"} {
		if _, err := tls.LoadX509KeyPair(s.PKI(u+".pem"), s.PKI(u+".key")); err != nil {
			t.Errorf("%s: %v", u, err)
		}
		if _, err := tls.X509KeyPair(read(t, s.PKI(u+".keystore.pem")), read(t, s.PKI(u+".keystore.pem"))); err != nil {
			t.Errorf("%s.keystore.pem: %v", u, err)
		}
	}
	leaf := parseCert(t, s.PKI("alice.pem"))
	if got := leaf.Subject.String(); got != "CN=alice,O=kprod" {
		t.Errorf("alice's subject %q, want CN=alice,O=kprod (the principal mapping rule needs it)", got)
	}
	if _, ok := parseKey(t, s.PKI("alice.key"), "PRIVATE KEY").(*rsa.PrivateKey); !ok {
		t.Errorf("alice.key is not an RSA PKCS#8 key")
	}
	if _, ok := parseKey(t, s.PKI("alice-ec.key"), "PRIVATE KEY").(*ecdsa.PrivateKey); !ok {
		t.Errorf("alice-ec.key is not an EC PKCS#8 key")
	}
	if b := pemBlock(t, s.PKI("alice.pkcs1.key")); b.Type != "RSA PRIVATE KEY" {
		t.Errorf("alice.pkcs1.key is a %q block", b.Type)
	}
	// EncryptedPrivateKeyInfo algorithms: pbeWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 PBE,
	// "PBES1" here as in Kafka's docs) and PBES2 (RFC 8018).
	for file, oid := range map[string]asn1.ObjectIdentifier{
		"alice.pbes1.key": {1, 2, 840, 113549, 1, 12, 1, 3},
		"alice.pbes2.key": {1, 2, 840, 113549, 1, 5, 13},
	} {
		var epki struct {
			Algo struct {
				OID    asn1.ObjectIdentifier
				Params asn1.RawValue
			}
			Data []byte
		}
		b := pemBlock(t, s.PKI(file))
		if _, err := asn1.Unmarshal(b.Bytes, &epki); err != nil || b.Type != "ENCRYPTED PRIVATE KEY" || !epki.Algo.OID.Equal(oid) {
			t.Errorf("%s: %q block, algorithm %v (%v), want %v", file, b.Type, epki.Algo.OID, err, oid)
		}
	}
	if jks := read(t, s.PKI("alice.jks")); len(jks) < 4 || binary.BigEndian.Uint32(jks) != 0xFEEDFEED {
		t.Errorf("alice.jks is not a JKS keystore")
	}
}

// TestRealSecureUpAgain: `up --security` on the running secure cluster changes nothing; `up`
// without it is refused rather than turning the cluster into another.
func TestRealSecureUpAgain(t *testing.T) {
	s := testcluster.Secure(t)
	args := []string{"up", "--nodes", fmt.Sprint(s.Nodes), "--version", s.Version, "--security",
		"--reauth-ms", fmt.Sprint(s.ReauthMs)}
	before, err := os.ReadFile(s.EnvFile)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Script(args...)
	if err != nil {
		t.Fatal(err)
	}
	if got := lastLine(out); got != "BOOTSTRAP="+s.BootstrapServers() {
		t.Fatalf("last line %q, want BOOTSTRAP=%s", got, s.BootstrapServers())
	}
	after, _ := os.ReadFile(s.EnvFile)
	if string(before) != string(after) {
		t.Fatalf("security.env changed")
	}
	out, err = s.Script("up", "--nodes", fmt.Sprint(s.Nodes), "--version", s.Version)
	if err == nil || !strings.Contains(out, "is running") {
		t.Fatalf("up without --security on the secure cluster: %v\n%s", err, out)
	}
}

func dial(t *testing.T, addr string, useTLS bool, cfg *tls.Config) net.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	var err error
	if useTLS {
		conn, err = tls.DialWithDialer(d, "tcp", addr, cfg)
	} else {
		conn, err = d.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return conn
}

func handshake(addr string, cfg *tls.Config) error {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err == nil {
		conn.Close()
	}
	return err
}

func apiVersions(t *testing.T, conn net.Conn) {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	if r := roundTrip(t, conn, req).(*kmsg.ApiVersionsResponse); r.ErrorCode != 0 || len(r.ApiKeys) == 0 {
		t.Fatalf("ApiVersions: error %d, %d keys", r.ErrorCode, len(r.ApiKeys))
	}
}

// writeRequest frames req (version 0..non-flexible: request header v1, null client id).
func writeRequest(conn net.Conn, corr int32, req kmsg.Request) error {
	msg := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
	msg = binary.BigEndian.AppendUint16(msg, uint16(req.GetVersion()))
	msg = binary.BigEndian.AppendUint32(msg, uint32(corr))
	msg = binary.BigEndian.AppendUint16(msg, 0xffff)
	msg = req.AppendTo(msg)
	_, err := conn.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...))
	return err
}

var corrID atomic.Int32

// roundTrip sends a non-flexible request and decodes its response (response header v0).
func roundTrip(t *testing.T, conn net.Conn, req kmsg.Request) kmsg.Response {
	t.Helper()
	if req.IsFlexible() {
		t.Fatalf("roundTrip handles non-flexible versions only; %T v%d is flexible", req, req.GetVersion())
	}
	corr := corrID.Add(1)
	if err := writeRequest(conn, corr, req); err != nil {
		t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		t.Fatalf("%T: %v", req, err)
	}
	buf := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatalf("%T: %v", req, err)
	}
	if got := int32(binary.BigEndian.Uint32(buf)); got != corr {
		t.Fatalf("correlation id %d, want %d", got, corr)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if err := resp.ReadFrom(buf[4:]); err != nil {
		t.Fatalf("%T: %v", resp, err)
	}
	return resp
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pemBlock(t *testing.T, path string) *pem.Block {
	t.Helper()
	b, _ := pem.Decode(read(t, path))
	if b == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	return b
}

func parseCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(pemBlock(t, path).Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func parseKey(t *testing.T, path, blockType string) any {
	t.Helper()
	b := pemBlock(t, path)
	if b.Type != blockType {
		t.Fatalf("%s: %q block, want %q", path, b.Type, blockType)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}
