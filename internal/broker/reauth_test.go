package broker

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/sasl"
)

// producer pipelines Produce requests of one record each on a connection and checks
// that every one completes, in order, with consecutive offsets.
type producer struct {
	t       *testing.T
	c       *Conn
	version int16

	mu      sync.Mutex
	offsets []int64
	errs    []error
	pending sync.WaitGroup
}

func newProducer(t *testing.T, c *Conn) *producer {
	return &producer{t: t, c: c, version: produceVersion(t, c)}
}

// send queues one request; it blocks while max.in.flight requests are outstanding.
func (p *producer) send() error {
	p.pending.Add(1)
	err := p.c.Produce(context.Background(), produceFrame(p.version, -1, "t", recordBatch("v")), true, func(body []byte, err error) {
		defer p.pending.Done()
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil {
			p.errs = append(p.errs, err)
			return
		}
		resp := kmsg.ProduceResponse{Version: p.version}
		if err := resp.ReadFrom(body); err != nil {
			p.errs = append(p.errs, err)
		} else if pr := resp.Topics[0].Partitions[0]; pr.ErrorCode != 0 {
			p.errs = append(p.errs, kerr.ErrorForCode(pr.ErrorCode))
		} else {
			p.offsets = append(p.offsets, pr.BaseOffset)
		}
	})
	if err != nil {
		p.pending.Done()
	}
	return err
}

// until sends until cond holds (checked between requests), failing after a minute.
func (p *producer) until(cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatal("condition not reached within a minute")
		}
		if err := p.send(); err != nil {
			p.t.Fatalf("produce: %v", err)
		}
	}
}

// check waits for every response and requires offsets 0..n-1 in order, no errors.
func (p *producer) check() int {
	p.t.Helper()
	p.pending.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errs) > 0 {
		p.t.Fatalf("%d requests failed, first: %v", len(p.errs), p.errs[0])
	}
	for i, o := range p.offsets {
		if o != int64(i) {
			p.t.Fatalf("offset %d at position %d: lost, duplicated or reordered", o, i)
		}
	}
	return len(p.offsets)
}

// TestKfakeReauthUnderLoad: with sessions of 1.2s, a connection kept busy with
// pipelined Produce requests re-authenticates before each session ends; no request
// fails, none is lost or reordered, and nothing else is written between a handshake
// and its SaslAuthenticate requests (kfake closes the connection otherwise).
func TestKfakeReauthUnderLoad(t *testing.T) {
	checkLeaks(t)
	cl := saslCluster(t, kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "1200"}))
	tr := traceKeys(cl)
	c := mustDial(t, cl.ListenAddrs()[0], Options{SASL: sasl.ScramSHA512("alice", "alice-secret"), MaxInFlight: 5})
	p := newProducer(t, c)
	start := time.Now()
	p.until(func() bool { return c.Reauthentications() >= 3 })
	elapsed := time.Since(start)
	n := p.check()
	if err := c.Err(); err != nil {
		t.Fatalf("connection closed: %v", err)
	}
	reauths := c.Reauthentications()
	if got := tr.exchanges(t, 2); got != int(reauths)+1 {
		t.Errorf("%d SASL exchanges for %d re-authentications", got, reauths)
	}
	// 3 re-authentications take at least 3 * 85% of 1.2s.
	if elapsed < 3*1020*time.Millisecond {
		t.Errorf("3 re-authentications in %v: too early", elapsed)
	}
	t.Logf("%d requests, %d re-authentications in %v", n, reauths, elapsed)
}

// TestKfakeReauthShortLifetime: a 100ms session does not make the connection
// re-authenticate every 90ms: at most once a second (franz-go#249), requests waiting
// meanwhile rather than reaching the broker on an expired session.
func TestKfakeReauthShortLifetime(t *testing.T) {
	checkLeaks(t)
	cl := saslCluster(t, kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "100"}))
	tr := traceKeys(cl)
	expired := enforceExpiry(cl, 100*time.Millisecond)
	c := mustDial(t, cl.ListenAddrs()[0], Options{SASL: sasl.Plain("admin", "admin-secret")})
	p := newProducer(t, c)
	start := time.Now()
	p.until(func() bool { return c.Reauthentications() >= 2 })
	elapsed := time.Since(start)
	p.check()
	if n := expired.Load(); n > 0 {
		t.Errorf("%d requests reached the broker on an expired session", n)
	}
	reauths := c.Reauthentications()
	if max := int64(elapsed/time.Second) + 1; reauths > max {
		t.Errorf("%d re-authentications in %v: more than one a second", reauths, elapsed)
	}
	if got := tr.exchanges(t, 1); got != int(reauths)+1 {
		t.Errorf("%d SASL exchanges for %d re-authentications", got, reauths)
	}
}

