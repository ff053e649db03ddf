package sasl

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ClientCredentialsConfig configures ClientCredentials: the KIP-768 properties of Java's
// OAuthBearerLoginCallbackHandler.
type ClientCredentialsConfig struct {
	// TokenURL is sasl.oauthbearer.token.endpoint.url, the OAuth provider's token
	// endpoint. Required.
	TokenURL string
	// ClientID and ClientSecret identify the client: sasl.oauthbearer.client.
	// credentials.client.id and .client.secret, or the JAAS options clientId and
	// clientSecret. Both required.
	ClientID, ClientSecret string
	// Scope is sasl.oauthbearer.scope (or the JAAS option scope); "" asks for none.
	Scope string
	// SubClaimName and ScopeClaimName name the token's subject and scope claims
	// (sasl.oauthbearer.sub.claim.name, sasl.oauthbearer.scope.claim.name). Defaults
	// "sub" and "scope".
	SubClaimName, ScopeClaimName string
	// URLEncodeHeader is sasl.oauthbearer.header.urlencode: URL-encode the client id
	// and secret in the Basic authorization header (RFC 6749 2.3.1). Default false,
	// as Java since Kafka 4.0 (KIP-1025).
	URLEncodeHeader bool
	// ConnectTimeout and ReadTimeout are sasl.login.connect.timeout.ms and
	// sasl.login.read.timeout.ms; 0 means none beyond the caller's context.
	ConnectTimeout, ReadTimeout time.Duration
	// RetryBackoff and RetryBackoffMax are sasl.login.retry.backoff.ms and .max.ms: a
	// failed request is retried after RetryBackoff, doubling, until RetryBackoffMax has
	// passed since the first attempt. Defaults 100ms and 10s; negative means 0.
	RetryBackoff, RetryBackoffMax time.Duration
	// Extensions are SASL extensions sent with each token (the JAAS options
	// extension_<name>, KIP-342).
	Extensions map[string]string
	// Refresh says when a token is replaced (the sasl.login.refresh.* properties).
	Refresh Refresh
	// HTTPClient sends the requests, e.g. with TLS settings for the endpoint. Default:
	// a client that honours ConnectTimeout and ReadTimeout, with proxies from the
	// environment and no kept-alive connections (tokens are fetched rarely).
	HTTPClient *http.Client
}

// String prints the configuration without the client secret.
func (c ClientCredentialsConfig) String() string {
	return fmt.Sprintf("ClientCredentialsConfig(url=%s, client=%s, scope=%q)", c.TokenURL, c.ClientID, c.Scope)
}

// GoString is String.
func (c ClientCredentialsConfig) GoString() string { return c.String() }

// Format prints String for every verb, so the secret is never printed.
func (c ClientCredentialsConfig) Format(f fmt.State, verb rune) { hidden(c.String()).Format(f, verb) }

// ClientCredentials returns a source of tokens from an OAuth 2 token endpoint with the
// client credentials grant (RFC 6749 4.4, KIP-768), cached and refreshed by
// RefreshingToken with cfg.Refresh. Each request is a POST of
// grant_type=client_credentials (and scope) with the client id and secret in a Basic
// authorization header, as Java sends it; the response's access_token must be a JWT
// with exp and a subject claim, and exp is the token's expiry. An endpoint answering
// 4xx (other than 408 and 429) or 505 is not retried, as in Java.
func ClientCredentials(cfg ClientCredentialsConfig) TokenSource {
	return RefreshingToken(&clientCredentials{cfg: cfg}, cfg.Refresh)
}

type clientCredentials struct{ cfg ClientCredentialsConfig }

// errUnretryable marks a response that retrying cannot change.
type errUnretryable struct{ error }

func (s *clientCredentials) Token(ctx context.Context) (Token, error) {
	c := s.cfg
	if c.TokenURL == "" || strings.TrimSpace(c.ClientID) == "" || strings.TrimSpace(c.ClientSecret) == "" {
		return Token{}, errors.New("kprod: sasl OAUTHBEARER: client credentials need a token endpoint URL, a client id and a client secret")
	}
	if err := CheckExtensions(c.Extensions); err != nil {
		return Token{}, err
	}
	backoff, backoffMax := orDefault(c.RetryBackoff, 100*time.Millisecond), orDefault(c.RetryBackoffMax, 10*time.Second)

	// Java's Retry: attempts until RetryBackoffMax has passed since the first, waiting
	// RetryBackoff * 2^(n-1) (but never past that end) after the n-th failure.
	end := time.Now().Add(backoffMax)
	var firstErr error
	for attempt := 1; ; attempt++ {
		body, err := s.post(ctx)
		if err == nil {
			return s.token(body)
		}
		if firstErr == nil {
			firstErr = err
		}
		var u errUnretryable
		if errors.As(err, &u) || ctx.Err() != nil {
			break
		}
		wait := min(backoff<<(attempt-1), time.Until(end))
		if wait <= 0 || backoff<<(attempt-1) <= 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Token{}, fmt.Errorf("kprod: sasl OAUTHBEARER: token endpoint: %w (then %w)", firstErr, ctx.Err())
		}
	}
	return Token{}, fmt.Errorf("kprod: sasl OAUTHBEARER: token endpoint: %w", firstErr)
}

