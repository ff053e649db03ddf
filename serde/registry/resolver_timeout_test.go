package registry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kprod-io/kprod/serde/registry"
)

// Concurrent first uses of one schema while the registry does not answer: the
// leader's request times out (http.read.timeout.ms), a failure of the registry,
// not of the leader's context, so every waiter shares it: one request, one
// timeout. (A transport timeout Is context.DeadlineExceeded; waiters must not
// take it for the leader's cancellation and ask again one after another.)
func TestWaitersShareLeadersTimeout(t *testing.T) {
	var reqs atomic.Int32
	stop := make(chan struct{}) // the handler holds its request until the test ends
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop)
	c, err := registry.New(registry.Config{URLs: []string{srv.URL}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := registry.NewResolver(c, registry.SerdeConfig{}, false)
	const n = 5
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = r.ID(context.Background(), "t", "", registry.Schema{Type: "AVRO", Text: `"string"`})
		}()
	}
	wg.Wait()
	took := time.Since(start)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("caller %d: no error", i)
		}
	}
	t.Logf("first error: %v", errs[0])
	if got := reqs.Load(); got != 1 || took > 1500*time.Millisecond {
		t.Fatalf("%d concurrent first uses made %d requests and took %v (one timeout is 300ms)", n, got, took)
	}
}
