package jsonschema

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/registry"
)

// httpRegistry is the smallest Confluent-compatible registry: it registers under
// POST /subjects/S/versions and records every request.
type httpRegistry struct {
	mu       sync.Mutex
	requests []string // "METHOD path"
	bodies   []map[string]any
}

func newHTTPRegistry(t testing.TB) (*httpRegistry, string) {
	reg := &httpRegistry{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		reg.mu.Lock()
		reg.requests = append(reg.requests, r.Method+" "+r.URL.Path)
		reg.bodies = append(reg.bodies, body)
		reg.mu.Unlock()
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/versions") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_code":40401,"message":"not here"}`))
			return
		}
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		_, _ = w.Write([]byte(`{"id":77}`))
	}))
	t.Cleanup(srv.Close)
	return reg, srv.URL
}

func (r *httpRegistry) seen() ([]string, []map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...), append([]map[string]any(nil), r.bodies...)
}

// The properties form registers the given text once for any number of records and
// concurrent first uses, under the subject the strategy names.
func TestFromPropertiesRegistersOnce(t *testing.T) {
	cases := []struct {
		name    string
		props   map[string]string
		isKey   bool
		subject string
	}{
		{"topic name, value", nil, false, "orders-value"},
		{"topic name, key", nil, true, "orders-key"},
		{"record name is the title", map[string]string{"value.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy"}, false, "Customer"},
		{"topic record name", map[string]string{"key.subject.name.strategy": "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"}, true, "orders-Customer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg, url := newHTTPRegistry(t)
			props := map[string]string{"schema.registry.url": url, "json.fail.invalid.schema": "true"}
			for k, v := range c.props {
				props[k] = v
			}
			s, err := FromProperties[Customer](props, c.isKey, customerSchema)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var wg sync.WaitGroup
			errs := make(chan error, 8*20)
			for range 8 {
				wg.Go(func() {
					for range 20 {
						b, err := s.Serialize("orders", Customer{Age: 1})
						if err == nil && string(b[:5]) != "\x00\x00\x00\x00\x4d" {
							err = errors.New("wrong header " + string(b[:5]))
						}
						if err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			reqs, bodies := reg.seen()
			if want := "POST /subjects/" + c.subject + "/versions"; len(reqs) != 1 || reqs[0] != want {
				t.Fatalf("requests %q, want one %q", reqs, want)
			}
			if bodies[0]["schema"] != customerSchema || bodies[0]["schemaType"] != "JSON" {
				t.Fatalf("registered %v, want the given text with schemaType JSON", bodies[0])
			}
			_, err = s.Serialize("orders", Customer{Age: -1})
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Pointer != "/age" {
				t.Fatalf("json.fail.invalid.schema=true did not validate: %v", err)
			}
		})
	}
}

// A property with a value Java would refuse fails at construction, naming it.
func TestFromPropertiesRefusesBadValues(t *testing.T) {
	for prop, props := range map[string]map[string]string{
		"json.fail.invalid.schema": {"schema.registry.url": "http://127.0.0.1:1", "json.fail.invalid.schema": "yes"},
		"schema.registry.url":      {},
		"auto.register.schemas":    {"schema.registry.url": "http://127.0.0.1:1", "auto.register.schemas": "maybe"},
	} {
		_, err := FromProperties[Customer](props, false, customerSchema)
		var ce *registry.ConfigError
		if !errors.As(err, &ce) || ce.Property != prop || !strings.Contains(err.Error(), prop) {
			t.Errorf("%s: err = %v, want a ConfigError naming it", prop, err)
		}
	}
	if _, err := FromProperties[Customer](map[string]string{"schema.registry.url": "http://127.0.0.1:1"}, false, `{"type":1}`); err == nil {
		t.Error("an invalid schema was accepted")
	}
}

// A tombstone through the properties form makes no request.
func TestFromPropertiesTombstoneAsksNothing(t *testing.T) {
	reg, url := newHTTPRegistry(t)
	s, err := FromProperties[*Customer](map[string]string{"schema.registry.url": url}, false, customerSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if b, err := s.Serialize("orders", nil); b != nil || err != nil {
		t.Fatalf("got %q, %v", b, err)
	}
	if reqs, _ := reg.seen(); len(reqs) != 0 {
		t.Fatalf("requests %q for a tombstone", reqs)
	}
}

// As Confluent's RecordNameStrategy with a JsonSchema whose name() (its "title") is
// null, a schema without a title cannot be named: Serialize fails and asks nothing.
func TestRecordNameStrategyNeedsTitle(t *testing.T) {
	reg, url := newHTTPRegistry(t)
	s, err := FromProperties[map[string]any](map[string]string{
		"schema.registry.url":         url,
		"value.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy",
	}, false, `{"type":"object"}`)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Serialize("orders", map[string]any{})
	var se *serde.SerializationError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "title") {
		t.Fatalf("err = %v, want a SerializationError asking for a title", err)
	}
	if reqs, _ := reg.seen(); len(reqs) != 0 {
		t.Fatalf("requests %q", reqs)
	}
}
