package sasl

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// endpoint is a local token endpoint recording what it is sent.
type endpoint struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
	// answer gives the status and body of the n-th request (from 1).
	answer func(n int) (int, string)
}

func newEndpoint(t *testing.T, answer func(n int) (int, string)) *endpoint {
	e := &endpoint{answer: answer}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.requests = append(e.requests, r)
		e.bodies = append(e.bodies, string(b))
		n := len(e.requests)
		e.mu.Unlock()
		status, body := e.answer(n)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.requests)
}

// signedLike returns a JWT-shaped token (its signature is not checked by the client).
func signedLike(claims map[string]any) string {
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256","kid":"k"}`)) + "." + enc.EncodeToString(p) + ".c2lnbmF0dXJl"
}

func tokenBody(tok string) string {
	return fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, tok)
}

// TestClientCredentialsRequest: the request is what Java 4.4 sends (checked by pointing
// a Java producer at a capturing endpoint): POST, Basic authorization of id:secret
// without URL-encoding unless asked, a form body with grant_type and scope, Accept JSON.
// The token's expiry is its exp claim; extensions ride along.
func TestClientCredentialsRequest(t *testing.T) {
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tok := signedLike(map[string]any{"sub": "svc", "exp": exp.Unix(), "scope": "a b"})
	e := newEndpoint(t, func(int) (int, string) { return 200, tokenBody(tok) })
	for _, urlencode := range []bool{false, true} {
		cfg := ClientCredentialsConfig{TokenURL: e.URL + "/token", ClientID: " my client ", ClientSecret: "s3cr:et&x",
			Scope: " a b ", URLEncodeHeader: urlencode, Extensions: map[string]string{"logicalCluster": "lkc-1"}}
		got, err := ClientCredentials(cfg).Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got.Value != tok || !got.Expiry.Equal(exp) || got.Extensions["logicalCluster"] != "lkc-1" {
			t.Errorf("token %v (expiry %v, want %v)", got, got.Expiry, exp)
		}
		r, body := e.requests[len(e.requests)-1], e.bodies[len(e.bodies)-1]
		wantAuth := "my client:s3cr:et&x"
		if urlencode {
			wantAuth = "my+client:s3cr%3Aet%26x"
		}
		if r.Method != "POST" || r.URL.Path != "/token" ||
			r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(wantAuth)) ||
			r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.Header.Get("Accept") != "application/json" ||
			body != "grant_type=client_credentials&scope=a+b" {
			t.Errorf("urlencode=%v: %s %s %v body %q", urlencode, r.Method, r.URL, r.Header, body)
		}
	}
	// No scope: no scope parameter.
	ClientCredentials(ClientCredentialsConfig{TokenURL: e.URL, ClientID: "i", ClientSecret: "s"}).Token(context.Background())
	if b := e.bodies[len(e.bodies)-1]; b != "grant_type=client_credentials" {
		t.Errorf("body %q", b)
	}
}

// TestClientCredentialsCached: a token is fetched once and reused until its refresh
// time, not once per connection.
func TestClientCredentialsCached(t *testing.T) {
	tok := signedLike(map[string]any{"sub": "svc", "exp": time.Now().Add(time.Hour).Unix()})
	e := newEndpoint(t, func(int) (int, string) { return 200, tokenBody(tok) })
	src := ClientCredentials(ClientCredentialsConfig{TokenURL: e.URL, ClientID: "i", ClientSecret: "s"})
	for range 20 {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if e.count() != 1 {
		t.Errorf("%d requests for 20 tokens", e.count())
	}
}

// TestClientCredentialsRetries: a 5xx is retried with a doubling backoff until
// RetryBackoffMax, a 401 is not (Java's UNRETRYABLE_HTTP_CODES), and neither the
// secret nor the token shows in the errors.
func TestClientCredentialsRetries(t *testing.T) {
	tok := signedLike(map[string]any{"sub": "svc", "exp": time.Now().Add(time.Hour).Unix()})
	e := newEndpoint(t, func(n int) (int, string) {
		if n < 3 {
			return 503, `{"error":"temporarily_unavailable"}`
		}
		return 200, tokenBody(tok)
	})
	cfg := ClientCredentialsConfig{TokenURL: e.URL, ClientID: "i", ClientSecret: "s3cret", RetryBackoff: time.Millisecond, RetryBackoffMax: time.Minute}
	if _, err := ClientCredentials(cfg).Token(context.Background()); err != nil || e.count() != 3 {
		t.Fatalf("%v after %d requests, want success on the third", err, e.count())
	}

	denied := newEndpoint(t, func(int) (int, string) {
		return 401, `{"error":"invalid_client","error_description":"bad secret"}`
	})
	cfg.TokenURL = denied.URL
	_, err := ClientCredentials(cfg).Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), `status 401 {invalid_client - bad secret}`) || denied.count() != 1 {
		t.Fatalf("401: %v after %d requests", err, denied.count())
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the secret: %v", err)
	}

	down := newEndpoint(t, func(int) (int, string) { return 500, "oops" })
	cfg.TokenURL, cfg.RetryBackoff, cfg.RetryBackoffMax = down.URL, 5*time.Millisecond, 60*time.Millisecond
	start := time.Now()
	_, err = ClientCredentials(cfg).Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "status 500 {oops}") {
		t.Fatalf("500: %v", err)
	}
	// Waits of 5, 10 and 20ms, then what is left of the 60ms: at most 5 tries, and
	// at least one retry however slow the machine.
	if n := down.count(); n < 2 || n > 5 {
		t.Errorf("500: %d requests in %v", n, time.Since(start))
	}
}

