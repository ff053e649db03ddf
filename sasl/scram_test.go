package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// scramVector is an example exchange from an RFC.
type scramVector struct {
	name, user, password, nonce string
	clientFirst, serverFirst    string
	clientFinal, serverFinal    string
	mechanism                   func(user, password string) Mechanism
}

var scramVectors = []scramVector{
	{
		// RFC 7677 section 3.
		name: "RFC 7677 SCRAM-SHA-256", user: "user", password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO",
		clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		mechanism:   ScramSHA256,
	},
	{
		// RFC 5802 section 5, with SHA-1: the same code as SHA-256 and SHA-512, another hash.
		name: "RFC 5802 SCRAM-SHA-1", user: "user", password: "pencil", nonce: "fyko+d2lbbFgONRv9qkxdawL",
		clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
		mechanism: func(user, password string) Mechanism {
			return &scram{name: "SCRAM-SHA-1", hash: sha1.New, user: user, pass: newSecret(password)}
		},
	},
}

func fixedNonce(n string) func() (string, error) { return func() (string, error) { return n, nil } }

// scramWith returns the vector's mechanism with its nonce.
func (v scramVector) scramWith(password string) *scram {
	m := v.mechanism(v.user, password).(*scram)
	m.nonce = fixedNonce(v.nonce)
	return m
}

func TestScramRFCVectors(t *testing.T) {
	for _, v := range scramVectors {
		t.Run(v.name, func(t *testing.T) {
			s, first, err := v.scramWith(v.password).Authenticate(context.Background(), "b:1")
			if err != nil || string(first) != v.clientFirst {
				t.Fatalf("client-first %q, %v; want %q", first, err, v.clientFirst)
			}
			done, final, err := s.Challenge(context.Background(), []byte(v.serverFirst))
			if err != nil || done || string(final) != v.clientFinal {
				t.Fatalf("client-final %q done=%v %v; want %q", final, done, err, v.clientFinal)
			}
			done, last, err := s.Challenge(context.Background(), []byte(v.serverFinal))
			if err != nil || !done || last != nil {
				t.Fatalf("server-final: done=%v %q %v", done, last, err)
			}
		})
	}
}

// TestScramVerifiesServer: a broker that does not know the password (a wrong server
// signature), a server nonce that does not extend ours, too few iterations or a server
// error all fail the exchange (redpanda-data/redpanda#3015).
func TestScramVerifiesServer(t *testing.T) {
	v := scramVectors[0]
	run := func(serverFirst, serverFinal string) error {
		s, _, _ := v.scramWith(v.password).Authenticate(context.Background(), "b:1")
		if _, _, err := s.Challenge(context.Background(), []byte(serverFirst)); err != nil {
			return err
		}
		_, _, err := s.Challenge(context.Background(), []byte(serverFinal))
		return err
	}
	if err := run(v.serverFirst, v.serverFinal); err != nil {
		t.Fatalf("the vector itself fails: %v", err)
	}
	cases := []struct{ name, first, final, want string }{
		{"wrong signature", v.serverFirst, "v=" + strings.Repeat("A", 43) + "=", "invalid server signature"},
		{"signature of another password", v.serverFirst, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", "invalid server signature"},
		{"server error", v.serverFirst, "e=invalid-proof", "server error: invalid-proof"},
		{"no signature", v.serverFirst, "x=1", "malformed server-final message: no verifier (v=) and no error (e=)"},
		{"empty signature", v.serverFirst, "v=", "malformed server-final message: an empty verifier (v=)"},
		{"signature not base64", v.serverFirst, "v=!!", "malformed server-final message: the verifier (v=) is not base64"},
		{"truncated signature", v.serverFirst, v.serverFinal[:len(v.serverFinal)-1], "the verifier (v=) is not base64"},
		{"foreign nonce", strings.Replace(v.serverFirst, "r=rOpr", "r=XXpr", 1), v.serverFinal, "does not extend the client nonce"},
		{"same nonce", "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", v.serverFinal, "does not extend the client nonce"},
		{"few iterations", strings.Replace(v.serverFirst, "i=4096", "i=4095", 1), v.serverFinal, "less than the minimum 4096"},
		{"many iterations", strings.Replace(v.serverFirst, "i=4096", "i=100001", 1), v.serverFinal, "more than the maximum 100000"},
		{"billions of iterations", strings.Replace(v.serverFirst, "i=4096", "i=2000000000", 1), v.serverFinal, "more than the maximum 100000"},
		{"no salt", "r=rOprNGfwEbeRWgbNEkqOx,i=4096", v.serverFinal, "malformed server-first message: no salt (s=)"},
		{"no nonce", "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", v.serverFinal, "malformed server-first message: no nonce (r=)"},
		{"no iterations", "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==", v.serverFinal, "malformed server-first message: no iteration count (i=)"},
		{"empty", "", v.serverFinal, "no nonce (r=)"},
		{"bad salt", "r=rOprNGfwEbeRWgbNEkqOx,s=!!,i=4096", v.serverFinal, "malformed salt"},
		{"line breaks for a salt", "r=rOprNGfwEbeRWgbNEkqOx,s=\r\n,i=4096", v.serverFinal, "malformed salt"},
		{"line break in the salt", "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7s\noEsUEjb6gQ==,i=4096", v.serverFinal, "malformed salt"},
		{"line break in the signature", v.serverFirst, v.serverFinal + "\n", "the verifier (v=) is not base64"},
		{"bad iterations", "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=x", v.serverFinal, "malformed iteration"},
	}
	for _, c := range cases {
		err := run(c.first, c.final)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), v.password) {
			t.Errorf("%s: error shows the password: %v", c.name, err)
		}
	}
	// A wrong password makes a proof the vector's server would refuse, and its own
	// signature check fails.
	s, _, _ := v.scramWith("wrong").Authenticate(context.Background(), "b:1")
	if _, final, _ := s.Challenge(context.Background(), []byte(v.serverFirst)); string(final) == v.clientFinal {
		t.Error("a wrong password made the right proof")
	}
	if _, _, err := s.Challenge(context.Background(), []byte(v.serverFinal)); err == nil {
		t.Error("a wrong password accepted the server's signature")
	}
}

