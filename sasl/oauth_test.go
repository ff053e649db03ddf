package sasl

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPlainMessage(t *testing.T) {
	s, msg, err := Plain("alice", "alice-secret").Authenticate(context.Background(), "b:1")
	if err != nil || string(msg) != "\x00alice\x00alice-secret" {
		t.Fatalf("%q %v", msg, err)
	}
	if done, resp, err := s.Challenge(context.Background(), nil); !done || resp != nil || err != nil {
		t.Errorf("Challenge: %v %q %v", done, resp, err)
	}
}

// TestOAuthBearerMessage: the client's first message is exactly what Java's
// OAuthBearerClientInitialResponse writes.
func TestOAuthBearerMessage(t *testing.T) {
	cases := []struct {
		tok  Token
		want string
	}{
		{Token{Value: "abc.def."}, "n,,\x01auth=Bearer abc.def.\x01\x01"},
		{Token{Value: "a-b_c~d+e/f.g==", Extensions: map[string]string{"traceId": "x 1", "cluster": "lkc-1"}},
			"n,,\x01auth=Bearer a-b_c~d+e/f.g==\x01cluster=lkc-1\x01traceId=x 1\x01\x01"},
	}
	for _, c := range cases {
		s, msg, err := OAuthBearer(StaticToken(c.tok)).Authenticate(context.Background(), "b:1")
		if err != nil || string(msg) != c.want {
			t.Errorf("%q %v, want %q", msg, err, c.want)
			continue
		}
		if done, resp, err := s.Challenge(context.Background(), nil); !done || resp != nil || err != nil {
			t.Errorf("success: %v %q %v", done, resp, err)
		}
		// Asked to go on after success, the session says so, not that the broker
		// refused the token.
		if done, _, err := s.Challenge(context.Background(), []byte("x")); !done || err != errDone {
			t.Errorf("after success: %v %v", done, err)
		}
	}
}

// TestOAuthBearerRefusal: the broker's JSON error gets "\x01" in answer, as RFC 7628
// 3.2.3 and Java's client do; the broker then fails the exchange.
func TestOAuthBearerRefusal(t *testing.T) {
	s, _, err := OAuthBearer(StaticToken(Token{Value: "t"})).Authenticate(context.Background(), "b:1")
	if err != nil {
		t.Fatal(err)
	}
	done, resp, err := s.Challenge(context.Background(), []byte(`{"status":"invalid_token"}`))
	if done || string(resp) != "\x01" || err != nil {
		t.Fatalf("refusal: %v %q %v", done, resp, err)
	}
	if _, _, err := s.Challenge(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "invalid_token") {
		t.Errorf("after the refusal: %v", err)
	}
}

// TestPeerText: a peer's text in an error is kept as it is when short and printable,
// else quoted with Go escapes, and cut after 200 bytes on a character boundary.
func TestPeerText(t *testing.T) {
	long := strings.Repeat("x", 199) + "é" + "tail"
	for _, c := range []struct{ in, want string }{
		{"invalid-proof", "invalid-proof"},
		{`{"status":"invalid_token"}`, `{"status":"invalid_token"}`},
		{"", `""`},
		{"\x1b[31mred", `"\x1b[31mred"`},
		{"a\nb", `"a\nb"`},
		{"\xff\xfe", `"\xff\xfe"`},
		{"\u202eevil", `"\u202eevil"`},
		{strings.Repeat("y", 300), strings.Repeat("y", 200) + "..."},
		{long, strings.Repeat("x", 199) + "..."},
	} {
		if got := peerText(c.in); got != c.want {
			t.Errorf("peerText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Where it is used: a SCRAM server error, an OAUTHBEARER refusal, an OAuth error
	// response.
	v := scramVectors[0]
	s, _, _ := v.scramWith(v.password).Authenticate(context.Background(), "b:1")
	s.Challenge(context.Background(), []byte(v.serverFirst))
	if _, _, err := s.Challenge(context.Background(), []byte("e=\x1b[2J")); err == nil || !strings.HasSuffix(err.Error(), `server error: "\x1b[2J"`) {
		t.Errorf("SCRAM server error: %v", err)
	}
	o, _, _ := OAuthBearer(StaticToken(Token{Value: "t"})).Authenticate(context.Background(), "b:1")
	o.Challenge(context.Background(), []byte("\x00"+strings.Repeat("z", 1<<20)))
	if _, _, err := o.Challenge(context.Background(), nil); err == nil || len(err.Error()) > 300 || !strings.Contains(err.Error(), `refused the token: "\x00zzz`) {
		t.Errorf("OAUTHBEARER refusal: %.400v", err)
	}
	for body, want := range map[string]string{
		`{"error":"\u001b[2J"}`:                        `{"\x1b[2J"}`,
		`{"error":"` + strings.Repeat("q", 999) + `"}`: "{" + strings.Repeat("q", 200) + "...}",
		"":     "{}",
		"oops": "{oops}",
		"\x07": `{"\a"}`,
	} {
		if got := oauthError([]byte(body)); got != want {
			t.Errorf("oauthError(%.40q) = %.300q, want %.300q", body, got, want)
		}
	}
}

func TestOAuthBearerRejects(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		src  TokenSource
		want string
	}{
		{nil, "no token source"},
		{TokenSourceFunc(func(context.Context) (Token, error) { return Token{}, boom }), "boom"},
		{StaticToken(Token{}), "empty token"},
		{StaticToken(Token{Value: "a b"}), "b64token"},
		{StaticToken(Token{Value: "t", Extensions: map[string]string{"auth": "x"}}), "auth is invalid"},
		{StaticToken(Token{Value: "t", Extensions: map[string]string{"a1": "x"}}), "letters only"},
		{StaticToken(Token{Value: "t", Extensions: map[string]string{"a": "é"}}), "invalid value"},
		{StaticToken(Token{Value: "t", Extensions: map[string]string{"a": ""}}), "invalid value"},
	}
	for _, c := range cases {
		_, _, err := OAuthBearer(c.src).Authenticate(context.Background(), "b:1")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.src, err, c.want)
		}
	}
	if err := CheckExtensions(map[string]string{"traceId": "ok\t\r\n ~"}); err != nil {
		t.Error(err)
	}
}

