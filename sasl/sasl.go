// Package sasl holds the SASL mechanisms a kprod producer authenticates with on
// security.protocol SASL_PLAINTEXT and SASL_SSL (KIP-43, KIP-152): PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512 and OAUTHBEARER, and the Mechanism interface for others (AWS IAM,
// for example). Set one in kprod.Config.SASL; a Java producer.properties gets one
// built from sasl.mechanism and sasl.jaas.config.
//
// A producer authenticates every broker connection right after ApiVersions, with a
// SaslHandshake (v1) naming Mechanism.Name and then SaslAuthenticate requests carrying
// the messages of a Session. When the broker limits the session's lifetime
// (connections.max.reauth.ms, or an OAuth token's expiry; KIP-368), the connection
// authenticates again, with a new Session from the same Mechanism, when it is about to
// write a request after 85-95% of the session (lazily, as Java: an idle connection does
// not re-authenticate, and at most once a second).
//
// Secrets never appear in what this package prints: every Mechanism formats as its
// name and user only, with any fmt verb.
package sasl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mechanism is a SASL mechanism. Implementations must be safe for concurrent use: a
// producer authenticates its connections in parallel.
type Mechanism interface {
	// Name is the mechanism's name, sent in SaslHandshake, e.g. "SCRAM-SHA-512".
	Name() string
	// Authenticate starts authenticating one connection to broker (host:port): it
	// returns the Session that continues the exchange and the client's first message.
	// ctx bounds the work (fetching a token, say); the connection's setup timeout or,
	// when re-authenticating, its request timeout is in it.
	Authenticate(ctx context.Context, broker string) (Session, []byte, error)
}

// Session is one authentication exchange on one connection.
type Session interface {
	// Challenge receives the broker's answer to the client's last message. It returns
	// done when the client is satisfied (having verified the broker where the
	// mechanism can, as SCRAM does), else the next message to send. A response given
	// with done is sent as a last message and its answer ends the exchange. An error
	// ends the exchange and closes the connection. ctx is Authenticate's: long work
	// (SCRAM's key derivation, a call out) must stop when it ends.
	Challenge(ctx context.Context, serverMessage []byte) (done bool, response []byte, err error)
}

// errDone is returned by a Session asked to go on after it finished.
var errDone = errors.New("kprod: sasl: challenge after the exchange finished")

// maxPeerText is the most of a peer's text an error repeats.
const maxPeerText = 200

// peerText is text from a broker or a token endpoint (a SCRAM server error, an
// OAUTHBEARER refusal, an OAuth error response) made fit for an error message: at most
// maxPeerText bytes of it, then "...", and quoted with Go escapes when it is empty or
// holds anything but printable UTF-8, so that a hostile peer can neither flood a log
// nor write terminal escapes or invalid UTF-8 into it.
func peerText(s string) string {
	cut := len(s) > maxPeerText
	if cut {
		n := maxPeerText
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	if s == "" || !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) >= 0 {
		s = strconv.Quote(s)
	}
	if cut {
		s += "..."
	}
	return s
}

// hidden formats a mechanism without its secrets: every verb prints s.
type hidden string

func (h hidden) Format(f fmt.State, _ rune) { fmt.Fprint(f, string(h)) }

// secret holds a password or token behind a function, so that even fmt's printing of
// an unexported field (which bypasses String and Format methods) shows an address, not
// the value.
type secret func() string

func newSecret(s string) secret { return func() string { return s } }

// plain is the PLAIN mechanism (RFC 4616).
type plain struct {
	user string
	pass secret
}

// Plain returns the PLAIN mechanism (RFC 4616) with a user name and password, as Java's
// PlainLoginModule. It sends the password in the clear: use it with SASL_SSL, or
// SASL_PLAINTEXT on a trusted network.
func Plain(user, password string) Mechanism {
	return &plain{user: user, pass: newSecret(password)}
}

func (*plain) Name() string { return "PLAIN" }

// Authenticate returns the single message "\x00user\x00password" (no authorization
// id, as Java's PlainSaslClient sends it).
func (p *plain) Authenticate(context.Context, string) (Session, []byte, error) {
	pass := p.pass()
	msg := make([]byte, 0, 2+len(p.user)+len(pass))
	msg = append(msg, 0)
	msg = append(msg, p.user...)
	msg = append(msg, 0)
	msg = append(msg, pass...)
	return &plainSession{}, msg, nil
}

func (p *plain) String() string                { return "PLAIN(user=" + p.user + ")" }
func (p *plain) GoString() string              { return p.String() }
func (p *plain) Format(f fmt.State, verb rune) { hidden(p.String()).Format(f, verb) }

type plainSession struct{ done bool }

// Challenge accepts the broker's (empty) answer: an error would have come as the
// SaslAuthenticate error code.
func (s *plainSession) Challenge(context.Context, []byte) (bool, []byte, error) {
	if s.done {
		return true, nil, errDone
	}
	s.done = true
	return true, nil, nil
}
