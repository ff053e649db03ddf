package registry_test

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/kprod-io/kprod/serde/registry"
)

// answer is an httptest registry that answers every request with status and body.
func answer(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

// deadURL is a URL nothing listens on.
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		status    int
		body      string
		sentinel  error
		retriable bool
	}{
		{401, `{"error_code":401,"message":"Unauthorized"}`, registry.ErrAuthentication, false},
		{403, `{"error_code":40301,"message":"denied"}`, registry.ErrAuthorization, false},
		{429, `{"error_code":429,"message":"slow down"}`, registry.ErrThrottled, true},
		{408, `{}`, registry.ErrTimeout, true},
		{500, `{"error_code":50001,"message":"store"}`, registry.ErrTimeout, true},
		{502, `bad gateway`, registry.ErrUnavailable, true},
		{503, ``, registry.ErrTimeout, true},
		{504, `<html>`, registry.ErrTimeout, true},
		{404, `{"error_code":40401,"message":"Subject 'x' not found."}`, registry.ErrUnknownSubject, false},
		{404, `{"error_code":40403,"message":"Schema 9 not found."}`, registry.ErrUnknownSchema, false},
		{422, `{"error_code":42201,"message":"Invalid schema"}`, registry.ErrInvalidSchema, false},
		{409, `{"error_code":409,"message":"incompatible"}`, registry.ErrIncompatible, false},
		{400, `{"error_code":400,"message":"bad"}`, nil, false},
	} {
		s, _ := answer(t, tc.status, tc.body)
		c := client(t, registry.Config{URLs: []string{s.URL}})
		_, err := c.SchemaByID(context.Background(), 9)
		var re *registry.Error
		if !errors.As(err, &re) || re.Status != tc.status {
			t.Fatalf("%d: got %v", tc.status, err)
		}
		for _, sent := range []error{registry.ErrAuthentication, registry.ErrAuthorization, registry.ErrThrottled,
			registry.ErrTimeout, registry.ErrUnavailable, registry.ErrUnknownSubject, registry.ErrUnknownSchema,
			registry.ErrInvalidSchema, registry.ErrIncompatible} {
			if errors.Is(err, sent) != (sent == tc.sentinel) {
				t.Fatalf("%d %s: errors.Is(%v) = %v", tc.status, tc.body, sent, !(sent == tc.sentinel))
			}
		}
		if re.Retriable() != tc.retriable {
			t.Fatalf("%d: Retriable %v", tc.status, re.Retriable())
		}
		if !strings.HasPrefix(err.Error(), "kprod: schema registry: GET /schemas/ids/9") {
			t.Fatalf("message %q", err)
		}
	}
}

func TestFailover(t *testing.T) {
	f := newFake(t)
	for id := 5; id <= 7; id++ {
		f.SeedSchema("s", id, id, sr.Schema{Schema: `"string"`})
	}
	down, downN := answer(t, 503, `{"error_code":50003,"message":"leader unknown"}`)
	c := client(t, registry.Config{URLs: []string{deadURL(t), down.URL, f.URL()}})
	for id := 5; id <= 7; id++ {
		s, err := c.SchemaByID(context.Background(), id)
		if err != nil || s.Text != `"string"` {
			t.Fatalf("%+v %v", s, err)
		}
	}
	// The URL that answered is tried first afterwards.
	if downN.Load() != 1 || f.requests("GET /schemas/ids/7") != 1 {
		t.Fatalf("503 URL asked %d times; want once", downN.Load())
	}
	// By-id answers are cached: an id's schema never changes.
	if _, err := c.SchemaByID(context.Background(), 5); err != nil || f.requests("GET /schemas/ids/5") != 1 {
		t.Fatalf("cached by id: %v, %d requests", err, f.requests("GET /schemas/ids/5"))
	}
	// A 4xx is an answer: no failover.
	bad, _ := answer(t, 404, `{"error_code":40403,"message":"nope"}`)
	c = client(t, registry.Config{URLs: []string{bad.URL, f.URL()}})
	if _, err := c.SchemaByID(context.Background(), 5); !errors.Is(err, registry.ErrUnknownSchema) {
		t.Fatalf("4xx failed over: %v", err)
	}
	// Nothing answers: the last failure, retriable.
	c = client(t, registry.Config{URLs: []string{deadURL(t), deadURL(t)}})
	_, err := c.SchemaByID(context.Background(), 5)
	var re *registry.Error
	if !errors.Is(err, registry.ErrUnavailable) || !errors.As(err, &re) || !re.Retriable() || re.Status != 0 {
		t.Fatalf("all down: %v", err)
	}
}

