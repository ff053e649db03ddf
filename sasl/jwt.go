package sasl

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// jwtClaims reads a JWT's payload (RFC 7519) as Java's client checks a token from a
// token endpoint (ClientJwtValidator, formerly LoginAccessTokenValidator): exp is
// required, the subject claim (subClaim) is a non-empty string, the scope claim
// (scopeClaim) if present is a string or a list of strings. The signature is not
// checked (the broker does that); unlike Java an empty one is accepted, so that the
// unsigned tokens a broker's unsecured validator takes work too.
func jwtClaims(token, subClaim, scopeClaim string) (expiry time.Time, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return time.Time{}, errors.New("the access token is not a JWT of three dot-separated sections")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, errors.New("the access token's payload is not base64url")
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return time.Time{}, errors.New("the access token's payload is not a JSON object")
	}
	exp, ok := claims["exp"].(json.Number)
	if !ok {
		return time.Time{}, errors.New("the access token has no numeric exp claim")
	}
	secs, err := exp.Float64()
	if err != nil || math.IsInf(secs, 0) || secs <= 0 {
		return time.Time{}, errors.New("the access token's exp claim is not a positive number")
	}
	// In milliseconds it must fit an int64 (2^63 as a float64 is the first that does
	// not): beyond, the conversion below is undefined and gave an expiry 292 million
	// years in the past for exp=1e300. Java's Math.round would clamp; a token that
	// claims to outlive the year 292277026 is refused instead.
	if secs*1000 >= math.MaxInt64 {
		return time.Time{}, errors.New("the access token's exp claim is out of range")
	}
	if sub, ok := claims[subClaim].(string); !ok || strings.TrimSpace(sub) == "" {
		return time.Time{}, fmt.Errorf("the access token has no %s claim naming its subject", subClaim)
	}
	switch sc := claims[scopeClaim].(type) {
	case nil, string:
	case []any:
		for _, s := range sc {
			if v, ok := s.(string); !ok || strings.TrimSpace(v) == "" {
				return time.Time{}, fmt.Errorf("the access token's %s claim lists a blank or non-string scope", scopeClaim)
			}
		}
	default:
		return time.Time{}, fmt.Errorf("the access token's %s claim is neither a string nor a list", scopeClaim)
	}
	return time.UnixMilli(int64(secs * 1000)), nil
}
