package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/testpki"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestWaitEndsOnAuthentication: a metadata refresh that fails to authenticate with a
// bootstrap server ends the waiters with that error at once (Java's
// Metadata.maybeThrowAnyException), even when another bootstrap server failed in
// another way after it. The backoff is long, so only the first refresh counts: each
// of several views, with the servers in random order, must report the
// authentication failure from it.
func TestWaitEndsOnAuthentication(t *testing.T) {
	ca, other := testpki.NewCA(t, "trusted"), testpki.NewCA(t, "untrusted")
	cert := other.Issue(t, testpki.Leaf{Names: []string{"127.0.0.1"}})
	k := kafkatest.New(t, kafkatest.Topic("t", 1), kafkatest.With(kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // connection refused from now on
	for i := range 8 {
		c := New(Config{Bootstrap: []string{k.Bootstrap()[0], dead}, MaxAge: time.Minute, MaxIdle: time.Minute,
			RetryBackoff: time.Minute, RetryBackoffMax: time.Minute,
			Pool: testPool(t, broker.Options{TLS: &tls.Config{RootCAs: ca.Pool()}, ConnectionSetupTimeout: 5 * time.Second})})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.Wait(ctx, "t", 1)
		cancel()
		c.Close()
		if !errors.Is(err, broker.ErrAuthentication) {
			t.Fatalf("view %d: Wait returned %v, want the authentication failure", i, err)
		}
	}
}