func TestClientCredentialsBadResponses(t *testing.T) {
	for _, c := range []struct {
		status     int
		body, want string
	}{
		{200, `not json`, "the response is not JSON"},
		{200, `{"access_token":"x"`, "the response is not JSON"},
		{200, `[{"access_token":"x"}]`, "the response is not a JSON object"},
		{200, `"token"`, "the response is not a JSON object"},
		{200, `{"access_token":1}`, "the response's access_token is not a string"},
		{200, `{"access_token":{"value":"x"}}`, "the response's access_token is not a string"},
		{200, `{"token_type":"Bearer"}`, "no access_token"},
		{200, `{"access_token":"opaque-token"}`, "not a JWT"},
		{200, tokenBody(signedLike(map[string]any{"exp": 2e9})), "no sub claim"},
		{200, tokenBody(signedLike(map[string]any{"sub": "a"})), "no numeric exp"},
		{201, ``, "empty response"},
		{200, tokenBody("a b." + strings.Split(signedLike(map[string]any{"sub": "a", "exp": 2e9}), ".")[1] + ".sig"),
			"token endpoint: the token has a character ' ' outside RFC 6750's b64token"},
		{200, `{"access_token":"` + signedLike(map[string]any{"sub": "a", "exp": 2e9}) + `\u001b"}`, `character '\x1b' outside`},
	} {
		e := newEndpoint(t, func(int) (int, string) { return c.status, c.body })
		_, err := ClientCredentials(ClientCredentialsConfig{TokenURL: e.URL, ClientID: "i", ClientSecret: "s",
			RetryBackoffMax: -1}).Token(context.Background())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d %q: %v, want %q", c.status, c.body, err, c.want)
		}
	}
	// Claim names from sasl.oauthbearer.sub.claim.name and scope.claim.name.
	e := newEndpoint(t, func(int) (int, string) {
		return 200, tokenBody(signedLike(map[string]any{"client": "svc", "exp": 2e9, "scp": []string{"x"}}))
	})
	if _, err := ClientCredentials(ClientCredentialsConfig{TokenURL: e.URL, ClientID: "i", ClientSecret: "s",
		SubClaimName: "client", ScopeClaimName: "scp"}).Token(context.Background()); err != nil {
		t.Errorf("claim names: %v", err)
	}
	if _, err := ClientCredentials(ClientCredentialsConfig{TokenURL: e.URL}).Token(context.Background()); err == nil {
		t.Error("no client id and secret accepted")
	}
}

// TestClientCredentialsContext: a cancelled context stops the retries at once.
func TestClientCredentialsContext(t *testing.T) {
	e := newEndpoint(t, func(int) (int, string) { return 503, "" })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ClientCredentials(ClientCredentialsConfig{TokenURL: e.URL, ClientID: "i", ClientSecret: "s",
		RetryBackoff: 10 * time.Millisecond, RetryBackoffMax: time.Hour}).Token(ctx)
	if err == nil || time.Since(start) > 10*time.Second {
		t.Errorf("%v after %v", err, time.Since(start))
	}
}
