package avro_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/kprod-io/kprod/serde"
	avroserde "github.com/kprod-io/kprod/serde/avro"
	"github.com/kprod-io/kprod/serde/registry"
)

// A registry failure fails Serialize as a SerializationError that errors.Is finds
// the registry's sentinel in; it is not cached, so the next record asks again.
func TestRegistryFailureIsReportedAndNotCached(t *testing.T) {
	f := startFakeRegistry()
	defer f.srv.Close()
	var status atomic.Int32
	status.Store(http.StatusUnauthorized)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := int(status.Load()); s != 0 {
			w.WriteHeader(s)
			w.Write([]byte(`{"error_code": 40101, "message": "no"}`))
			return
		}
		f.serve(w, r)
	}))
	defer srv.Close()
	c, err := registry.New(registry.Config{URLs: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := avroserde.NewSerializer[*Customer](customerSchema, avroserde.Config{Client: c})

	for _, tt := range []struct {
		status    int
		sentinel  error
		retriable bool
	}{
		{http.StatusUnauthorized, registry.ErrAuthentication, false},
		{http.StatusForbidden, registry.ErrAuthorization, false},
		{http.StatusTooManyRequests, registry.ErrThrottled, true},
		{http.StatusServiceUnavailable, registry.ErrTimeout, true},
	} {
		status.Store(int32(tt.status))
		_, err := s.Serialize("c", &Customer{ID: 1})
		var se *serde.SerializationError
		var re *registry.Error
		if !errors.As(err, &se) || !errors.Is(err, tt.sentinel) || !errors.As(err, &re) || re.Retriable() != tt.retriable {
			t.Fatalf("HTTP %d: err = %v", tt.status, err)
		}
	}
	status.Store(0)
	b, err := s.Serialize("c", &Customer{ID: 1})
	if err != nil {
		t.Fatalf("after the registry recovered: %v", err)
	}
	if id, _ := split(t, b); id != f.ids[customerSchema] {
		t.Fatalf("id %d", id)
	}
}