// jwtPart decodes one section of a JWT.
func jwtPart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d sections", tok, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestUnsecuredToken: an unsigned JWS, header {"alg":"none"}, claims iat and exp (now
// and now + lifetime, in seconds) and the configured ones, empty signature: what Java's
// OAuthBearerUnsecuredLoginCallbackHandler makes and the unsecured validator takes.
func TestUnsecuredToken(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_250)
	src := unsecured{now: func() time.Time { return now }, cfg: UnsecuredTokenConfig{
		StringClaims: map[string]string{"sub": "alice", "scope": "read write"},
		NumberClaims: map[string]float64{"n": 1.5},
		ListClaims:   map[string][]string{"groups": {"a", "b"}},
		Lifetime:     90 * time.Second,
		Extensions:   map[string]string{"traceId": "t1"},
	}}
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok.Value, ".")
	if len(parts) != 3 || parts[2] != "" {
		t.Fatalf("token %q: want an empty signature", tok.Value)
	}
	if h := jwtPart(t, tok.Value, 0); fmt.Sprint(h) != "map[alg:none]" {
		t.Errorf("header %v", h)
	}
	c := jwtPart(t, tok.Value, 1)
	want := map[string]any{"sub": "alice", "scope": "read write", "n": 1.5, "groups": []any{"a", "b"},
		"iat": 1_700_000_000.25, "exp": 1_700_000_090.25}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("claims %v\nwant   %v", c, want)
	}
	if !tok.Expiry.Equal(now.Add(90*time.Second)) || tok.Extensions["traceId"] != "t1" {
		t.Errorf("token %v", tok)
	}
	if _, err := jwtClaims(tok.Value, "sub", "scope"); err != nil {
		t.Errorf("our own token does not pass the client check: %v", err)
	}

	// Defaults: principal claim sub, lifetime one hour.
	tok, err = UnsecuredToken(UnsecuredTokenConfig{StringClaims: map[string]string{"sub": "bob"}}).Token(context.Background())
	if err != nil || time.Until(tok.Expiry) < 59*time.Minute || time.Until(tok.Expiry) > time.Hour {
		t.Errorf("default lifetime: %v %v", tok, err)
	}
	tok, err = UnsecuredToken(UnsecuredTokenConfig{PrincipalClaimName: "user", StringClaims: map[string]string{"user": "carol"}}).Token(context.Background())
	if err != nil || jwtPart(t, tok.Value, 1)["user"] != "carol" {
		t.Errorf("principal claim name: %v %v", tok, err)
	}
}