// TestScramFailedSessionEnds: a session that refused the server-first message refuses
// a server-final one too, even the one it would have checked against its empty state
// (HMAC(HMAC("", "Server Key"), "")), which anybody can compute. The broker package
// stops at the first error, but a Session is public.
func TestScramFailedSessionEnds(t *testing.T) {
	v := scramVectors[0]
	m := v.scramWith(v.password)
	s, _, _ := m.Authenticate(context.Background(), "b:1")
	if _, _, err := s.Challenge(context.Background(), []byte("r=XXprNGfwEbeRWgbNEkqOx,s=QSXCR+Q6sek8bf92,i=4096")); err == nil {
		t.Fatal("a foreign nonce accepted")
	}
	mac := hmac.New(m.hash, nil)
	mac.Write([]byte("Server Key"))
	mac = hmac.New(m.hash, mac.Sum(nil))
	forged := "v=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if done, _, err := s.Challenge(context.Background(), []byte(forged)); !done || err == nil || !strings.Contains(err.Error(), "after the exchange failed") {
		t.Fatalf("server-final after a failed server-first: done=%v %v", done, err)
	}
}

// TestScramUserName: only '=' and ',' are escaped (no SASLprep, as Java;
// tulios/kafkajs#506), and delegation tokens add tokenauth=true.
func TestScramUserName(t *testing.T) {
	cases := []struct {
		m    Mechanism
		want string
	}{
		{ScramSHA512("a=b,c", "p"), "n,,n=a=3Db=2Cc,r=N"},
		{ScramSHA256("=,=", "p"), "n,,n==3D=2C=3D,r=N"},
		{ScramSHA256("Ａlice ü\u00a0", "p"), "n,,n=Ａlice ü\u00a0,r=N"}, // no normalisation
		{ScramSHA256Token("tokenid", "hmac"), "n,,n=tokenid,r=N,tokenauth=true"},
		{ScramSHA512Token("tok=1", "hmac"), "n,,n=tok=3D1,r=N,tokenauth=true"},
	}
	for _, c := range cases {
		m := c.m.(*scram)
		m.nonce = fixedNonce("N")
		_, first, err := m.Authenticate(context.Background(), "b:1")
		if err != nil || string(first) != c.want {
			t.Errorf("%v: %q %v, want %q", m, first, err, c.want)
		}
	}
}

// TestScramNonce: Java's form, 130 random bits in base 36, different every time.
func TestScramNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n, err := scramNonce()
		if err != nil || len(n) < 20 || len(n) > 26 || strings.Trim(n, "0123456789abcdefghijklmnopqrstuvwxyz") != "" || seen[n] {
			t.Fatalf("nonce %q %v", n, err)
		}
		seen[n] = true
	}
}

func TestScramSessionEnds(t *testing.T) {
	v := scramVectors[0]
	s, _, _ := v.scramWith(v.password).Authenticate(context.Background(), "b:1")
	s.Challenge(context.Background(), []byte(v.serverFirst))
	s.Challenge(context.Background(), []byte(v.serverFinal))
	if done, _, err := s.Challenge(context.Background(), nil); !done || err == nil {
		t.Errorf("a fourth message: done=%v %v", done, err)
	}
}

// TestScramIterationsBounded: the most iterations a broker may ask for are computed, and
// a context that ends stops the computation (the setup timeout, Close) with its error.
func TestScramIterationsBounded(t *testing.T) {
	v := scramVectors[0]
	first := strings.Replace(v.serverFirst, "i=4096", "i=100000", 1)
	s, _, _ := v.scramWith(v.password).Authenticate(context.Background(), "b:1")
	if _, final, err := s.Challenge(context.Background(), []byte(first)); err != nil || len(final) == 0 {
		t.Fatalf("100000 iterations: %q %v", final, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, _, _ = v.scramWith(v.password).Authenticate(context.Background(), "b:1")
	if _, _, err := s.Challenge(ctx, []byte(first)); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: %v", err)
	}
}

// TestSaltPassword: the PBKDF2 loop is RFC 6070's (PBKDF2-HMAC-SHA1 vectors, one block).
func TestSaltPassword(t *testing.T) {
	for _, c := range []struct {
		iter int
		want string
	}{{1, "0c60c80f961f0e71f3a9b524af6012062fe037a6"}, {2, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"}, {4096, "4b007901b765489abead49d926f721d065a429c1"}} {
		got, err := saltPassword(context.Background(), sha1.New, "password", []byte("salt"), c.iter)
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("%d iterations: %x %v, want %s", c.iter, got, err, c.want)
		}
	}
}
