package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/testpki"
)

// tlsCluster is a kfake cluster whose listener speaks TLS with cert.
func tlsCluster(t *testing.T, cert tls.Certificate, server func(*tls.Config)) *kfake.Cluster {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if server != nil {
		server(cfg)
	}
	return newCluster(t, kfake.TLS(cfg))
}

// TestKfakeTLSDial: a TLS broker is dialed, ServerName taken per connection from
// the address dialed (so one config serves every broker, IBM/sarama#1701), the
// config given left untouched, and requests run over TLS.
func TestKfakeTLSDial(t *testing.T) {
	checkLeaks(t)
	ca := testpki.NewCA(t, "broker test CA")
	cl := tlsCluster(t, ca.Issue(t, testpki.Leaf{Names: []string{"localhost", "127.0.0.1"}}), nil)
	addr := cl.ListenAddrs()[0]
	_, port, _ := net.SplitHostPort(addr)
	cfg := &tls.Config{RootCAs: ca.Pool()}
	for _, a := range []string{addr, net.JoinHostPort("localhost", port)} {
		c := mustDial(t, a, Options{TLS: cfg})
		if _, ok := c.nc.(*tls.Conn); !ok {
			t.Fatalf("%s: connection is %T, not TLS", a, c.nc)
		}
		st := c.nc.(*tls.Conn).ConnectionState()
		host, _, _ := net.SplitHostPort(a)
		if want := host; net.ParseIP(host) == nil && st.ServerName != want {
			t.Errorf("%s: ServerName %q, want %q", a, st.ServerName, want)
		}
		if _, err := c.Do(context.Background(), kmsg.NewPtrMetadataRequest()); err != nil {
			t.Fatalf("%s: Metadata over TLS: %v", a, err)
		}
	}
	if cfg.ServerName != "" {
		t.Fatalf("Dial changed the caller's config: ServerName %q", cfg.ServerName)
	}
}

// TestKfakeTLSFailures: certificate problems fail Dial at once with
// ErrAuthentication (and ErrDial), naming the broker and what to check.
func TestKfakeTLSFailures(t *testing.T) {
	checkLeaks(t)
	ca, other := testpki.NewCA(t, "broker test CA"), testpki.NewCA(t, "broker test CA")
	requireClient := func(c *tls.Config) { c.ClientAuth = tls.RequireAndVerifyClientCert; c.ClientCAs = ca.Pool() }
	for _, c := range []struct {
		name   string
		cert   tls.Certificate
		server func(*tls.Config)
		client *tls.Config
		want   string
	}{
		{"untrusted CA", other.Issue(t, testpki.Leaf{Names: []string{"127.0.0.1"}}), nil, &tls.Config{RootCAs: ca.Pool()}, "ssl.truststore"},
		{"wrong host", ca.Issue(t, testpki.Leaf{Names: []string{"elsewhere.test"}}), nil, &tls.Config{RootCAs: ca.Pool()}, "not valid for this host"},
		{"no client certificate TLS 1.3", ca.Issue(t, testpki.Leaf{Names: []string{"127.0.0.1"}}), requireClient, &tls.Config{RootCAs: ca.Pool()}, "ssl.keystore"},
		{"no client certificate TLS 1.2", ca.Issue(t, testpki.Leaf{Names: []string{"127.0.0.1"}}), requireClient,
			&tls.Config{RootCAs: ca.Pool(), MaxVersion: tls.VersionTLS12}, "ssl.keystore"},
		{"untrusted client certificate", ca.Issue(t, testpki.Leaf{Names: []string{"127.0.0.1"}}), requireClient,
			&tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{other.Issue(t, testpki.Leaf{Client: true})}}, "ssl.keystore"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := tlsCluster(t, c.cert, c.server)
			addr := cl.ListenAddrs()[0]
			start := time.Now()
			_, err := Dial(context.Background(), addr, Options{TLS: c.client, ConnectionSetupTimeout: 5 * time.Second})
			if !errors.Is(err, ErrAuthentication) || !errors.Is(err, ErrDial) {
				t.Fatalf("error %v, want ErrAuthentication and ErrDial", err)
			}
			if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not name %s and %q", err, addr, c.want)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("took %v: the failure waited for the setup timeout", d)
			}
		})
	}
	// With the right client certificate the same broker accepts the connection.
	cl := tlsCluster(t, ca.Issue(t, testpki.Leaf{Names: []string{"127.0.0.1"}}), requireClient)
	mustDial(t, cl.ListenAddrs()[0], Options{TLS: &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{ca.Issue(t, testpki.Leaf{Client: true})}}})
}