func TestHostileBodies(t *testing.T) {
	huge := strings.Repeat("x", 9<<20)
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{200, `{"schema":` + `"` + huge + `"}`, "larger than"},
		{200, `{"schema":12}`, "undecodable"},
		{200, `[[[[`, "undecodable"},
		{200, ``, "undecodable"},
		{500, huge, "..."},
		{404, `{"error_code":"x","message":{}}`, "HTTP 404"},
		{404, "\xff\xfe{", "HTTP 404"},
	} {
		s, _ := answer(t, tc.status, tc.body)
		c := client(t, registry.Config{URLs: []string{s.URL}})
		_, err := c.SchemaByID(context.Background(), 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) || len(err.Error()) > 2048 {
			t.Fatalf("%d %.40q: %.300v", tc.status, tc.body, err)
		}
	}
}

func TestAuthentication(t *testing.T) {
	var got atomic.Value
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization") + "|" + r.Header.Get("X-Team") + "|" + r.Header.Get("Content-Type"))
		io.WriteString(w, `{"id":3}`)
	}))
	t.Cleanup(s.Close)
	withUser := strings.Replace(s.URL, "http://", "http://fred:pw%3A1@", 1)
	for _, tc := range []struct {
		cfg  registry.Config
		want string
	}{
		{registry.Config{URLs: []string{s.URL}}, ""},
		{registry.Config{URLs: []string{s.URL}, BasicAuthCredentialsSource: "USER_INFO", BasicAuthUserInfo: "fred:pw"}, "Basic ZnJlZDpwdw=="},
		{registry.Config{URLs: []string{s.URL}, BasicAuthUserInfo: "fred:pw"}, "Basic ZnJlZDpwdw=="},
		{registry.Config{URLs: []string{withUser}}, "Basic ZnJlZDpwdzox"},
		{registry.Config{URLs: []string{withUser}, BasicAuthCredentialsSource: "URL"}, "Basic ZnJlZDpwdzox"},
		{registry.Config{URLs: []string{s.URL}, BearerAuthToken: "tok"}, "Bearer tok"},
		{registry.Config{URLs: []string{s.URL}, RequestHeaders: map[string]string{"X-Team": "a"}}, "|a"},
	} {
		c := client(t, tc.cfg)
		r := registry.NewResolver(c, registry.SerdeConfig{}, false)
		if _, _, err := r.ID(context.Background(), "t", "", registry.Schema{Text: `"string"`}); err != nil {
			t.Fatal(err)
		}
		h := got.Load().(string)
		if !strings.HasPrefix(h, tc.want+"|") && !strings.HasPrefix(h, tc.want) {
			t.Fatalf("%+v: sent %q, want %q", tc.cfg, h, tc.want)
		}
		if !strings.HasSuffix(h, "|application/vnd.schemaregistry.v1+json") {
			t.Fatalf("content type: %q", h)
		}
	}
	// srfake's auth check: none is 401, a wrong token 403, the right one passes.
	f := newFake(t, srfake.WithAuth("Bearer right"))
	f.SeedSchema("s", 1, 1, sr.Schema{Schema: `"int"`})
	for token, want := range map[string]error{"": registry.ErrAuthentication, "wrong": registry.ErrAuthorization, "right": nil} {
		c := client(t, registry.Config{URLs: []string{f.URL()}, BearerAuthToken: token})
		if _, err := c.SchemaByID(context.Background(), 1); !errors.Is(err, want) {
			t.Fatalf("token %q: %v, want %v", token, err, want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		cfg  registry.Config
		prop string
	}{
		{registry.Config{}, "schema.registry.url"},
		{registry.Config{URLs: []string{"ftp://x"}}, "schema.registry.url"},
		{registry.Config{URLs: []string{"localhost:8081"}}, "schema.registry.url"},
		{registry.Config{URLs: []string{"http://h"}, BasicAuthCredentialsSource: "SASL_INHERIT"}, "basic.auth.credentials.source=SASL_INHERIT: SASL_INHERIT is not supported"},
		{registry.Config{URLs: []string{"http://h"}, BasicAuthCredentialsSource: "LDAP"}, "basic.auth.credentials.source"},
		{registry.Config{URLs: []string{"http://h"}, BasicAuthCredentialsSource: "USER_INFO"}, "basic.auth.user.info"},
		{registry.Config{URLs: []string{"http://h"}, BasicAuthUserInfo: "a:b", BearerAuthToken: "t"}, "bearer.auth.token"},
	} {
		_, err := registry.New(tc.cfg)
		var ce *registry.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.prop) {
			t.Fatalf("%+v: %v", tc.cfg, err)
		}
	}
	_, err := registry.New(registry.Config{URLs: []string{"http://u:secret@h"}, BearerAuthToken: "t"})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("password shown or accepted: %v", err)
	}
}