func TestUnsecuredTokenRejects(t *testing.T) {
	cases := []struct {
		cfg  UnsecuredTokenConfig
		want string
	}{
		{UnsecuredTokenConfig{}, "no claims"},
		{UnsecuredTokenConfig{Extensions: map[string]string{"a": "b"}}, "extensions given without a token"},
		{UnsecuredTokenConfig{StringClaims: map[string]string{"name": "x"}}, "principal claim sub is missing"},
		{UnsecuredTokenConfig{StringClaims: map[string]string{"sub": " "}}, "principal claim sub is missing"},
		{UnsecuredTokenConfig{StringClaims: map[string]string{"sub": "a", "exp": "1"}}, "cannot explicitly set the 'exp' claim"},
		{UnsecuredTokenConfig{StringClaims: map[string]string{"sub": "a"}, NumberClaims: map[string]float64{"iat": 1}}, "'iat'"},
		{UnsecuredTokenConfig{StringClaims: map[string]string{"sub": "a"}, NumberClaims: map[string]float64{"scope": 1}}, "must be a string or a list"},
		{UnsecuredTokenConfig{StringClaims: map[string]string{"sub": "a"}, Extensions: map[string]string{"auth": "x"}}, "auth is invalid"},
	}
	for _, c := range cases {
		_, err := UnsecuredToken(c.cfg).Token(context.Background())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestJWTClaims(t *testing.T) {
	enc := func(claims string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." +
			base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".c2ln"
	}
	exp, err := jwtClaims(enc(`{"sub":"a","exp":1700000000,"scope":["x"]}`), "sub", "scope")
	if err != nil || !exp.Equal(time.Unix(1_700_000_000, 0)) {
		t.Errorf("%v %v", exp, err)
	}
	// A far exp that still fits in milliseconds.
	if exp, err := jwtClaims(enc(`{"sub":"a","exp":9e15}`), "sub", "scope"); err != nil || exp.UnixMilli() != 9e18 {
		t.Errorf("largest exp: %v %v", exp, err)
	}
	if _, err := jwtClaims(enc(`{"user":"a","exp":1.7e9}`), "user", "scope"); err != nil {
		t.Errorf("sub claim name: %v", err)
	}
	for _, c := range []struct{ tok, want string }{
		{"opaque", "three dot-separated"},
		{"a..c", "three dot-separated"},
		{"a.!!.c", "not base64url"},
		{enc(`[1]`), "not a JSON object"},
		{enc(`{"sub":"a"}`), "no numeric exp"},
		{enc(`{"sub":"a","exp":"1"}`), "no numeric exp"},
		{enc(`{"sub":"a","exp":-1}`), "not a positive number"},
		{enc(`{"sub":"a","exp":1e300}`), "exp claim is out of range"},
		{enc(`{"sub":"a","exp":9223372036854775.807}`), "exp claim is out of range"}, // MaxInt64 ms, rounded up to 2^63
		{enc(`{"exp":1}`), "no sub claim"},
		{enc(`{"sub":"","exp":1}`), "no sub claim"},
		{enc(`{"sub":"a","exp":1,"scope":5}`), "neither a string nor a list"},
		{enc(`{"sub":"a","exp":1,"scope":["x",""]}`), "blank or non-string"},
	} {
		if _, err := jwtClaims(c.tok, "sub", "scope"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.tok, err, c.want)
		}
	}
}

// TestSecretsNeverPrinted: every verb, on the values and inside structs.
func TestSecretsNeverPrinted(t *testing.T) {
	const pw = "s3cret-pw"
	values := []any{
		Plain("alice", pw), ScramSHA256("alice", pw), ScramSHA512("alice", pw), ScramSHA512Token("id", pw),
		OAuthBearer(StaticToken(Token{Value: pw})), Token{Value: pw},
		ClientCredentialsConfig{TokenURL: "http://x", ClientID: "id", ClientSecret: pw},
	}
	type holder struct {
		M Mechanism
		m Mechanism
		T Token
	}
	for _, v := range values {
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			for _, out := range []string{fmt.Sprintf(f, v), fmt.Sprintf(f, holder{M: Plain("u", pw), m: ScramSHA256("u", pw), T: Token{Value: pw}}),
				fmt.Sprintf(f, []any{v})} {
				if strings.Contains(out, pw) || strings.Contains(out, fmt.Sprintf("%x", pw)) {
					t.Errorf("%s of %T shows the secret: %s", f, v, out)
				}
			}
		}
	}
	if got := fmt.Sprint(ScramSHA512("alice", pw)); got != "SCRAM-SHA-512(user=alice)" {
		t.Errorf("String = %q", got)
	}
}