// enforceExpiry counts the requests a real broker would close the connection for: any
// but ApiVersions and SASL ones arriving after the session of the last SaslAuthenticate
// expired (KIP-368; kfake does not enforce it). The cluster must have one connection.
// The allowance of 200ms above the lifetime absorbs scheduling delays between the
// client's write and kfake's handling, far less than the 900ms a client that ignored
// expiry would write into.
func enforceExpiry(cl *kfake.Cluster, lifetime time.Duration) *atomic.Int64 {
	var expired atomic.Int64
	var authAt atomic.Int64
	cl.Control(func(req kmsg.Request) (kmsg.Response, error, bool) {
		now := time.Now().UnixNano()
		switch req.Key() {
		case int16(kmsg.SASLAuthenticate):
			authAt.Store(now)
		case int16(kmsg.ApiVersions), int16(kmsg.SASLHandshake):
		default:
			if at := authAt.Load(); at != 0 && time.Duration(now-at) > lifetime+200*time.Millisecond {
				expired.Add(1)
			}
		}
		return nil, nil, false
	})
	return &expired
}

// pastDue waits until c's re-authentication is due: a wait on the clock itself.
func pastDue(t *testing.T, c *Conn) {
	t.Helper()
	due := c.reauth.due.Load()
	if due == 0 {
		t.Fatal("no re-authentication scheduled")
	}
	time.Sleep(time.Until(time.Unix(0, due)) + 10*time.Millisecond)
}

// TestKfakeReauthHoldsNewRequests: a request written after the re-authentication time
// starts it (lazily, as Java) and waits unwritten while the broker sits on the
// handshake; it goes out, and succeeds, once the exchange is over. Close during a held
// re-authentication returns at once.
func TestKfakeReauthHoldsNewRequests(t *testing.T) {
	checkLeaks(t)
	cl := saslCluster(t, kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "1000"}))
	c := mustDial(t, cl.ListenAddrs()[0], Options{SASL: sasl.Plain("admin", "admin-secret")})
	p := newProducer(t, c)

	held, release := make(chan struct{}), make(chan struct{})
	var produced atomic.Int32
	var holding atomic.Bool
	var first sync.Once // kfake runs a control again after it slept
	cl.Control(func(req kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		switch req.Key() {
		case int16(kmsg.SASLHandshake):
			first.Do(func() {
				holding.Store(true)
				close(held)
				cl.SleepControl(func() { <-release })
				holding.Store(false)
			})
		case int16(kmsg.Produce):
			if holding.Load() {
				t.Error("a Produce request reached the broker during the re-authentication")
			}
			produced.Add(1)
		}
		return nil, nil, false
	})
	pastDue(t, c)
	before := produced.Load()
	if err := p.send(); err != nil {
		t.Fatal(err)
	}
	<-held // the request started the re-authentication
	// The request is queued behind the exchange: give the write loop every chance to
	// write it wrongly before releasing the handshake.
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) && produced.Load() == before {
		time.Sleep(10 * time.Millisecond)
	}
	if produced.Load() != before {
		t.Fatal("the Produce request was written during the re-authentication")
	}
	close(release)
	if p.check() != 1 || c.Reauthentications() != 1 {
		t.Fatalf("after the re-authentication: %d re-authentications", c.Reauthentications())
	}

	// A second connection: Close while its re-authentication is held.
	held2, release2, resumed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	release2Now := func() { releaseOnce.Do(func() { close(release2) }) }
	defer release2Now()
	c2 := mustDial(t, cl.ListenAddrs()[0], Options{SASL: sasl.Plain("admin", "admin-secret")})
	var once sync.Once
	cl.ControlKey(int16(kmsg.SASLHandshake), func(kmsg.Request) (kmsg.Response, error, bool) {
		once.Do(func() {
			close(held2)
			cl.SleepControl(func() { <-release2 })
			close(resumed)
		})
		return nil, nil, false
	})
	pastDue(t, c2)
	go c2.Do(context.Background(), kmsg.NewPtrMetadataRequest()) // fails when c2 closes
	<-held2
	done := make(chan struct{})
	go func() { c2.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs during a re-authentication")
	}
	// Let kfake finish the slept control before the cluster closes (kfake can wedge
	// when it closes with a control asleep), and prove it serves again.
	release2Now()
	<-resumed
	c3 := mustDial(t, cl.ListenAddrs()[0], Options{SASL: sasl.Plain("admin", "admin-secret")})
	if _, err := c3.Do(context.Background(), kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatal(err)
	}
}