func (s *clientCredentials) post(ctx context.Context) ([]byte, error) {
	c := s.cfg
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope := strings.TrimSpace(c.Scope); scope != "" {
		form.Set("scope", scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errUnretryable{fmt.Errorf("bad token endpoint URL: %v", err)}
	}
	id, secret := strings.TrimSpace(c.ClientID), strings.TrimSpace(c.ClientSecret)
	if c.URLEncodeHeader {
		id, secret = url.QueryEscape(id), url.QueryEscape(secret)
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-cache")

	resp, err := s.client().Do(req)
	if err != nil {
		return nil, err // the client's error names the URL, never the header
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the response: %v", err)
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
		if len(body) == 0 {
			return nil, fmt.Errorf("empty response despite status %d", resp.StatusCode)
		}
		return body, nil
	}
	// RFC 6749 5.2: the error response holds no secret, so it may be shown.
	err = fmt.Errorf("status %d %s", resp.StatusCode, oauthError(body))
	if unretryableStatus(resp.StatusCode) {
		return nil, errUnretryable{err}
	}
	return nil, err
}

func (s *clientCredentials) client() *http.Client {
	if s.cfg.HTTPClient != nil {
		return s.cfg.HTTPClient
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = true // no idle connection outlives the fetch
	t.DialContext = (&net.Dialer{Timeout: s.cfg.ConnectTimeout}).DialContext
	t.ResponseHeaderTimeout = s.cfg.ReadTimeout
	return &http.Client{Transport: t}
}

// unretryableStatus is Java's HttpAccessTokenRetriever.UNRETRYABLE_HTTP_CODES.
func unretryableStatus(code int) bool {
	switch code {
	case 400, 401, 402, 403, 404, 405, 406, 407, 409, 410, 411, 412, 413, 414, 415, 501, 505:
		return true
	}
	return false
}

// oauthError summarises an error response as Java does: {error - error_description}.
func oauthError(body []byte) string {
	var e struct {
		Error       any `json:"error"`
		Description any `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != nil {
		if e.Description == nil {
			return "{" + peerText(fmt.Sprint(e.Error)) + "}"
		}
		return "{" + peerText(fmt.Sprintf("%v - %v", e.Error, e.Description)) + "}"
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		return "{" + peerText(s) + "}"
	}
	return "{}"
}

// token reads the access token from a successful response and checks it.
func (s *clientCredentials) token(body []byte) (Token, error) {
	var r struct {
		AccessToken *string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		// Say which: JSON of the wrong shape is not "not JSON".
		var typeErr *json.UnmarshalTypeError
		switch {
		case !json.Valid(body):
			return Token{}, errors.New("kprod: sasl OAUTHBEARER: token endpoint: the response is not JSON")
		case errors.As(err, &typeErr) && typeErr.Field == "access_token":
			return Token{}, errors.New("kprod: sasl OAUTHBEARER: token endpoint: the response's access_token is not a string")
		}
		return Token{}, errors.New("kprod: sasl OAUTHBEARER: token endpoint: the response is not a JSON object")
	}
	if r.AccessToken == nil || strings.TrimSpace(*r.AccessToken) == "" {
		return Token{}, errors.New("kprod: sasl OAUTHBEARER: token endpoint: the response has no access_token")
	}
	value := strings.TrimSpace(*r.AccessToken)
	expiry, err := jwtClaims(value, cmpOr(s.cfg.SubClaimName, "sub"), cmpOr(s.cfg.ScopeClaimName, "scope"))
	if err != nil {
		return Token{}, fmt.Errorf("kprod: sasl OAUTHBEARER: token endpoint: %v", err)
	}
	// jwtClaims reads only the payload: a header or signature with a character
	// OAUTHBEARER cannot send would otherwise be cached by RefreshingToken and fail
	// every authentication until its refresh, as a token error rather than the
	// endpoint's.
	if err := checkToken(value); err != nil {
		return Token{}, fmt.Errorf("kprod: sasl OAUTHBEARER: token endpoint: %w", err)
	}
	return Token{Value: value, Expiry: expiry, Extensions: maps.Clone(s.cfg.Extensions)}, nil
}

func cmpOr(s, def string) string {
	if s = strings.TrimSpace(s); s == "" {
		return def
	}
	return s
}
