package testcluster

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// UnsecuredJWT returns an unsigned JWS (header {"alg":"none"}, empty signature) with the
// claims sub, iat and exp, and scope when given: what Java's OAuthBearerLoginModule makes
// from its unsecuredLoginStringClaim_sub option, and what the secure cluster's brokers
// (OAuthBearerUnsecuredValidatorCallbackHandler) accept until exp. sub is the principal.
//
// Java's KIP-768 client rejects such a token from a token endpoint before sending it (it
// wants three non-empty sections); use the OAUTH listener and SignedJWT for Java.
func UnsecuredJWT(sub string, issued time.Time, lifetime time.Duration, scope ...string) string {
	payload, _ := json.Marshal(claims(sub, issued, lifetime, scope))
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(payload) + "."
}

func claims(sub string, issued time.Time, lifetime time.Duration, scope []string) map[string]any {
	c := map[string]any{"sub": sub, "iat": issued.Unix(), "exp": issued.Add(lifetime).Unix()}
	if len(scope) > 0 {
		c["scope"] = strings.Join(scope, " ")
	}
	return c
}

// SignJWT returns a JWS (RFC 7515) with the claims, signed RS256 by key; kid names the key
// in the validator's JWK Set.
func SignJWT(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// OAuthSigner returns the PKI's OAuth signing key, which the OAUTH listener trusts.
func (s *SecureCluster) OAuthSigner(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(s.PKI("oauth-signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", s.PKI("oauth-signer.key"))
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", s.PKI("oauth-signer.key"), err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("%s: %T, want an RSA key", s.PKI("oauth-signer.key"), k)
	}
	return rk
}

// SignedJWT returns a token the OAUTH listener accepts until it expires: sub (the
// principal), iat, exp, the listener's aud and iss, and scope when given, signed by
// OAuthSigner.
func (s *SecureCluster) SignedJWT(t testing.TB, sub string, issued time.Time, lifetime time.Duration, scope ...string) string {
	t.Helper()
	c := claims(sub, issued, lifetime, scope)
	c["aud"], c["iss"] = s.OAuthAudience, s.OAuthIssuer
	tok, err := SignJWT(s.OAuthSigner(t), s.OAuthKeyID, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TokenEndpoint is a local OAuth 2 token endpoint for KIP-768 client-credentials tests
// (sasl.oauthbearer.token.endpoint.url). The brokers validate tokens, never endpoints, so
// any issuer of tokens the listener accepts works: this one answers a client-credentials
// grant from a known client with a token whose sub is the client id, so the principal is
// User:<clientID>. NewTokenEndpoint issues UnsecuredJWTs (SASL_PLAINTEXT and SASL_SSL);
// SecureCluster.TokenEndpoint issues SignedJWTs (OAUTH, and any Java client).
//
// A Java client also needs the URL allowed (Kafka 4.0+):
// -Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=URL, e.g. through JavaWith.
type TokenEndpoint struct {
	// URL is the token endpoint, http://127.0.0.1:PORT/token.
	URL string
	// Lifetime of the tokens it issues (expires_in and exp).
	Lifetime time.Duration

	clients map[string]string
	mint    func(sub string, now time.Time, scope []string) string
	issued  atomic.Int64
	denied  atomic.Int64
}

// NewTokenEndpoint serves unsecured tokens to the given clients (client id -> secret) until
// the test ends.
func NewTokenEndpoint(t testing.TB, clients map[string]string, lifetime time.Duration) *TokenEndpoint {
	return serveTokens(t, clients, lifetime, func(sub string, now time.Time, scope []string) string {
		return UnsecuredJWT(sub, now, lifetime, scope...)
	})
}

// TokenEndpoint serves tokens signed for the OAUTH listener (SignedJWT) to the given
// clients (client id -> secret) until the test ends.
func (s *SecureCluster) TokenEndpoint(t testing.TB, clients map[string]string, lifetime time.Duration) *TokenEndpoint {
	t.Helper()
	signer := s.OAuthSigner(t)
	return serveTokens(t, clients, lifetime, func(sub string, now time.Time, scope []string) string {
		c := claims(sub, now, lifetime, scope)
		c["aud"], c["iss"] = s.OAuthAudience, s.OAuthIssuer
		tok, err := SignJWT(signer, s.OAuthKeyID, c)
		if err != nil {
			panic(err) // RSA signing with a valid key does not fail
		}
		return tok
	})
}

func serveTokens(t testing.TB, clients map[string]string, lifetime time.Duration, mint func(string, time.Time, []string) string) *TokenEndpoint {
	e := &TokenEndpoint{Lifetime: lifetime, clients: clients, mint: mint}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", e.serve)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.URL = srv.URL + "/token"
	return e
}

// Issued is the number of tokens handed out; Denied the number of requests refused.
func (e *TokenEndpoint) Issued() int { return int(e.issued.Load()) }
func (e *TokenEndpoint) Denied() int { return int(e.denied.Load()) }

// serve follows RFC 6749 section 4.4: grant_type=client_credentials, the client
// authenticated by HTTP Basic (RFC 6749 2.3.1, form-encoded id and secret, as Java sends
// them) or by client_id and client_secret in the body; an optional scope is echoed.
func (e *TokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		e.fail(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	want, known := e.clients[id]
	if !known || subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 {
		e.fail(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	var scope []string
	if s := r.PostForm.Get("scope"); s != "" {
		scope = strings.Fields(s)
	}
	e.issued.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": e.mint(id, time.Now(), scope),
		"token_type":   "Bearer",
		"expires_in":   int(e.Lifetime.Seconds()),
	})
}

func (e *TokenEndpoint) fail(w http.ResponseWriter, status int, code string) {
	e.denied.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}