// TestKfakeReauthWaitSaysWhere: a Do whose ctx ends while its request waits behind a
// re-authentication the broker has not answered fails unwritten and says so: the
// caller's timeout names the KIP-368 exchange that held it, rather than a bare "context
// canceled" (a coordinator call cut short on the 10s-session secure cluster told nothing).
func TestKfakeReauthWaitSaysWhere(t *testing.T) {
	checkLeaks(t)
	cl := saslCluster(t, kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "1000"}))
	c := mustDial(t, cl.ListenAddrs()[0], Options{SASL: sasl.Plain("admin", "admin-secret")})
	held, release, resumed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var once sync.Once
	cl.ControlKey(int16(kmsg.SASLHandshake), func(kmsg.Request) (kmsg.Response, error, bool) {
		once.Do(func() {
			close(held)
			cl.SleepControl(func() { <-release })
			close(resumed)
		})
		return nil, nil, false
	})
	pastDue(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, kmsg.NewPtrMetadataRequest())
		errc <- err
	}()
	<-held // the request started the re-authentication and waits behind it
	cancel()
	err := <-errc
	if re := asRequestError(t, err); re.Written || !errors.Is(err, context.Canceled) {
		t.Fatalf("Do: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "never written while the connection re-authenticates (KIP-368") {
		t.Errorf("Do: %q does not say the request waited for a re-authentication", msg)
	}
	close(release)
	<-resumed
	if _, err := c.Do(context.Background(), kmsg.NewPtrMetadataRequest()); err != nil || c.Reauthentications() != 1 {
		t.Fatalf("after the re-authentication: %v, %d re-authentications", err, c.Reauthentications())
	}
	c.Close()
}

// TestKfakeReauthFails: a refused re-authentication closes the connection with an
// authentication error (a re-authentication's); requests in flight or queued fail as on any lost connection,
// retriable; a new dial authenticates anew.
func TestKfakeReauthFails(t *testing.T) {
	checkLeaks(t)
	cl := saslCluster(t, kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "1000"}))
	c := mustDial(t, cl.ListenAddrs()[0], Options{SASL: sasl.Plain("admin", "admin-secret")})
	var refuse atomic.Bool
	refuse.Store(true)
	cl.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if !refuse.Load() {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = kmsg.StringPtr("credentials revoked")
		return resp, nil, true
	})
	p := newProducer(t, c)
	for c.Err() == nil {
		if err := p.send(); err != nil {
			break // closed while queueing: fine
		}
	}
	p.pending.Wait()
	if err := c.Err(); !errors.Is(err, ErrConnClosed) || !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "SASL PLAIN re-authentication") {
		t.Fatalf("connection error %v", err)
	}
	p.mu.Lock()
	for _, err := range p.errs {
		var re *RequestError
		if !errors.As(err, &re) || !re.Retriable() || !errors.Is(err, ErrConnClosed) {
			t.Errorf("request error %v", err)
		}
	}
	p.mu.Unlock()
	refuse.Store(false)
	c2 := mustDial(t, cl.ListenAddrs()[0], Options{SASL: sasl.Plain("admin", "admin-secret")})
	if _, err := c2.Do(context.Background(), kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatalf("new connection: %v", err)
	}
	t.Logf("%s requests done before the failure", strconv.Itoa(len(p.offsets)))
}

// TestSessionLifetimeFromBroker: session_lifetime_ms is broker input. Zero or negative
// means no re-authentication; a huge value is capped rather than overflowing the
// conversion to a Duration (288230376151713244 ms in nanoseconds wraps to 1.5s, which
// would re-authenticate every second).
func TestSessionLifetimeFromBroker(t *testing.T) {
	vresp := kmsg.NewPtrApiVersionsResponse()
	for _, k := range []int16{saslHandshakeKey, saslAuthenticateKey} {
		vresp.ApiKeys = append(vresp.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: 0, MaxVersion: 2})
	}
	v := newVersions(vresp)
	for _, c := range []struct {
		ms   int64
		want time.Duration
	}{
		{0, 0}, {-1, 0}, {math.MinInt64, 0},
		{1, time.Millisecond}, {10000, 10 * time.Second},
		{maxSessionLifetime.Milliseconds() - 1, maxSessionLifetime - time.Millisecond},
		{288230376151713244, maxSessionLifetime},
		{math.MaxInt64 / 1000, maxSessionLifetime},
		{math.MaxInt64, maxSessionLifetime},
	} {
		rt := func(_ context.Context, req kmsg.Request) (kmsg.Response, error) {
			switch r := req.(pinned).Request.(type) {
			case *kmsg.SASLHandshakeRequest:
				return r.ResponseKind(), nil
			case *kmsg.SASLAuthenticateRequest:
				resp := r.ResponseKind().(*kmsg.SASLAuthenticateResponse)
				resp.SessionLifetimeMillis = c.ms
				return resp, nil
			}
			return nil, errors.New("unexpected request")
		}
		got, err := authenticate(context.Background(), "b:1", v, sasl.Plain("u", "p"), false, rt)
		if err != nil || got != c.want {
			t.Errorf("session_lifetime_ms %d: %v %v, want %v", c.ms, got, err, c.want)
		}
		var r reauthState
		now := time.Now()
		r.scheduled(now, now, got)
		if due := r.due.Load(); got > 0 && (due < now.UnixNano() || r.expires.Load() < now.UnixNano()) {
			t.Errorf("session_lifetime_ms %d: due %v, expires %v", c.ms, time.Unix(0, due), time.Unix(0, r.expires.Load()))
		}
	}
}

