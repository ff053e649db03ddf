package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/sasl"
)

// SASL API keys and error codes.
const (
	saslHandshakeKey            = 17
	saslAuthenticateKey         = 36
	errUnsupportedSaslMechanism = 33
	errIllegalSaslState         = 34
	errSaslAuthenticationFailed = 58
	// SaslHandshake v0 sent the mechanism's tokens raw, without SaslAuthenticate
	// (before KIP-152, Kafka 1.0); kprod needs v1, which every broker it supports has
	// (Kafka 4 has no v0 at all). SaslAuthenticate v1 adds session_lifetime_ms (KIP-368).
	saslHandshakeVersion       = 1
	maxSaslAuthenticateVersion = 2
)

// roundTrip sends one request on a connection and returns its response.
type roundTrip func(ctx context.Context, req kmsg.Request) (kmsg.Response, error)

// authenticate runs SaslHandshake v1 and SaslAuthenticate (KIP-152) with mech over rt
// and returns the session lifetime the broker gave (0 if none: no re-authentication).
// Every failure is an *authError (step "SASL <mechanism>"), except a failed round
// trip (the connection broke),
// which is returned as it is.
func authenticate(ctx context.Context, addr string, v Versions, mech sasl.Mechanism, reauth bool, rt roundTrip) (time.Duration, error) {
	name := mech.Name()
	step := "SASL " + name
	if reauth {
		step += " re-authentication"
	}
	fail := func(err error) error { return &authError{addr: addr, step: step, cause: err} }
	if !v.Supports(saslHandshakeKey, saslHandshakeVersion) {
		return 0, fail(errors.New("the broker does not support SaslHandshake v1 (KIP-152, Kafka 1.0): is this a SASL listener of a supported Kafka?"))
	}
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version = saslHandshakeVersion
	hs.Mechanism = name
	kresp, err := rt(ctx, Pin(hs))
	if err != nil {
		return 0, err
	}
	hsResp := kresp.(*kmsg.SASLHandshakeResponse)
	switch hsResp.ErrorCode {
	case 0:
	case errUnsupportedSaslMechanism:
		return 0, fail(fmt.Errorf("the broker does not enable mechanism %s (UNSUPPORTED_SASL_MECHANISM); it enables %v", name, hsResp.SupportedMechanisms))
	case errIllegalSaslState:
		return 0, fail(errors.New("the broker refused the handshake (ILLEGAL_SASL_STATE): is this listener's security.protocol SASL_*?"))
	default:
		return 0, fail(fmt.Errorf("SaslHandshake failed with broker error code %d", hsResp.ErrorCode))
	}

	authVersion, err := v.Pick(saslAuthenticateKey, 0, maxSaslAuthenticateVersion)
	if err != nil {
		return 0, fail(errors.New("the broker does not support SaslAuthenticate (KIP-152)"))
	}
	session, msg, err := mech.Authenticate(ctx, addr)
	if err != nil {
		return 0, fail(err)
	}
	var lifetime int64
	for last := false; ; {
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.Version = authVersion
		req.SASLAuthBytes = msg
		kresp, err := rt(ctx, Pin(req))
		if err != nil {
			return 0, err
		}
		resp := kresp.(*kmsg.SASLAuthenticateResponse)
		if resp.ErrorCode != 0 {
			return 0, fail(brokerSASLError(resp.ErrorCode, resp.ErrorMessage))
		}
		lifetime = resp.SessionLifetimeMillis
		if last {
			break
		}
		// The bytes alias the connection's read buffer: a Session may keep its copy.
		done, next, err := session.Challenge(ctx, bytes.Clone(resp.SASLAuthBytes))
		if err != nil {
			return 0, fail(err)
		}
		if done && next == nil {
			break
		}
		msg, last = next, done // a response given with done is a last message
	}
	return sessionLifetime(lifetime), nil
}

// brokerSASLError keeps the broker's own explanation, which says which credential was
// wrong without repeating it.
func brokerSASLError(code int16, msg *string) error {
	name := fmt.Sprintf("error code %d", code)
	if code == errSaslAuthenticationFailed {
		name = "SASL_AUTHENTICATION_FAILED"
	}
	if msg != nil && *msg != "" {
		return fmt.Errorf("%s: %s", name, *msg)
	}
	return errors.New(name)
}

// dialAuthenticate authenticates a freshly dialed connection through Do, before it is
// shared, and schedules its re-authentication.
func (c *Conn) dialAuthenticate(ctx context.Context) error {
	start := time.Now()
	lifetime, err := authenticate(ctx, c.addr, c.versions, c.opts.SASL, false, c.Do)
	if err != nil {
		return err
	}
	c.reauth.scheduled(start, time.Now(), lifetime)
	return nil
}
