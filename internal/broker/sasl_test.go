package broker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/sasl"
)

// saslCluster is a kfake cluster with SASL on and a user per mechanism kfake knows.
func saslCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	return newCluster(t, append([]kfake.Opt{kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "admin", "admin-secret"),
		kfake.User("SCRAM-SHA-256", "bob", "bob-secret"),
		kfake.User("SCRAM-SHA-512", "alice", "alice-secret")}, opts...)...)
}

// TestKfakeSASL authenticates with each mechanism kfake serves; SCRAM verifies the
// broker's signature on the way.
func TestKfakeSASL(t *testing.T) {
	checkLeaks(t)
	cl := saslCluster(t)
	for _, m := range []sasl.Mechanism{sasl.Plain("admin", "admin-secret"),
		sasl.ScramSHA256("bob", "bob-secret"), sasl.ScramSHA512("alice", "alice-secret")} {
		t.Run(m.Name(), func(t *testing.T) {
			c := mustDial(t, cl.ListenAddrs()[0], Options{SASL: m})
			if _, err := c.Do(context.Background(), kmsg.NewPtrMetadataRequest()); err != nil {
				t.Fatalf("metadata after authenticating: %v", err)
			}
		})
	}
	// Without SASL the broker answers nothing but ApiVersions and SaslHandshake.
	c := mustDial(t, cl.ListenAddrs()[0], Options{})
	if _, err := c.Do(context.Background(), kmsg.NewPtrMetadataRequest()); err == nil {
		t.Fatal("metadata without authenticating succeeded")
	}
}

// TestKfakeSASLRefused: the broker's SASL_AUTHENTICATION_FAILED and its message become
// an authentication error matching ErrAuthentication and ErrDial, naming broker and mechanism,
// without the password; a mechanism the broker lacks lists the ones it has.
func TestKfakeSASLRefused(t *testing.T) {
	checkLeaks(t)
	cl := saslCluster(t)
	cl.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		resp := req.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = kmsg.StringPtr("Authentication failed: Invalid username or password")
		return resp, nil, true
	})
	addr := cl.ListenAddrs()[0]
	_, err := Dial(context.Background(), addr, Options{SASL: sasl.Plain("admin", "wrong-secret")})
	if !errors.Is(err, ErrAuthentication) || !errors.Is(err, ErrDial) {
		t.Fatalf("err %v", err)
	}
	msg := err.Error()
	for _, want := range []string{addr, "PLAIN", "SASL_AUTHENTICATION_FAILED", "Invalid username or password"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "wrong-secret") || strings.Contains(msg, "re-authentication") {
		t.Errorf("error %q", msg)
	}

	_, err = Dial(context.Background(), addr, Options{SASL: sasl.OAuthBearer(sasl.StaticToken(sasl.Token{Value: "t"}))})
	if !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "does not enable mechanism OAUTHBEARER") ||
		!strings.Contains(err.Error(), "SCRAM-SHA-512") {
		t.Fatalf("unsupported mechanism: %v", err)
	}
}

// TestKfakeSASLMechanismFails: a mechanism's own failure (a token source down, a broker
// whose SCRAM signature is wrong) is an authentication failure too.
func TestKfakeSASLMechanismFails(t *testing.T) {
	checkLeaks(t)
	cl := saslCluster(t)
	boom := errors.New("token endpoint down")
	failing := sasl.OAuthBearer(sasl.TokenSourceFunc(func(context.Context) (sasl.Token, error) { return sasl.Token{}, boom }))
	cl.ControlKey(int16(kmsg.SASLHandshake), func(req kmsg.Request) (kmsg.Response, error, bool) {
		return req.ResponseKind(), nil, true // accept any mechanism, once
	})
	_, err := Dial(context.Background(), cl.ListenAddrs()[0], Options{SASL: failing})
	if !errors.Is(err, ErrAuthentication) || !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}

// TestReauthPlan: 85-95% of the lifetime after the authentication ended, never past
// the session's end counted from its start, never within a second of the start.
func TestReauthPlan(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	ms := time.Millisecond
	cases := []struct {
		name           string
		took, lifetime time.Duration
		u              float64
		due, expires   time.Duration // after t0
	}{
		{"85%", 10 * ms, 10 * time.Second, 0, 10*ms + 8500*ms, 10 * time.Second},
		{"95%", 10 * ms, 10 * time.Second, 1, 10*ms + 9500*ms, 10 * time.Second},
		{"one hour", 0, time.Hour, 0.5, 54 * time.Minute, time.Hour},
		{"slow exchange: the session's end", 2 * time.Second, 10 * time.Second, 1, 10 * time.Second, 10 * time.Second},
		{"short lifetime: one per second", 5 * ms, 200 * ms, 0.5, time.Second, 200 * ms},
		{"tiny lifetime", 0, ms, 0, time.Second, ms},
	}
	for _, c := range cases {
		due, expires := reauthPlan(t0, t0.Add(c.took), c.lifetime, c.u)
		if due.Sub(t0) != c.due || expires.Sub(t0) != c.expires {
			t.Errorf("%s: due %v expires %v, want %v %v", c.name, due.Sub(t0), expires.Sub(t0), c.due, c.expires)
		}
	}
}