// TestKfakeReauthIdle: a connection with nothing to write does not re-authenticate when
// its session is due (no timer, as Java); the next request re-authenticates first and
// is written after the exchange, then succeeds.
func TestKfakeReauthIdle(t *testing.T) {
	checkLeaks(t)
	cl := saslCluster(t, kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "1000"}))
	tr := traceKeys(cl)
	c := mustDial(t, cl.ListenAddrs()[0], Options{SASL: sasl.Plain("admin", "admin-secret")})
	p := newProducer(t, c)
	if err := p.send(); err != nil {
		t.Fatal(err)
	}
	p.pending.Wait()
	expires := c.reauth.expires.Load()
	pastDue(t, c)
	time.Sleep(time.Until(time.Unix(0, expires)) + 100*time.Millisecond) // idle past the session's end
	if n := c.Reauthentications(); n != 0 {
		t.Fatalf("an idle connection re-authenticated %d times", n)
	}
	if err := p.send(); err != nil {
		t.Fatal(err)
	}
	if p.check() != 2 || c.Reauthentications() != 1 {
		t.Fatalf("after a request: %d re-authentications", c.Reauthentications())
	}
	tr.mu.Lock()
	keys := slices.DeleteFunc(slices.Clone(tr.keys), func(k int16) bool { return k == int16(kmsg.ApiVersions) })
	tr.mu.Unlock()
	want := []int16{int16(kmsg.SASLHandshake), int16(kmsg.SASLAuthenticate), int16(kmsg.Produce),
		int16(kmsg.SASLHandshake), int16(kmsg.SASLAuthenticate), int16(kmsg.Produce)}
	if !slices.Equal(keys, want) {
		t.Fatalf("requests %v, want %v", keys, want)
	}
}

// eofAfterArmed is a connection whose reads end (EOF) after the first one returning
// data once armed: a broker that closes the connection right after its answer.
type eofAfterArmed struct {
	net.Conn
	armed *atomic.Bool
	eof   bool // read loop only
}

func (c *eofAfterArmed) Read(p []byte) (int, error) {
	if c.eof {
		return 0, io.EOF
	}
	n, err := c.Conn.Read(p)
	if n > 0 && c.armed.Load() {
		c.eof = true
	}
	return n, err
}

// TestKfakeReauthRefusedThenClosed: Kafka refuses a re-authentication and closes the
// connection at once. The refusal, not the close, is the connection's error
// (ErrAuthentication, not retriable in itself), a request queued behind it fails as on
// a lost connection (retriable), and a new dial reports the refusal.
func TestKfakeReauthRefusedThenClosed(t *testing.T) {
	checkLeaks(t)
	cl := saslCluster(t, kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "1000"}))
	var refuse, closing atomic.Bool
	cl.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		if !refuse.Load() {
			return nil, nil, false
		}
		closing.Store(true) // the client's next read with data gets this answer
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = kmsg.StringPtr("credentials revoked")
		return resp, nil, true
	})
	var d net.Dialer
	opts := Options{SASL: sasl.Plain("admin", "admin-secret"), Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &eofAfterArmed{Conn: nc, armed: &closing}, nil
	}}
	for i := range 5 { // the close raced the refusal; once is not proof
		c := mustDial(t, cl.ListenAddrs()[0], opts)
		p := newProducer(t, c)
		pastDue(t, c)
		refuse.Store(true)
		if err := p.send(); err != nil {
			t.Fatal(err)
		}
		p.pending.Wait()
		if err := c.Err(); !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "credentials revoked") {
			t.Fatalf("attempt %d: connection error %v", i, err)
		}
		var re *RequestError
		if len(p.errs) != 1 || !errors.As(p.errs[0], &re) || !re.Retriable() || !errors.Is(re, ErrConnClosed) {
			t.Fatalf("attempt %d: request errors %v", i, p.errs)
		}
		_, err := Dial(context.Background(), cl.ListenAddrs()[0], Options{SASL: opts.SASL})
		if !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "credentials revoked") {
			t.Fatalf("attempt %d: new dial %v", i, err)
		}
		refuse.Store(false)
		closing.Store(false)
		c.Close()
	}
}
