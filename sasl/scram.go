package sasl

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strconv"
	"strings"
)

// scramMinIterations is the least PBKDF2 iteration count accepted from a broker, as
// Java's ScramMechanism.minIterations (4096 for both hashes, RFC 7677's minimum).
// scramMaxIterations is the most: the count comes from the broker, and a hostile one
// asking for billions would burn a CPU for minutes on every connection. Kafka's
// kafka-configs accepts up to 16384 by default; 100000 leaves room for any sane setting.
const (
	scramMinIterations = 4096
	scramMaxIterations = 100000
)

// scram is SCRAM-SHA-256 or SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka does it
// (KIP-84): no SASLprep of the user or password, no channel binding ("n,,"), the user
// name escaped with =3D and =2C only.
type scram struct {
	name      string
	hash      func() hash.Hash
	user      string
	pass      secret
	tokenAuth bool // ScramLoginModule's tokenauth=true: the extension tokenauth=true (KIP-48)
	nonce     func() (string, error)
}

// ScramSHA256 returns the SCRAM-SHA-256 mechanism with a user name and password, as
// Java's ScramLoginModule.
func ScramSHA256(user, password string) Mechanism {
	return &scram{name: "SCRAM-SHA-256", hash: sha256.New, user: user, pass: newSecret(password), nonce: scramNonce}
}

// ScramSHA512 returns the SCRAM-SHA-512 mechanism with a user name and password, as
// Java's ScramLoginModule.
func ScramSHA512(user, password string) Mechanism {
	return &scram{name: "SCRAM-SHA-512", hash: sha512.New, user: user, pass: newSecret(password), nonce: scramNonce}
}

// ScramSHA256Token returns SCRAM-SHA-256 authenticating with a delegation token
// (KIP-48): tokenID and tokenHMAC are the token's id and HMAC, as ScramLoginModule's
// username, password and tokenauth=true.
func ScramSHA256Token(tokenID, tokenHMAC string) Mechanism {
	m := ScramSHA256(tokenID, tokenHMAC).(*scram)
	m.tokenAuth = true
	return m
}

// ScramSHA512Token is ScramSHA256Token with SCRAM-SHA-512.
func ScramSHA512Token(tokenID, tokenHMAC string) Mechanism {
	m := ScramSHA512(tokenID, tokenHMAC).(*scram)
	m.tokenAuth = true
	return m
}

func (m *scram) Name() string { return m.name }

func (m *scram) String() string {
	if m.tokenAuth {
		return m.name + "(token=" + m.user + ")"
	}
	return m.name + "(user=" + m.user + ")"
}
func (m *scram) GoString() string              { return m.String() }
func (m *scram) Format(f fmt.State, verb rune) { hidden(m.String()).Format(f, verb) }

// scramNonce is Java's ScramFormatter.secureRandomString: 130 random bits in base 36.
func scramNonce() (string, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 130))
	if err != nil {
		return "", err
	}
	return n.Text(36), nil
}

// scramSaslName escapes a user name for the n= attribute: '=' as =3D, ',' as =2C, and
// nothing else (Java's ScramFormatter.saslName; no SASLprep).
func scramSaslName(user string) string {
	return strings.ReplaceAll(strings.ReplaceAll(user, "=", "=3D"), ",", "=2C")
}

// Authenticate returns the client-first message "n,,n=<user>,r=<nonce>".
func (m *scram) Authenticate(context.Context, string) (Session, []byte, error) {
	nonce, err := m.nonce()
	if err != nil {
		return nil, nil, fmt.Errorf("kprod: sasl %s: nonce: %w", m.name, err)
	}
	bare := "n=" + scramSaslName(m.user) + ",r=" + nonce
	if m.tokenAuth {
		bare += ",tokenauth=true"
	}
	s := &scramSession{m: m, nonce: nonce, clientFirstBare: bare}
	return s, []byte("n,," + bare), nil
}

// scramSession walks client-first, server-first, client-final, server-final.
type scramSession struct {
	m               *scram
	nonce           string
	clientFirstBare string
	authMessage     string
	saltedPassword  []byte
	step            int
	// failed: a step failed. The session then refuses every later message: with no
	// server-first message taken, the verifier it would check a server-final against
	// is computed from an empty key and message, which anybody can forge.
	failed bool
}

func (s *scramSession) fail(format string, args ...any) error {
	return fmt.Errorf("kprod: sasl %s: "+format, append([]any{s.m.name}, args...)...)
}

// Challenge answers the server-first message with the client proof, then checks the
// server-final message's signature.
func (s *scramSession) Challenge(ctx context.Context, msg []byte) (bool, []byte, error) {
	if s.failed {
		return true, nil, s.fail("challenge after the exchange failed")
	}
	s.step++
	switch s.step {
	case 1:
		final, err := s.clientFinal(ctx, string(msg))
		s.failed = err != nil
		return false, final, err
	case 2:
		err := s.verifyServer(string(msg))
		s.failed = err != nil
		return true, nil, err
	}
	return true, nil, errDone
}

