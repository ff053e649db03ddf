package sasl

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Token is an OAuth 2 bearer token (RFC 6750) for OAUTHBEARER.
type Token struct {
	// Value is the token itself, usually a JWT.
	Value string
	// Expiry is when the token expires; zero if unknown. RefreshingToken replaces a
	// token before it expires; the broker ends a session no later than its token's
	// expiry, and the connection then re-authenticates (KIP-368).
	Expiry time.Time
	// Extensions are SASL extensions sent with the token (KIP-342), e.g. a cloud
	// provider's logical cluster id. Names are letters only and "auth" is reserved;
	// values are printable ASCII, space, tab, CR and LF.
	Extensions map[string]string
}

// String prints the token's expiry and extension names, never its value.
func (t Token) String() string {
	return fmt.Sprintf("Token(expiry=%s, extensions=%v)", t.Expiry.Format(time.RFC3339), slices.Sorted(maps.Keys(t.Extensions)))
}

// GoString is String.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb, so a token's value is never printed.
func (t Token) Format(f fmt.State, verb rune) { hidden(t.String()).Format(f, verb) }

// TokenSource supplies OAUTHBEARER tokens. It must be safe for concurrent use. Token is
// called for every authentication, so a source that fetches tokens remotely should
// cache them: RefreshingToken does, as ClientCredentials returns.
type TokenSource interface {
	// Token returns a token that is valid now, or why there is none; ctx bounds the
	// wait for one.
	Token(ctx context.Context) (Token, error)
}

// TokenSourceFunc adapts a function to TokenSource.
type TokenSourceFunc func(ctx context.Context) (Token, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (Token, error) { return f(ctx) }

// StaticToken returns a source that always supplies t, e.g. a token obtained by other
// means for a short-lived program. Once t expires, the broker refuses it.
func StaticToken(t Token) TokenSource {
	return TokenSourceFunc(func(context.Context) (Token, error) { return t, nil })
}

// oauthBearer is the OAUTHBEARER mechanism (RFC 7628, KIP-255).
type oauthBearer struct{ src TokenSource }

// OAuthBearer returns the OAUTHBEARER mechanism (RFC 7628, KIP-255), authenticating
// with tokens from src: UnsecuredToken for tests, ClientCredentials for an OAuth
// provider (KIP-768), or any TokenSource.
func OAuthBearer(src TokenSource) Mechanism { return &oauthBearer{src: src} }

func (*oauthBearer) Name() string { return "OAUTHBEARER" }

func (m *oauthBearer) String() string                { return "OAUTHBEARER" }
func (m *oauthBearer) GoString() string              { return m.String() }
func (m *oauthBearer) Format(f fmt.State, verb rune) { hidden(m.String()).Format(f, verb) }

// Authenticate gets a token and returns the client's first message
// "n,,\x01auth=Bearer <token>\x01[name=value\x01...]\x01" (RFC 7628 3.1; Java's
// OAuthBearerClientInitialResponse), extensions sorted by name.
func (m *oauthBearer) Authenticate(ctx context.Context, _ string) (Session, []byte, error) {
	if m.src == nil {
		return nil, nil, errors.New("kprod: sasl OAUTHBEARER: no token source")
	}
	t, err := m.src.Token(ctx)
	if err != nil {
		return nil, nil, tokenError{err}
	}
	if t.Value == "" {
		return nil, nil, errors.New("kprod: sasl OAUTHBEARER: the token source returned an empty token")
	}
	if err := checkToken(t.Value); err != nil {
		return nil, nil, fmt.Errorf("kprod: sasl OAUTHBEARER: %w", err)
	}
	if err := CheckExtensions(t.Extensions); err != nil {
		return nil, nil, err
	}
	var b strings.Builder
	b.WriteString("n,,\x01auth=Bearer ")
	b.WriteString(t.Value)
	for _, k := range slices.Sorted(maps.Keys(t.Extensions)) {
		b.WriteString("\x01" + k + "=" + t.Extensions[k])
	}
	b.WriteString("\x01\x01")
	return &oauthSession{}, []byte(b.String()), nil
}

// tokenError is a token source's failure, said once.
type tokenError struct{ err error }

func (e tokenError) Error() string {
	return "kprod: sasl OAUTHBEARER: getting a token: " + strings.TrimPrefix(e.err.Error(), "kprod: sasl OAUTHBEARER: ")
}

func (e tokenError) Unwrap() error { return e.err }

// checkToken applies Java's pattern for the token in auth=Bearer: RFC 6750's b64token.
// Its error is the bare reason; each caller says where the token came from.
func checkToken(v string) error {
	body := strings.TrimRight(v, "=")
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_~+/.", c) >= 0) {
			return fmt.Errorf("the token has a character %q outside RFC 6750's b64token", c)
		}
	}
	return nil
}

// CheckExtensions reports whether SASL extensions are valid for OAUTHBEARER (Java's
// OAuthBearerClientInitialResponse.validateExtensions): names of letters only, not
// "auth", values of printable ASCII, space, tab, CR or LF.
func CheckExtensions(ext map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(ext)) {
		if k == "auth" {
			return errors.New("kprod: sasl OAUTHBEARER: extension name auth is invalid")
		}
		if k == "" || strings.IndexFunc(k, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') }) >= 0 {
			return fmt.Errorf("kprod: sasl OAUTHBEARER: extension name %q is invalid: letters only", k)
		}
		v := ext[k]
		if v == "" || strings.IndexFunc(v, func(r rune) bool { return !(r >= 0x21 && r <= 0x7e || r == ' ' || r == '\t' || r == '\r' || r == '\n') }) >= 0 {
			return fmt.Errorf("kprod: sasl OAUTHBEARER: extension %s has an invalid value", k)
		}
	}
	return nil
}

// oauthSession ends on the broker's empty answer. A non-empty one is the broker's JSON
// error (RFC 7628 3.2.2), to which the client must answer "\x01"; the broker then
// fails the exchange with SASL_AUTHENTICATION_FAILED (Java's OAuthBearerSaslClient).
type oauthSession struct {
	step    int
	refusal string // the broker's JSON error, if any
}

func (s *oauthSession) Challenge(_ context.Context, msg []byte) (bool, []byte, error) {
	s.step++
	switch {
	case s.step == 1 && len(msg) > 0:
		s.refusal = string(msg)
		return false, []byte{1}, nil
	case s.step == 1:
		return true, nil, nil
	case s.refusal == "":
		// The exchange succeeded: there is no refusal to report.
		return true, nil, errDone
	}
	// The broker should have failed the exchange after the "\x01".
	return true, nil, fmt.Errorf("kprod: sasl OAUTHBEARER: the broker refused the token: %s", peerText(s.refusal))
}
