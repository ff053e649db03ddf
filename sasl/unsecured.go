package sasl

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UnsecuredTokenConfig describes the unsigned tokens UnsecuredToken makes; its fields
// are the options of Java's OAuthBearerLoginModule with its default, unsecured login
// callback handler (OAuthBearerUnsecuredLoginCallbackHandler).
type UnsecuredTokenConfig struct {
	// StringClaims are string claims (unsecuredLoginStringClaim_<name>); the principal
	// claim must be among them, e.g. {"sub": "alice"}.
	StringClaims map[string]string
	// NumberClaims are numeric claims (unsecuredLoginNumberClaim_<name>).
	NumberClaims map[string]float64
	// ListClaims are claims holding lists of strings (unsecuredLoginListClaim_<name>).
	ListClaims map[string][]string
	// PrincipalClaimName names the claim holding the principal
	// (unsecuredLoginPrincipalClaimName). Default "sub".
	PrincipalClaimName string
	// ScopeClaimName names the claim holding the scope, which must then be a string or
	// a list (unsecuredLoginScopeClaimName). Default "scope".
	ScopeClaimName string
	// Lifetime is how long a token is valid (unsecuredLoginLifetimeSeconds). Default 1h.
	Lifetime time.Duration
	// Extensions are SASL extensions sent with each token (unsecuredLoginExtension_<name>).
	Extensions map[string]string
}

// UnsecuredToken returns a source of unsigned JWTs (RFC 7515 with "alg":"none" and an
// empty signature) holding the configured claims plus iat and exp, as Java's
// OAuthBearerLoginModule makes them without a login callback handler. Brokers accept
// them only with the unsecured validator (OAuthBearerUnsecuredValidatorCallbackHandler):
// they are for tests and development. Every Token call makes a new token valid for
// Lifetime from then. A configuration Java refuses is an error here too, from Token.
func UnsecuredToken(cfg UnsecuredTokenConfig) TokenSource {
	return unsecured{cfg: cfg, now: time.Now}
}

type unsecured struct {
	cfg UnsecuredTokenConfig
	now func() time.Time
}

func (u unsecured) Token(context.Context) (Token, error) {
	c := u.cfg
	principal := cmp.Or(strings.TrimSpace(c.PrincipalClaimName), "sub")
	scope := cmp.Or(strings.TrimSpace(c.ScopeClaimName), "scope")
	lifetime := c.Lifetime
	if lifetime == 0 {
		lifetime = time.Hour
	}
	fail := func(format string, args ...any) (Token, error) {
		return Token{}, fmt.Errorf("kprod: sasl OAUTHBEARER unsecured token: "+format, args...)
	}
	if len(c.StringClaims)+len(c.NumberClaims)+len(c.ListClaims) == 0 {
		if len(c.Extensions) > 0 {
			return fail("extensions given without a token (no claims)")
		}
		return fail("no claims: give at least the principal claim %s (unsecuredLoginStringClaim_%s)", principal, principal)
	}
	if sub, ok := c.StringClaims[principal]; !ok || strings.TrimSpace(sub) == "" {
		return fail("the principal claim %s is missing or empty", principal)
	}
	if err := CheckExtensions(c.Extensions); err != nil {
		return Token{}, err
	}

	// Claims in Java's order: exp, iat, then the configured ones; a name given twice
	// keeps its first occurrence (encoding/json would otherwise sort and dedupe).
	now := u.now()
	var b strings.Builder
	seconds := func(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64) }
	b.WriteString(`{"exp":` + seconds(now.Add(lifetime)) + `,"iat":` + seconds(now))
	seen := map[string]bool{"exp": true, "iat": true}
	add := func(name string, value any) error {
		if name == "exp" || name == "iat" {
			return fmt.Errorf("kprod: sasl OAUTHBEARER unsecured token: cannot explicitly set the '%s' claim", name)
		}
		if seen[name] {
			return nil
		}
		seen[name] = true
		k, _ := json.Marshal(name)
		v, err := json.Marshal(value)
		if err != nil {
			return fmt.Errorf("kprod: sasl OAUTHBEARER unsecured token: claim %s: %v", name, err)
		}
		b.WriteString("," + string(k) + ":" + string(v))
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(c.StringClaims)) {
		if err := add(k, c.StringClaims[k]); err != nil {
			return Token{}, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.NumberClaims)) {
		if err := add(k, c.NumberClaims[k]); err != nil {
			return Token{}, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.ListClaims)) {
		list := c.ListClaims[k]
		if list == nil {
			list = []string{}
		}
		if err := add(k, list); err != nil {
			return Token{}, err
		}
	}
	b.WriteString("}")
	if _, isList := c.ListClaims[scope]; !isList && c.NumberClaims != nil {
		if _, isNumber := c.NumberClaims[scope]; isNumber {
			return fail("the scope claim %s must be a string or a list", scope)
		}
	}
	enc := base64.RawURLEncoding
	value := enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString([]byte(b.String())) + "."
	return Token{Value: value, Expiry: time.UnixMilli(now.Add(lifetime).UnixMilli()), Extensions: maps.Clone(c.Extensions)}, nil
}
