package kprod_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/sasl"
)

// authCounter wraps a mechanism and counts its authentications; with dialCounter,
// re-authentications are authentications minus dials.
type authCounter struct {
	sasl.Mechanism
	auths atomic.Int64
}

func (m *authCounter) Authenticate(ctx context.Context, broker string) (sasl.Session, []byte, error) {
	m.auths.Add(1)
	return m.Mechanism.Authenticate(ctx, broker)
}

// dialCounter is a kprod.WithDialer dialer counting the TCP connections it opens.
type dialCounter struct{ dials atomic.Int64 }

func (d *dialCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.dials.Add(1)
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

// pacedRun sends records to topic for at least d, a few every millisecond, keyed over
// 30 keys with the value the key's own sequence number (continuing sent, which it
// updates), and returns sent. Every delivery must succeed.
func pacedRun(t *testing.T, p *kprod.Producer, topic string, d time.Duration, sent map[string]int) map[string]int {
	t.Helper()
	var mu sync.Mutex
	var errs []error
	if sent == nil {
		sent = map[string]int{}
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	i := 0
	for start := time.Now(); time.Since(start) < d; <-tick.C {
		for range 3 {
			key := "k" + strconv.Itoa(i%30)
			i++
			value := strconv.Itoa(sent[key])
			sent[key]++
			err := p.Send(context.Background(), &kprod.Record{Topic: topic, Key: []byte(key), Value: []byte(value)},
				func(_ kprod.RecordMetadata, err error) {
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Fatalf("%d deliveries failed, first: %v", len(errs), errs[0])
	}
	return sent
}

// checkReadBack requires every key's values, read back in offset order, to be exactly
// 0, 1, 2, ...: nothing lost, duplicated or reordered.
func checkReadBack(t *testing.T, sent map[string]int, recs []*kgo.Record) {
	t.Helper()
	next := map[string]int{}
	for _, r := range recs {
		k := string(r.Key)
		if v, err := strconv.Atoi(string(r.Value)); err != nil || v != next[k] {
			t.Fatalf("key %s: value %q at %d/%d, want %d (lost, duplicated or reordered)", k, r.Value, r.Partition, r.Offset, next[k])
		}
		next[k]++
	}
	total := 0
	for k, n := range sent {
		total += n
		if next[k] != n {
			t.Errorf("key %s: read %d records, sent %d", k, next[k], n)
		}
	}
	if len(recs) != total {
		t.Errorf("read %d records, sent %d", len(recs), total)
	}
}

// TestSASLReauthUnderLoadEmbedded is the fast tier of the re-authentication proof: an
// idempotent producer with max.in.flight=5 sends paced records for several 1-second
// SCRAM sessions; nothing is lost, duplicated or reordered (read back with kgo), the
// connections re-authenticate about once a session, and never in a loop.
func TestSASLReauthUnderLoadEmbedded(t *testing.T) {
	before := kprodGoroutines()
	topic := "sasl-reauth"
	c := kafkatest.New(t, kafkatest.Topic(topic, 3), kafkatest.With(kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", "admin", "admin-secret"),
		kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "1000"})))
	mech := &authCounter{Mechanism: sasl.ScramSHA512("admin", "admin-secret")}
	dc := &dialCounter{}
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), SecurityProtocol: kprod.SecuritySASLPlaintext,
		SASL: mech, Idempotence: kprod.ToggleOn, MaxInFlight: 5, Linger: time.Millisecond}, kprod.WithDialer(dc.dial))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sent := pacedRun(t, p, topic, 4*time.Second, nil)
	elapsed := time.Since(start)
	reauths, dials := mech.auths.Load()-dc.dials.Load(), dc.dials.Load()
	closeWithin(t, p, context.Background(), 30*time.Second)
	checkNoLeak(t, before)

	cl := rtClient(t, c.Bootstrap(), kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism()))
	recs := consumeAll(t, cl, topic, sent)
	checkReadBack(t, sent, recs)

	// The sender's connection alone re-authenticates once a second (the floor; 85-95%
	// of 1s is less); and no connection more often than that.
	secs := int64(elapsed / time.Second)
	if reauths < secs-1 || reauths > dials*(secs+1) {
		t.Errorf("%d re-authentications on %d connections in %v", reauths, dials, elapsed)
	}
	t.Logf("%d records, %d re-authentications on %d connections in %v", len(recs), reauths, dials, elapsed)
}

// consumeAll reads the topic from the start until it has as many records as were sent.
func consumeAll(t *testing.T, cl *kgo.Client, topic string, sent map[string]int) []*kgo.Record {
	t.Helper()
	want := 0
	for _, n := range sent {
		want += n
	}
	cl.AddConsumeTopics(topic)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(tp string, p int32, err error) {
			if ctx.Err() == nil {
				t.Logf("fetch %s/%d: %v", tp, p, err)
			}
		})
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// TestSASLBadCredentialsEmbedded: a broker refusing the credentials (or not offering
// the mechanism) fails Send at once with ErrAuthentication, not after max.block.ms, with
// the broker's message and without the password; Close leaves no goroutine.
func TestSASLBadCredentialsEmbedded(t *testing.T) {
	for _, tc := range []struct {
		name string
		mech sasl.Mechanism
		want string
	}{
		{"wrong password", sasl.Plain("admin", "not-the-secret"), "Invalid username or password"},
		{"mechanism not offered", sasl.OAuthBearer(sasl.StaticToken(sasl.Token{Value: "not-the-secret"})), "does not enable mechanism OAUTHBEARER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := kprodGoroutines()
			c := kafkatest.New(t, kafkatest.Topic("t", 1), kafkatest.With(kfake.EnableSASL(),
				kfake.Superuser("PLAIN", "admin", "admin-secret")))
			fake := c.Fake()
			fake.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
				fake.KeepControl()
				resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
				resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
				resp.ErrorMessage = kmsg.StringPtr("Authentication failed: Invalid username or password")
				return resp, nil, true
			})
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(),
				SecurityProtocol: kprod.SecuritySASLPlaintext, SASL: tc.mech})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = p.Send(context.Background(), &kprod.Record{Topic: "t", Value: []byte("v")}, nil)
			took := time.Since(start)
			if !errors.Is(err, kprod.ErrAuthentication) || kprod.IsRetriable(err) || kprod.MaybeWritten(err) {
				t.Fatalf("Send: %v (retriable %v, maybe written %v)", err, kprod.IsRetriable(err), kprod.MaybeWritten(err))
			}
			// A hang detector, not a timing assertion: the 60s metadata wait never ran.
			if took > 30*time.Second {
				t.Errorf("Send took %v", took)
			}
			msg := err.Error()
			for _, want := range []string{tc.want, c.Bootstrap()[0], tc.mech.Name()} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "not-the-secret") {
				t.Errorf("error shows the secret: %s", msg)
			}
			closeWithin(t, p, context.Background(), 10*time.Second)
			checkNoLeak(t, before)
		})
	}
}
