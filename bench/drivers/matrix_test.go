package drivers

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod/bench/sink"
)

// TestGoroutines runs kprod and franz-go from 4 goroutines, keyed over 4 partitions,
// in throughput and latency mode: the sink must count every record once. Run with
// -race, it also checks the tracker and the clients' forks for data races.
func TestGoroutines(t *testing.T) {
	s := startSink(t)
	for _, client := range []string{"kprod", "franz-go"} {
		for _, rate := range []int{0, 20000} {
			t.Run(fmt.Sprintf("%s/rate=%d", client, rate), func(t *testing.T) {
				o := tiny(client, s.Addr(), fmt.Sprintf("g4-%s-%d", client, rate))
				o.Goroutines, o.Keys, o.Partitions, o.Rate = 4, 100, 4, rate
				if rate > 0 {
					o.Records = 2000
				}
				runCounted(t, s, o)
			})
		}
	}
}

// TestClientSupports: the peers without an option refuse it by name, so the runner
// can skip them in the scenarios that need it.
func TestClientSupports(t *testing.T) {
	for _, set := range []func(*Options){
		func(o *Options) { o.Goroutines = 2 },
		func(o *Options) { o.Keys = 2 },
		func(o *Options) { o.TLSCA = "ca.pem" },
		func(o *Options) { o.Observe = true },
	} {
		o := tiny("sarama", "x", "t")
		set(&o)
		if o.ClientSupports() == nil || o.Validate() == nil {
			t.Fatalf("sarama accepted %+v", o)
		}
		o.Client = "kprod"
		if err := o.ClientSupports(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFloorSupports: the floor is one partition, uncompressed, unkeyed, one sender.
func TestFloorSupports(t *testing.T) {
	o := tiny("floor", "x", "t")
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, set := range []func(*Options){
		func(o *Options) { o.Compression = "lz4" },
		func(o *Options) { o.Compression = "zstd" },
		func(o *Options) { o.Partitions = 3 },
		func(o *Options) { o.Keys = 2 },
		func(o *Options) { o.Goroutines = 2 },
		func(o *Options) { o.TLSCA = "ca.pem" },
	} {
		o := tiny("floor", "x", "t")
		set(&o)
		if o.ClientSupports() == nil || o.Validate() == nil {
			t.Fatalf("the floor accepted %+v", o)
		}
	}
}

// TestObserve runs kprod with -observe, paced and not: every record is counted and
// every one was timed in its callback (warm-up included).
func TestObserve(t *testing.T) {
	s := startSink(t)
	for _, rate := range []int{0, 20000} {
		t.Run(fmt.Sprintf("rate=%d", rate), func(t *testing.T) {
			o := tiny("kprod", s.Addr(), fmt.Sprintf("observe-%d", rate))
			o.Observe, o.Rate = true, rate
			if rate > 0 {
				o.Records = 2000
			}
			res, _ := runCounted(t, s, o)
			want := fmt.Sprintf("observe: %d records timed", o.Records+o.Warmup)
			if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, want) }) {
				t.Fatalf("notes %q lack %q", res.Notes, want)
			}
		})
	}
}

// TestTLS runs kprod and franz-go over TLS to a verifying sink with a self-signed
// certificate, trusting it through -tls-ca; a client that fell back to plaintext would
// fail the handshake and count nothing.
func TestTLS(t *testing.T) {
	cert, caPEM, err := sink.SelfSigned(sink.LocalHosts...)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startSinkWith(t, sink.Config{Verify: true, Logf: t.Logf, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	for _, client := range []string{"kprod", "franz-go"} {
		t.Run(client, func(t *testing.T) {
			o := tiny(client, s.Addr(), "tls-"+client)
			o.TLSCA, o.Goroutines, o.Partitions = ca, 2, 2
			runCounted(t, s, o)
		})
	}
	// Without the CA, the sink's certificate is not trusted.
	o := tiny("franz-go", s.Addr(), "tls-untrusted")
	o.Records, o.Warmup = 10, 0
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Run(ctx, o); err == nil {
		t.Fatal("plaintext run against a TLS sink succeeded")
	}
}