func TestTLS(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"schema":"\"int\""}`)
	}))
	t.Cleanup(s.Close)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}))
	cfg, _, err := registry.ParseProperties(map[string]string{
		"schema.registry.url":                         s.URL,
		"schema.registry.ssl.truststore.type":         "PEM",
		"schema.registry.ssl.truststore.certificates": caPEM,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sch, err := client(t, cfg).SchemaByID(context.Background(), 1); err != nil || sch.Text != `"int"` {
		t.Fatalf("trusted: %+v %v", sch, err)
	}
	// Go's default roots do not trust httptest's CA.
	_, err = client(t, registry.Config{URLs: []string{s.URL}}).SchemaByID(context.Background(), 1)
	if !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("untrusted: %v", err)
	}
	c := client(t, registry.Config{URLs: []string{s.URL}, TLS: &tls.Config{InsecureSkipVerify: true}})
	if _, err := c.SchemaByID(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
}

func TestClose(t *testing.T) {
	f := newFake(t)
	c := client(t, registry.Config{URLs: []string{f.URL()}})
	c.Close()
	if _, err := c.SchemaByID(context.Background(), 1); !errors.Is(err, registry.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestContextCancelled(t *testing.T) {
	f := newFake(t)
	c := client(t, registry.Config{URLs: []string{f.URL(), f.URL()}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.SchemaByID(ctx, 1)
	var re *registry.Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &re) || re.Retriable() || errors.Is(err, registry.ErrTimeout) {
		t.Fatalf("cancelled: %v", err)
	}
	if n := f.requests("GET /schemas/ids/1"); n != 0 {
		t.Fatalf("%d requests after cancel", n)
	}
}

// TestCloseLeavesNoGoroutine: the client starts none of its own, and Close ends the
// transport's connection goroutines.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	// A server of its own that counts its open connections: Close must close the
	// client's (kept-alive) connection, which ends its goroutines. Counting this
	// client's connections, not the process's goroutines, keeps other tests' clients
	// and servers out of the answer.
	var open atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		io.WriteString(w, `{"schema":"\"int\""}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := registry.New(registry.Config{URLs: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.SchemaByID(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	}
	if open.Load() == 0 {
		t.Fatal("no kept-alive connection to check")
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for open.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open 5s after Close", open.Load())
		}
		time.Sleep(time.Millisecond) // polls: the server sees the close asynchronously
	}
}

// TestReadTimeoutFailsOver: a URL that does not answer within http.read.timeout.ms
// is a retriable timeout, and the next URL is tried.
func TestReadTimeoutFailsOver(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hang) })
	cfg, _, err := registry.ParseProperties(map[string]string{"schema.registry.url": slow.URL, "http.read.timeout.ms": "50"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client(t, cfg).SchemaByID(context.Background(), 1)
	var re *registry.Error
	if !errors.Is(err, registry.ErrTimeout) || !errors.As(err, &re) || !re.Retriable() {
		t.Fatalf("slow registry: %v", err)
	}
	f := newFake(t)
	f.SeedSchema("s", 1, 1, sr.Schema{Schema: `"int"`})
	cfg.URLs = append(cfg.URLs, f.URL())
	if _, err := client(t, cfg).SchemaByID(context.Background(), 1); err != nil {
		t.Fatalf("failover after a timeout: %v", err)
	}
}

// An id the wire format cannot hold, or none, in a register, lookup or latest
// answer is an undecodable answer, whichever way the resolver asks.
func TestAnswerIDOutOfRange(t *testing.T) {
	f := false
	for _, body := range []string{`{"id":2147483648}`, `{"id":4294967297}`, `{"id":0}`, `{"id":-1}`, `{"schema":"\"string\""}`} {
		for name, sc := range map[string]registry.SerdeConfig{
			"register": {},
			"lookup":   {AutoRegisterSchemas: &f},
			"latest":   {AutoRegisterSchemas: &f, UseLatestVersion: true, LatestCompatibilityStrict: &f},
		} {
			s, _ := answer(t, 200, body)
			c := client(t, registry.Config{URLs: []string{s.URL}})
			id, _, err := registry.NewResolver(c, sc, false).ID(context.Background(), "t", "", registry.Schema{Type: "AVRO", Text: `"string"`})
			var re *registry.Error
			if !errors.As(err, &re) || re.Message != "undecodable answer" {
				t.Errorf("%s answered %s: id %d, error %v", name, body, id, err)
			}
		}
	}
}
