package avro_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kprod-io/kprod/serde/registry"
)

// fakeRegistry is a minimal in-process Confluent registry: register, look up,
// latest and by-id. It records every schema text it was given verbatim and counts
// requests, so tests can check what was registered and how often.
type fakeRegistry struct {
	mu       sync.Mutex
	ids      map[string]int   // schema text -> id
	texts    map[int]string   // id -> schema text
	subjects map[string][]int // subject -> ids, in version order
	requests map[string]int   // "METHOD path" -> count
	srv      *httptest.Server
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	t.Helper()
	f := startFakeRegistry()
	t.Cleanup(f.srv.Close)
	return f
}

// startFakeRegistry starts a fake registry; close f.srv when done.
func startFakeRegistry() *fakeRegistry {
	f := &fakeRegistry{ids: map[string]int{}, texts: map[int]string{}, subjects: map[string][]int{}, requests: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// client returns a client of f; t may be nil (benchmarks, examples).
func (f *fakeRegistry) client(t *testing.T) *registry.Client {
	c, err := registry.New(registry.Config{URLs: []string{f.srv.URL}})
	if err != nil {
		panic(err)
	}
	if t != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c
}

// add registers text under subject directly, as another producer would have.
func (f *fakeRegistry) add(subject, text string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(subject, text)
}

func (f *fakeRegistry) addLocked(subject, text string) int {
	id, ok := f.ids[text]
	if !ok {
		id = 100 + 7*len(f.ids) // not consecutive from 1, as Apicurio's are not
		f.ids[text], f.texts[id] = id, text
	}
	for _, v := range f.subjects[subject] {
		if v == id {
			return id
		}
	}
	f.subjects[subject] = append(f.subjects[subject], id)
	return id
}

func (f *fakeRegistry) count(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[method+" "+path]
}

func (f *fakeRegistry) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.requests {
		n += c
	}
	return n
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests[r.Method+" "+r.URL.Path]++
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	fail := func(status, code int, msg string) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error_code": code, "message": msg})
	}
	var body struct {
		Schema string `json:"schema"`
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "subjects" && parts[2] == "versions":
		json.NewDecoder(r.Body).Decode(&body)
		json.NewEncoder(w).Encode(map[string]any{"id": f.addLocked(parts[1], body.Schema)})
	case r.Method == http.MethodPost && len(parts) == 2 && parts[0] == "subjects":
		json.NewDecoder(r.Body).Decode(&body)
		id, ok := f.ids[body.Schema]
		if !ok {
			fail(404, 40403, "schema not found")
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"subject": parts[1], "id": id, "version": 1, "schema": body.Schema})
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "subjects" && parts[3] == "latest":
		v := f.subjects[parts[1]]
		if len(v) == 0 {
			fail(404, 40401, "subject not found")
			return
		}
		id := v[len(v)-1]
		json.NewEncoder(w).Encode(map[string]any{"subject": parts[1], "id": id, "version": len(v), "schema": f.texts[id]})
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "schemas" && parts[1] == "ids":
		id, _ := strconv.Atoi(parts[2])
		text, ok := f.texts[id]
		if !ok {
			fail(404, 40403, "schema not found")
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"schema": text})
	default:
		fail(404, 404, "no such endpoint")
	}
}