// TestWrongProtocolForListener: TLS to a PLAINTEXT listener and PLAINTEXT to a
// TLS one are authentication errors, not retriable connection failures to wait
// out. The listeners behave as Kafka's do (checked on Kafka 4.4): a PLAINTEXT
// one reads the ClientHello's first bytes as a size beyond
// socket.request.max.bytes and closes the connection; an SSL one answers a Kafka
// request with a fatal TLS alert.
func TestWrongProtocolForListener(t *testing.T) {
	checkLeaks(t)
	for _, c := range []struct {
		name   string
		answer []byte // written after reading 4 bytes, then the connection closes
		tls    *tls.Config
		want   string
	}{
		{"PLAINTEXT to TLS", []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a}, nil, "security.protocol=SSL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan struct{})
			go func() {
				defer close(served)
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				defer nc.Close()
				buf := make([]byte, 4)
				if _, err := nc.Read(buf); err == nil && c.answer != nil {
					_, _ = nc.Write(c.answer)
				}
			}()
			_, err = Dial(context.Background(), ln.Addr().String(), Options{TLS: c.tls, ConnectionSetupTimeout: 5 * time.Second})
			ln.Close()
			<-served
			if !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want ErrAuthentication mentioning %q", err, c.want)
			}
		})
	}
}

// TestTLSHandshakeBounded: a peer that accepts the connection and never answers
// the ClientHello costs socket.connection.setup.timeout.ms, not forever
// (IBM/sarama#2656), and is a timeout, not an authentication failure.
func TestTLSHandshakeBounded(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			accepted <- nc
		}
	}()
	start := time.Now()
	_, err = Dial(context.Background(), ln.Addr().String(), Options{TLS: &tls.Config{}, ConnectionSetupTimeout: 200 * time.Millisecond})
	if nc := <-accepted; nc != nil {
		nc.Close()
	}
	if err == nil || errors.Is(err, ErrAuthentication) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a setup timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("handshake took %v with a 200ms setup timeout", d)
	}
}

// TestTLSToPlaintextListener: a Kafka PLAINTEXT listener closes a connection whose
// first bytes are a ClientHello. Dial then probes the address with a plaintext
// ApiVersions request: kfake answers it, so the error is ErrAuthentication naming the
// broker and the mismatch (no retry can fix it). A peer that closes every connection
// during the handshake and answers no plaintext either (a restarting broker, a load
// balancer without a backend) stays a retriable dial failure.
func TestTLSToPlaintextListener(t *testing.T) {
	checkLeaks(t)
	cl := newCluster(t)
	addr := cl.ListenAddrs()[0]
	var d net.Dialer
	asKafka := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &closesOnClientHello{Conn: nc}, nil
	}
	_, err := Dial(context.Background(), addr, Options{TLS: &tls.Config{}, ConnectionSetupTimeout: 5 * time.Second, Dialer: asKafka})
	if !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "not a TLS listener") {
		t.Fatalf("TLS to kfake's plaintext listener: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted sync.WaitGroup
	accepted.Add(1)
	go func() {
		defer accepted.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4)
			_, _ = nc.Read(buf)
			nc.Close()
		}
	}()
	_, err = Dial(context.Background(), ln.Addr().String(), Options{TLS: &tls.Config{}, ConnectionSetupTimeout: 5 * time.Second})
	ln.Close()
	accepted.Wait()
	if !errors.Is(err, ErrDial) || errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "TLS handshake") {
		t.Fatalf("a peer closing every connection: %v, want a retriable dial error", err)
	}
}

// closesOnClientHello makes kfake's listener act as Kafka's PLAINTEXT one, which closes
// a connection whose first bytes are a TLS record (kfake waits for the 0x16030x..
// bytes the "size" asks for).
type closesOnClientHello struct {
	net.Conn
	closed atomic.Bool
}

func (c *closesOnClientHello) Write(p []byte) (int, error) {
	if len(p) > 0 && p[0] == 0x16 {
		c.closed.Store(true)
		c.Conn.Close()
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *closesOnClientHello) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, io.EOF
	}
	return c.Conn.Read(p)
}
