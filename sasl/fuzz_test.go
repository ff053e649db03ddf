package sasl

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"encoding/base64"
	"encoding/json"
	"hash"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The fuzz targets feed what a broker or a token endpoint sends: any bytes must give
// either what the exchange is for, checked against a computation written here apart
// from the package's, or an error that names the cause and can be logged as it is.

// maxErrText bounds an error's text: a hostile peer's bytes must not flood a log.
const maxErrText = 1024

// checkErr fails unless err starts with prefix, names one of causes, and is fit for a
// log line: valid UTF-8 without control characters (no terminal escapes from a
// peer), at most maxErrText bytes.
func checkErr(t *testing.T, err error, prefix string, causes ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		t.Fatalf("error %q does not start with %q", msg, prefix)
	}
	named := false
	for _, c := range causes {
		named = named || strings.Contains(msg, c)
	}
	if !named {
		t.Fatalf("error %q names none of the causes %q", msg, causes)
	}
	if len(msg) > maxErrText || !utf8.ValidString(msg) || strings.ContainsFunc(msg, unicode.IsControl) {
		t.Fatalf("error text unfit for a log (%d bytes): %q", len(msg), msg)
	}
}

// inBase64Alphabet reports whether s holds only RFC 4648's base64 alphabet and
// padding: what a SCRAM salt or verifier may be, with no line breaks (RFC 4648 3.3).
func inBase64Alphabet(s string) bool {
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// firstAttr is the value of a SCRAM message's first attribute named key (RFC 5802 5.1),
// read here apart from scramAttrs.
func firstAttr(msg string, key byte) (string, bool) {
	for rest := msg; ; {
		part, after, more := strings.Cut(rest, ",")
		if len(part) >= 2 && part[0] == key && part[1] == '=' {
			return part[2:], true
		}
		if !more {
			return "", false
		}
		rest = after
	}
}

const (
	fuzzScramUser     = "user"
	fuzzScramPassword = "pencil"
	fuzzScramNonce    = "rOprNGfwEbeRWgbNEkqO" // RFC 7677's client nonce
	// fuzzServerFirst is RFC 7677's server-first message, valid for either hash.
	fuzzServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)

// fuzzScram is SCRAM-SHA-256 or -512 with the fixed client nonce.
func fuzzScram(sha512 bool) *scram {
	m := ScramSHA256(fuzzScramUser, fuzzScramPassword)
	if sha512 {
		m = ScramSHA512(fuzzScramUser, fuzzScramPassword)
	}
	s := m.(*scram)
	s.nonce = fixedNonce(fuzzScramNonce)
	return s
}

func hmacOf(h func() hash.Hash, key []byte, msg string) []byte {
	mac := hmac.New(h, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

// scramExpect computes, from a server-first message the client accepted, the
// client-final message and the server's verifier RFC 5802 3 gives, with the standard
// library's PBKDF2 and the iteration count the message asks for.
func scramExpect(t testing.TB, h func() hash.Hash, serverFirst string) (clientFinal string, verifier []byte) {
	t.Helper()
	nonce, _ := firstAttr(serverFirst, 'r')
	salt64, _ := firstAttr(serverFirst, 's')
	iter, _ := firstAttr(serverFirst, 'i')
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || !inBase64Alphabet(salt64) {
		t.Fatalf("accepted a salt that is not base64: %q", serverFirst)
	}
	iterations, err := strconv.Atoi(iter)
	if err != nil {
		t.Fatalf("accepted an iteration count that is not a number: %q", serverFirst)
	}
	if iterations < scramMinIterations || iterations > scramMaxIterations {
		t.Fatalf("a proof was computed for %d iterations, outside [%d, %d]: %q",
			iterations, scramMinIterations, scramMaxIterations, serverFirst)
	}
	if !strings.HasPrefix(nonce, fuzzScramNonce) || len(nonce) == len(fuzzScramNonce) {
		t.Fatalf("accepted a server nonce %q that does not extend the client's", nonce)
	}
	salted, err := pbkdf2.Key(h, fuzzScramPassword, salt, iterations, h().Size())
	if err != nil {
		t.Fatal(err)
	}
	finalNoProof := "c=biws,r=" + nonce
	authMessage := "n=" + fuzzScramUser + ",r=" + fuzzScramNonce + "," + serverFirst + "," + finalNoProof
	clientKey := hmacOf(h, salted, "Client Key")
	d := h()
	d.Write(clientKey)
	proof := hmacOf(h, d.Sum(nil), authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	return finalNoProof + ",p=" + base64.StdEncoding.EncodeToString(proof), hmacOf(h, hmacOf(h, salted, "Server Key"), authMessage)
}

// scramServerFirstCauses are what an error for a server-first message may name.
var scramServerFirstCauses = []string{
	"no nonce (r=)", "no salt (s=)", "no iteration count (i=)",
	"does not extend the client nonce", "malformed salt", "malformed iteration count",
	"less than the minimum", "more than the maximum",
}

// FuzzScramServerFirst: a server-first message is refused with its cause, or answered
// with exactly the proof RFC 5802 gives for it, computed with an iteration count
// within the bounds; the exchange then succeeds on the right verifier. A session
// that refused the message accepts no server-final afterwards.
func FuzzScramServerFirst(f *testing.F) {
	for _, v := range scramVectors {
		f.Add(v.serverFirst, false)
	}
	valid := []string{
		fuzzServerFirst,
		strings.Replace(fuzzServerFirst, "i=4096", "i=100000", 1),
		strings.Replace(fuzzServerFirst, "i=4096", "i=+4096", 1),
		"i=4096,s=QSXCR+Q6sek8bf92,r=rOprNGfwEbeRWgbNEkqOx",      // any order
		fuzzServerFirst + ",m=ext,x=y",                           // a reserved m= and extensions
		"r=rOprNGfwEbeRWgbNEkqOx,r=other,s=AA==,s=!!,i=4096,i=1", // the first of each counts
	}
	invalid := []string{
		"", ",", "r=", "e=other-error", "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		strings.Replace(fuzzServerFirst, "r=rOpr", "r=XXpr", 1),
		strings.Replace(fuzzServerFirst, "i=4096", "i=4095", 1),
		strings.Replace(fuzzServerFirst, "i=4096", "i=100001", 1),
		strings.Replace(fuzzServerFirst, "i=4096", "i=2000000000", 1),
		strings.Replace(fuzzServerFirst, "i=4096", "i=99999999999999999999", 1),
		strings.Replace(fuzzServerFirst, "i=4096", "i=-4096", 1),
		strings.Replace(fuzzServerFirst, "i=4096", "i=0x1000", 1),
		"r=rOprNGfwEbeRWgbNEkqOx,i=4096",
		"r=rOprNGfwEbeRWgbNEkqOx,s=!!,i=4096",
		"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=x",
		"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==",
	}
	for _, m := range append(valid, invalid...) {
		f.Add(m, false)
		f.Add(m, true)
	}
	for _, n := range []int{1, 2, 20, 40, 60, 70, 83, 85, len(fuzzServerFirst) - 1} {
		f.Add(fuzzServerFirst[:n], false)
	}
	f.Fuzz(func(t *testing.T, serverFirst string, sha512 bool) {
		ctx := context.Background()
		m := fuzzScram(sha512)
		s, _, err := m.Authenticate(ctx, "b:1")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		done, final, err := s.Challenge(ctx, []byte(serverFirst))
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("the server-first message took %v", d)
		}
		if err != nil {
			checkErr(t, err, "kprod: sasl "+m.name+": ", scramServerFirstCauses...)
			if strings.Contains(err.Error(), fuzzScramPassword) {
				t.Fatalf("the error shows the password: %v", err)
			}
			// Having taken no server-first message, the session knows no salted
			// password: the verifier it would then expect is one anybody can compute.
			forged := "v=" + base64.StdEncoding.EncodeToString(hmacOf(m.hash, hmacOf(m.hash, nil, "Server Key"), ""))
			if _, _, err := s.Challenge(ctx, []byte(forged)); err == nil {
				t.Fatalf("after refusing %q, the session accepted a forged server-final", serverFirst)
			}
			return
		}
		if done {
			t.Fatal("done after the server-first message")
		}
		want, verifier := scramExpect(t, m.hash, serverFirst)
		if string(final) != want {
			t.Fatalf("client-final %q, want %q", final, want)
		}
		done, resp, err := s.Challenge(ctx, []byte("v="+base64.StdEncoding.EncodeToString(verifier)))
		if err != nil || !done || resp != nil {
			t.Fatalf("the right verifier: done=%v %q %v", done, resp, err)
		}
	})
}

// scramServerFinalCauses are what an error for a server-final message may name.
var scramServerFinalCauses = []string{
	"server error", "no verifier (v=)", "verifier (v=) is not base64", "an empty verifier (v=)", "invalid server signature",
}

// FuzzScramServerFinal: after a valid server-first message, a server-final message is
// accepted only if it carries the right verifier (computed here with the standard
// library), and nothing follows the exchange.
func FuzzScramServerFinal(f *testing.F) {
	ctx := context.Background()
	var base [2]scramSession // the session after fuzzServerFirst, per hash
	var verifier [2][]byte   // the right verifier, per hash
	var right [2]string      // the right server-final message, per hash
	for i, sha512 := range []bool{false, true} {
		s, _, err := fuzzScram(sha512).Authenticate(ctx, "b:1")
		if err != nil {
			f.Fatal(err)
		}
		if _, _, err := s.Challenge(ctx, []byte(fuzzServerFirst)); err != nil {
			f.Fatal(err)
		}
		base[i] = *s.(*scramSession)
		_, verifier[i] = scramExpect(f, base[i].m.hash, fuzzServerFirst)
		right[i] = "v=" + base64.StdEncoding.EncodeToString(verifier[i])
	}
	if right[0] != scramVectors[0].serverFinal {
		f.Fatalf("the computed SHA-256 verifier %s is not RFC 7677's", right[0])
	}
	for i, sha512 := range []bool{false, true} {
		r, other := right[i], right[1-i]
		for _, m := range []string{
			r, r + ",x=1", "x=1," + r, r + "\n", r[:10] + "\r\n" + r[10:], r + ",v=AAAA", r + ",e=late", "e=first," + r,
			r[:len(r)-1], r[:len(r)-2], r[:10], "v=" + strings.Repeat("A", len(r)-3) + "=",
			other, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
			"", "v=", "v=!!", "e=", "e=invalid-proof", "e=\x1b[31mred", "x=1", ",", "v",
		} {
			f.Add(m, sha512)
		}
	}
	f.Fuzz(func(t *testing.T, serverFinal string, sha512 bool) {
		i := 0
		if sha512 {
			i = 1
		}
		s := base[i] // a copy: the shared state is read only
		done, resp, err := s.Challenge(ctx, []byte(serverFinal))
		if err == nil {
			// The verifier's bytes count: base64 may spell them more than one way.
			v, hasV := firstAttr(serverFinal, 'v')
			_, hasE := firstAttr(serverFinal, 'e')
			got, verr := base64.StdEncoding.DecodeString(v)
			if !done || resp != nil || !hasV || hasE || verr != nil || !inBase64Alphabet(v) || !bytes.Equal(got, verifier[i]) {
				t.Fatalf("accepted %q (done=%v %q), the right one is %q", serverFinal, done, resp, right[i])
			}
		} else {
			checkErr(t, err, "kprod: sasl "+s.m.name+": ", scramServerFinalCauses...)
		}
		if _, _, err := s.Challenge(ctx, []byte(right[i])); err == nil {
			t.Fatal("a challenge after the server-final message succeeded")
		}
	})
}

// FuzzOAuthServerResponse: the broker's first answer either ends the exchange (empty)
// or is its refusal, answered with "\x01"; no second answer makes the client report
// success, and the error for it names the cause.
func FuzzOAuthServerResponse(f *testing.F) {
	for _, m := range []string{
		"", `{"status":"invalid_token"}`,
		`{"status":"invalid_token","scope":"kafka","openid-configuration":"https://idp/.well-known/openid-configuration"}`,
		`{"status":"invalid_token"`, `{}`, `null`, `[1]`, "\x00", "\x01", "\x1b[2J", "\xff\xfe",
		strings.Repeat(`{"status":"`, 200),
	} {
		f.Add([]byte(m), []byte(nil))
		f.Add([]byte(m), []byte(m))
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		ctx := context.Background()
		s, _, err := OAuthBearer(StaticToken(Token{Value: "t"})).Authenticate(ctx, "b:1")
		if err != nil {
			t.Fatal(err)
		}
		done, resp, err := s.Challenge(ctx, bytes.Clone(first))
		switch {
		case len(first) == 0 && (!done || resp != nil || err != nil):
			t.Fatalf("empty answer: done=%v %q %v", done, resp, err)
		case len(first) > 0 && (done || string(resp) != "\x01" || err != nil):
			t.Fatalf("refusal %q: done=%v %q %v", first, done, resp, err)
		}
		_, _, err = s.Challenge(ctx, second)
		if len(first) == 0 {
			checkErr(t, err, "kprod: sasl", "after the exchange finished")
		} else {
			checkErr(t, err, "kprod: sasl OAUTHBEARER: ", "the broker refused the token")
		}
	})
}

// jwtOf is a JWT with the given payload and signature.
func jwtOf(payload []byte, sig string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + enc.EncodeToString(payload) + "." + sig
}

// jwtExpCauses are what an error of jwtClaims may name.
var jwtExpCauses = []string{
	"not a JWT", "not base64url", "payload is not a JSON object", "no numeric exp", "not a positive number",
	"exp claim is out of range", "no sub claim", "neither a string nor a list", "blank or non-string scope",
}

// checkExpiry fails unless expiry is the token's exp claim (seconds since the epoch,
// read here apart from jwtClaims), to the millisecond.
func checkExpiry(t *testing.T, token string, expiry time.Time) {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		t.Fatalf("accepted a payload that is not base64url: %q", token)
	}
	var claims map[string]any
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	err = d.Decode(&claims)
	exp, ok := claims["exp"].(json.Number)
	if err != nil || !ok {
		t.Fatalf("accepted a payload with no numeric exp: %q (%v)", payload, err)
	}
	secs, err := strconv.ParseFloat(string(exp), 64)
	if err != nil || secs <= 0 {
		t.Fatalf("accepted exp %q", exp)
	}
	want := secs * 1000
	if got := float64(expiry.UnixMilli()); math.Abs(got-want) > max(1, want*1e-12) || expiry.Before(time.UnixMilli(0)) {
		t.Fatalf("exp %s gave the expiry %v (%d ms)", exp, expiry, expiry.UnixMilli())
	}
}

// FuzzJWTClaims: a token's claims are refused with the cause, or give its exp claim as
// the expiry. The first input is a whole token; the second a payload made into one,
// so that the fuzzer reaches the JSON without having to find base64.
func FuzzJWTClaims(f *testing.F) {
	for _, p := range []string{
		`{"sub":"a","exp":1700000000,"scope":["x"]}`, `{"user":"a","exp":1.7e9}`, `{"sub":"a","exp":1.7e9,"scope":"a b"}`,
		`[1]`, `{"sub":"a"}`, `{"sub":"a","exp":"1"}`, `{"sub":"a","exp":-1}`, `{"exp":1}`, `{"sub":"","exp":1}`,
		`{"sub":"a","exp":1,"scope":5}`, `{"sub":"a","exp":1,"scope":["x",""]}`, `{"sub":"a","exp":1e308}`,
		`{"sub":"a","exp":1e-300}`, `{"sub":"a","exp":9223372036854775.807}`, `{"sub":"a","exp":1,"exp":2}`,
		`{"sub":"a","exp":1}trailing`, `null`, `{"sub":" ","exp":1}`, `{"sub":"a","exp":1,"scope":null}`,
	} {
		f.Add("opaque", []byte(p))
	}
	for _, tok := range []string{"", "a..c", "a.!!.c", ".x.", "a.b.c.d", "eyJ.eyJzdWIiOiJhIiwiZXhwIjoxfQ==.", "eyJ.eyJzdWIiOiJhIiwiZXhwIjoxfQ."} {
		f.Add(tok, []byte(`{"sub":"a","exp":1}`))
	}
	f.Fuzz(func(t *testing.T, token string, payload []byte) {
		for _, tok := range []string{token, jwtOf(payload, "c2ln"), jwtOf(payload, "")} {
			expiry, err := jwtClaims(tok, "sub", "scope")
			if err != nil {
				checkErr(t, err, "the access token", jwtExpCauses...)
				continue
			}
			checkExpiry(t, tok, expiry)
		}
	})
}

// tokenResponseCauses are what an error for a token endpoint's response may name.
var tokenResponseCauses = append([]string{
	"the response is not JSON", "the response is not a JSON object", "no access_token", "access_token is not a string",
	"b64token",
}, jwtExpCauses...)

// FuzzTokenResponse: a token endpoint's successful response gives a token that
// OAUTHBEARER can send, with its exp claim as the expiry, or an error naming the
// cause; its summary as an error response is fit for a log.
func FuzzTokenResponse(f *testing.F) {
	now := time.Now().Unix()
	for _, claims := range []map[string]any{
		{"sub": "svc", "exp": now + 3600, "scope": "a b"}, {"sub": "svc", "exp": 2e9, "scp": []string{"x"}},
		{"exp": 2e9}, {"sub": "a"}, {"sub": "a", "exp": 1e300},
	} {
		f.Add([]byte(tokenBody(signedLike(claims))))
	}
	for _, b := range []string{
		`not json`, `{"token_type":"Bearer"}`, `{"access_token":"opaque-token"}`, `{"access_token":""}`, `{"access_token":" "}`,
		`{"access_token":null}`, `{"access_token":1}`, `{"access_token":["a"]}`, `[]`, `null`, `""`, ``,
		`{"access_token":"a b.eyJzdWIiOiJhIiwiZXhwIjoxfQ.c"}`, `{"access_token":"eyJ.eyJzdWIiOiJhIiwiZXhwIjoxfQ.c2ln"}`,
		`{"access_token":" eyJ.eyJzdWIiOiJhIiwiZXhwIjoxfQ.\n"}`, `{"access_token":"eyJ.eyJzdWIiOiJhIiwiZXhwIjoxfQ.c2ln"}x`,
		`{"error":"invalid_client","error_description":"bad secret"}`, `{"error":"\u001b[2J"}`, `{"error":{"a":[1,2]}}`,
		`{"error":"` + strings.Repeat("x", 2000) + `"}`, strings.Repeat("oops", 100),
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cc := &clientCredentials{cfg: ClientCredentialsConfig{Extensions: map[string]string{"traceId": "t1"}}}
		tok, err := cc.token(body)
		if err != nil {
			checkErr(t, err, "kprod: sasl OAUTHBEARER: token endpoint: ", tokenResponseCauses...)
			if json.Valid(body) && strings.Contains(err.Error(), "is not JSON") {
				t.Fatalf("JSON %q called not JSON: %v", body, err)
			}
		} else {
			if tok.Value == "" || tok.Value != strings.TrimSpace(tok.Value) {
				t.Fatalf("token %q", tok.Value)
			}
			// What ClientCredentials returns, OAUTHBEARER must be able to send.
			if err := checkToken(tok.Value); err != nil {
				t.Fatalf("token %q: %v", tok.Value, err)
			}
			checkExpiry(t, tok.Value, tok.Expiry)
			if tok.Extensions["traceId"] != "t1" {
				t.Fatalf("extensions %v", tok.Extensions)
			}
		}
		// The same body as an error response (RFC 6749 5.2), shown in an error.
		if s := oauthError(body); len(s) > maxErrText || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
			t.Fatalf("error response summary unfit for a log (%d bytes): %q", len(s), s)
		}
	})
}