// saslTrace records the request keys a kfake cluster sees, in order.
type saslTrace struct {
	mu   sync.Mutex
	keys []int16
}

func traceKeys(cl *kfake.Cluster) *saslTrace {
	tr := &saslTrace{}
	cl.Control(func(req kmsg.Request) (kmsg.Response, error, bool) {
		tr.mu.Lock()
		tr.keys = append(tr.keys, req.Key())
		tr.mu.Unlock()
		return nil, nil, false
	})
	return tr
}

// exchanges counts the SaslHandshake requests and checks that each is followed by
// SaslAuthenticate requests only, up to the end of the exchange (librdkafka#4301).
func (tr *saslTrace) exchanges(t *testing.T, authsPerExchange int) int {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for i, k := range tr.keys {
		if k != int16(kmsg.SASLHandshake) {
			continue
		}
		n++
		for j := i + 1; j <= i+authsPerExchange; j++ {
			if j >= len(tr.keys) || tr.keys[j] != int16(kmsg.SASLAuthenticate) {
				t.Fatalf("handshake at %d not followed by %d SaslAuthenticate: %v", i, authsPerExchange, tr.keys[i:min(len(tr.keys), i+5)])
			}
		}
	}
	return n
}

// lastMessageMech answers the broker's first challenge with a last message (done with
// a response), which the broker's answer must end.
type lastMessageMech struct{ challenges [][]byte }

func (*lastMessageMech) Name() string { return "TEST" }

func (m *lastMessageMech) Authenticate(context.Context, string) (sasl.Session, []byte, error) {
	return m, []byte("first"), nil
}

func (m *lastMessageMech) Challenge(_ context.Context, msg []byte) (bool, []byte, error) {
	m.challenges = append(m.challenges, msg)
	return true, []byte("last"), nil
}

// TestSASLLastMessage: a response given with done is sent, its answer ends the exchange
// (its session lifetime counts), and Challenge is not called again.
func TestSASLLastMessage(t *testing.T) {
	checkLeaks(t)
	var got []string
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		fc := &fakeConn{t: t, nc: server, br: bufio.NewReader(server)}
		req, err := fc.read() // ApiVersions
		if err != nil {
			return
		}
		av := kmsg.ApiVersionsResponse{Version: req.version}
		for _, k := range []struct{ key, min, max int16 }{{18, 0, 3}, {17, 1, 1}, {36, 0, 2}} {
			av.ApiKeys = append(av.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k.key, MinVersion: k.min, MaxVersion: k.max})
		}
		fc.respond(req.corr, false, av.AppendTo(nil))
		if req, err = fc.read(); err != nil || req.key != 17 {
			return
		}
		hs := kmsg.SASLHandshakeResponse{Version: req.version}
		fc.respond(req.corr, false, hs.AppendTo(nil))
		for i, challenge := range []string{"challenge", ""} {
			if req, err = fc.read(); err != nil || req.key != 36 {
				return
			}
			auth := kmsg.SASLAuthenticateRequest{Version: req.version}
			auth.ReadFrom(req.body)
			got = append(got, string(auth.SASLAuthBytes))
			resp := kmsg.SASLAuthenticateResponse{Version: req.version, SASLAuthBytes: []byte(challenge)}
			if i == 1 {
				resp.SessionLifetimeMillis = 60_000
			}
			fc.respond(req.corr, responseHeaderFlexible(req.key, req.version), resp.AppendTo(nil))
		}
		io.Copy(io.Discard, server)
	}()
	mech := &lastMessageMech{}
	c, err := Dial(context.Background(), "fake:1", Options{SASL: mech,
		Dialer: func(context.Context, string, string) (net.Conn, error) { return client, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if fmt.Sprint(got) != "[first last]" || len(mech.challenges) != 1 || string(mech.challenges[0]) != "challenge" {
		t.Errorf("broker got %q, mechanism got %q", got, mech.challenges)
	}
	if c.reauth.due.Load() == 0 {
		t.Error("the last answer's session lifetime was not scheduled")
	}
}

// TestSASLNeedsHandshakeV1: a broker without SaslHandshake v1 (KIP-152) is refused with
// an authentication error, not a hang.
func TestSASLNeedsHandshakeV1(t *testing.T) {
	checkLeaks(t)
	fb := newFakeBroker(t, func(fc *fakeConn) { fc.answerAll(nil) })
	_, err := Dial(context.Background(), fb.addr(), Options{SASL: sasl.Plain("u", "p")})
	if !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "SaslHandshake v1") {
		t.Fatalf("err %v", err)
	}
}