// scramAttrs splits "k=v,k=v" into attributes; a value may contain '='.
func scramAttrs(msg string) map[byte]string {
	attrs := map[byte]string{}
	for _, part := range strings.Split(msg, ",") {
		if len(part) >= 2 && part[1] == '=' {
			if _, dup := attrs[part[0]]; !dup {
				attrs[part[0]] = part[2:]
			}
		}
	}
	return attrs
}

func (s *scramSession) clientFinal(ctx context.Context, serverFirst string) ([]byte, error) {
	attrs := scramAttrs(serverFirst) // a reserved m= and extensions are ignored, as in Java
	nonce, salt64, iter := attrs['r'], attrs['s'], attrs['i']
	// Name the attribute that is missing: "malformed" alone leaves the reader to guess.
	switch {
	case nonce == "":
		return nil, s.fail("malformed server-first message: no nonce (r=)")
	case salt64 == "":
		return nil, s.fail("malformed server-first message: no salt (s=)")
	case iter == "":
		return nil, s.fail("malformed server-first message: no iteration count (i=)")
	}
	// The server's nonce must extend ours (RFC 5802 5.1): otherwise this is not the
	// answer to our message.
	if !strings.HasPrefix(nonce, s.nonce) || len(nonce) == len(s.nonce) {
		return nil, s.fail("invalid server nonce: does not extend the client nonce")
	}
	salt, err := scramBase64(salt64)
	if err != nil {
		return nil, s.fail("malformed salt in server-first message")
	}
	iterations, err := strconv.Atoi(iter)
	if err != nil || iterations <= 0 {
		return nil, s.fail("malformed iteration count in server-first message")
	}
	if iterations < scramMinIterations {
		return nil, s.fail("requested iterations %d is less than the minimum %d", iterations, scramMinIterations)
	}
	if iterations > scramMaxIterations {
		return nil, s.fail("requested iterations %d is more than the maximum %d", iterations, scramMaxIterations)
	}
	s.saltedPassword, err = saltPassword(ctx, s.m.hash, s.m.pass(), salt, iterations)
	if err != nil {
		return nil, s.fail("%w", err)
	}
	finalNoProof := "c=biws,r=" + nonce // biws = base64("n,,")
	s.authMessage = s.clientFirstBare + "," + serverFirst + "," + finalNoProof

	clientKey := s.hmac(s.saltedPassword, "Client Key")
	h := s.m.hash()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	proof := s.hmac(storedKey, s.authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	return []byte(finalNoProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

func (s *scramSession) verifyServer(serverFinal string) error {
	attrs := scramAttrs(serverFinal)
	if e, ok := attrs['e']; ok {
		return s.fail("server error: %s", peerText(e))
	}
	v, ok := attrs['v']
	if !ok {
		return s.fail("malformed server-final message: no verifier (v=) and no error (e=)")
	}
	got, err := scramBase64(v)
	if err != nil {
		return s.fail("malformed server-final message: the verifier (v=) is not base64")
	}
	if len(got) == 0 {
		return s.fail("malformed server-final message: an empty verifier (v=)")
	}
	want := s.hmac(s.hmac(s.saltedPassword, "Server Key"), s.authMessage)
	if !hmac.Equal(got, want) {
		return s.fail("invalid server signature in server-final message: the broker does not know the password")
	}
	return nil
}

// scramBase64 decodes a salt or a verifier. encoding/base64 skips CR and LF, which
// RFC 4648 3.3 has a decoder reject as outside the alphabet (Java's does): "s=\r\n"
// was taken as an empty salt.
func scramBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("a line break in base64")
	}
	return base64.StdEncoding.DecodeString(s)
}

func (s *scramSession) hmac(key []byte, msg string) []byte {
	mac := hmac.New(s.m.hash, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

// saltPassword is SCRAM's Hi(password, salt, i) (RFC 5802 2.2): PBKDF2 with an output
// of one hash block. It is written out rather than taken from crypto/pbkdf2 so that the
// loop stops when ctx ends (the setup or request timeout, Close).
func saltPassword(ctx context.Context, h func() hash.Hash, password string, salt []byte, iterations int) ([]byte, error) {
	mac := hmac.New(h, []byte(password))
	mac.Write(salt)
	mac.Write([]byte{0, 0, 0, 1})
	u := mac.Sum(nil)
	out := bytes.Clone(u)
	for i := 1; i < iterations; i++ {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		mac.Reset()
		mac.Write(u)
		u = mac.Sum(u[:0])
		for j := range out {
			out[j] ^= u[j]
		}
	}
	return out, nil
}
