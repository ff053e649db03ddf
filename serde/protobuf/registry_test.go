package protobuf

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// httpRegistry is a small Confluent-compatible registry: register
// (POST /subjects/S/versions), lookup (POST /subjects/S) and latest
// (GET /subjects/S/versions/latest), each subject a list of versions. It records
// every request, so tests can count them.
type httpRegistry struct {
	mu       sync.Mutex
	requests []string            // "METHOD path"
	bodies   map[string][]schema // subject -> versions (1-based)
	ids      map[string]int      // schema text -> id
}

// schema is a register or lookup request's body.
type schema struct {
	Schema     string           `json:"schema"`
	SchemaType string           `json:"schemaType,omitempty"`
	References []map[string]any `json:"references,omitempty"`
}

func newHTTPRegistry(t testing.TB) (*httpRegistry, string) {
	reg := &httpRegistry{bodies: map[string][]schema{}, ids: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(reg.serve))
	t.Cleanup(srv.Close)
	return reg, srv.URL
}

func (reg *httpRegistry) serve(w http.ResponseWriter, r *http.Request) {
	var body schema
	_ = json.NewDecoder(r.Body).Decode(&body)
	reg.mu.Lock()
	defer reg.mu.Unlock()
	reg.requests = append(reg.requests, r.Method+" "+r.URL.Path)
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	path := strings.TrimPrefix(r.URL.Path, "/subjects/")
	notFound := func(code int) {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"error_code": code, "message": "not found"})
	}
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/versions"):
		subject := strings.TrimSuffix(path, "/versions")
		id, ok := reg.ids[body.Schema]
		if !ok {
			id = 300 + 11*len(reg.ids)
			reg.ids[body.Schema] = id
		}
		if reg.version(subject, body.Schema) == 0 {
			reg.bodies[subject] = append(reg.bodies[subject], body)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id})
	case r.Method == http.MethodPost:
		v := reg.version(path, body.Schema)
		if v == 0 {
			notFound(40403)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"subject": path, "id": reg.ids[body.Schema], "version": v, "schema": body.Schema})
	case r.Method == http.MethodGet && strings.HasSuffix(path, "/versions/latest"):
		subject := strings.TrimSuffix(path, "/versions/latest")
		vs := reg.bodies[subject]
		if len(vs) == 0 {
			notFound(40401)
			return
		}
		last := vs[len(vs)-1]
		_ = json.NewEncoder(w).Encode(map[string]any{"subject": subject, "id": reg.ids[last.Schema], "version": len(vs),
			"schema": last.Schema, "schemaType": last.SchemaType, "references": last.References})
	default:
		notFound(40401)
	}
}

// version is text's version under subject, 0 if absent; reg.mu is held.
func (reg *httpRegistry) version(subject, text string) int {
	for i, b := range reg.bodies[subject] {
		if b.Schema == text {
			return i + 1
		}
	}
	return 0
}

// add registers text under subject as another producer would have.
func (reg *httpRegistry) add(subject, text string) int {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	id, ok := reg.ids[text]
	if !ok {
		id = 300 + 11*len(reg.ids)
		reg.ids[text] = id
	}
	reg.bodies[subject] = append(reg.bodies[subject], schema{Schema: text, SchemaType: "PROTOBUF"})
	return id
}

func (reg *httpRegistry) seen() []string {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return append([]string(nil), reg.requests...)
}

func (reg *httpRegistry) subject(s string) []schema {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return append([]schema(nil), reg.bodies[s]...)
}
