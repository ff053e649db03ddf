package avro_test

import (
	"github.com/kprod-io/kprod/serde/registry"
	"net/http"
	"net/http/httptest"
	"testing"

	avroserde "github.com/kprod-io/kprod/serde/avro"
)

// A registry answering an id that does not fit the wire format's 4 bytes
// (hostile or broken) must fail the record, not be truncated into another id.
func TestRegistryIDOutOfRangeFailsRecord(t *testing.T) {
	for _, body := range []string{`{"id":4294967297}`, `{"id":-1}`, `{}`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(body))
		}))
		c, err := registry.New(registry.Config{URLs: []string{srv.URL}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := avroserde.NewSerializer[string](`"string"`, avroserde.Config{Client: c})
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Serialize("t", "x")
		if err == nil {
			t.Errorf("registry answer %s: no error, wrote header % x (a different schema id)", body, out[:5])
		}
		c.Close()
		srv.Close()
	}
}
