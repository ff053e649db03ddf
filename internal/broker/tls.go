package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// handshake runs the TLS client handshake over nc, bounded by ctx (the setup
// timeout): a handshake without a deadline can hang forever (IBM/sarama#2656).
// ServerName is the broker's own host, never one name for every broker
// (IBM/sarama#1701); for an IP address Go checks the certificate's IP SANs.
func handshake(ctx context.Context, nc net.Conn, addr string, base *tls.Config) (*tls.Conn, error) {
	cfg := base
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg = base.Clone()
		cfg.ServerName = host
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		if ctx.Err() != nil || closedDuringHandshake(err) {
			// The setup timeout (or the caller) ended the handshake: a slow or
			// silent peer, retried like any dial timeout. A peer that closed it
			// is judged by Dial's plaintext probe.
			return nil, err
		}
		return nil, &authError{addr: addr, step: "TLS handshake", cause: err, hint: handshakeHint(err)}
	}
	return tc, nil
}

// handshakeHint says what a handshake failure most likely means for a Kafka
// client, or "".
func handshakeHint(err error) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return "the broker's certificate is not signed by a CA in ssl.truststore.*"
	case errors.As(err, &host):
		if strings.Contains(err.Error(), "Common Name") {
			return "the certificate names the broker only in its Common Name, which Go does not accept as a host name (Java does); give it a subjectAltName, or set ssl.endpoint.identification.algorithm= to skip the host check"
		}
		return "the broker's certificate is not valid for this host name (ssl.endpoint.identification.algorithm=https)"
	case errors.As(err, &invalid):
		return "the broker's certificate cannot be used (expired, not yet valid, or not for server authentication)"
	case isRemoteAlert(err):
		return "the broker refused the handshake: check ssl.keystore.* (a client certificate it trusts), ssl.enabled.protocols and ssl.cipher.suites"
	case strings.Contains(err.Error(), "does not look like a TLS handshake"):
		return "the broker did not answer with TLS: is this listener PLAINTEXT or SASL_PLAINTEXT rather than SSL?"
	}
	return ""
}

// closedDuringHandshake reports that the peer closed or reset the connection during
// the TLS handshake: what a Kafka PLAINTEXT listener does with a ClientHello (it reads
// its first bytes as a request size beyond socket.request.max.bytes), but also what a
// broker restarting or a load balancer without a backend does.
func closedDuringHandshake(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// probePlaintext tells the two apart after a handshake the peer closed (cause): it
// sends a plaintext ApiVersions request on a new connection, within ctx (the rest of
// the setup timeout). A listener that answers it speaks Kafka without TLS: the
// security.protocol does not match the listener, which no retry can fix
// (an authentication failure, as Java's SslAuthenticationException). Otherwise the
// close stays a retriable dial failure.
func probePlaintext(ctx context.Context, addr string, opts Options, cause error) error {
	retriable := fmt.Errorf("TLS handshake: %w", cause)
	nc, err := opts.Dialer(ctx, "tcp", addr)
	if err != nil || nc == nil {
		return retriable
	}
	probe := opts
	probe.TLS, probe.SASL, probe.Authenticate, probe.Features = nil, nil, nil, nil
	c := newConn(addr, nc, probe)
	err = c.negotiate(ctx)
	c.Close()
	if err != nil {
		return retriable
	}
	return &authError{addr: addr, step: "TLS handshake", cause: cause,
		hint: "the listener answered a plaintext ApiVersions request: it is not a TLS listener (security.protocol SSL or SASL_SSL does not match the listener's PLAINTEXT or SASL_PLAINTEXT)"}
}

// isRemoteAlert reports a TLS alert the broker sent (crypto/tls reports it as a
// *net.OpError with Op "remote error").
func isRemoteAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// afterHandshakeError classifies a failure of the first requests (ApiVersions)
// on a fresh connection. Under TLS 1.3 the client's handshake ends before the
// broker has checked the client certificate, so a missing or untrusted one shows
// here, as the broker's alert at the first read (Kafka sends bad_certificate).
// Without TLS, a response that starts like a TLS record means the listener
// expects TLS. Either is an authentication failure; anything else is returned
// unchanged.
func afterHandshakeError(addr string, usedTLS bool, err error) error {
	switch {
	case usedTLS && isRemoteAlert(err):
		var alert *net.OpError
		errors.As(err, &alert)
		return &authError{addr: addr, step: "TLS", cause: alert,
			hint: "the broker refused this client after the handshake: it requires a client certificate it trusts (ssl.keystore.*)"}
	case !usedTLS && errors.Is(err, errTLSRecord):
		return &authError{addr: addr, step: "PLAINTEXT", cause: errTLSRecord,
			hint: "the broker answered with TLS: this listener needs security.protocol=SSL (or SASL_SSL)"}
	}
	return err
}

// authError is an authentication failure on one broker: TLS (untrusted or
// wrong-host certificate, a refused client certificate), a wrong protocol for
// the listener, or SASL (refused credentials, a mechanism that failed). Retrying the same connection cannot help, so it is not
// retriable (Java's AuthenticationException). It matches ErrAuthentication and,
// like every Dial error, ErrDial.
type authError struct {
	addr  string
	step  string // "TLS handshake", "TLS", "PLAINTEXT", "SASL PLAIN", "SASL PLAIN re-authentication"
	cause error
	hint  string
}

func (e *authError) Error() string {
	msg := "kprod: authentication failed with broker " + e.addr + " (" + e.step + "): " + strings.TrimPrefix(errString(e.cause), "kprod: ")
	if e.hint != "" {
		msg += "; " + e.hint
	}
	return msg
}

func (e *authError) Is(target error) bool { return target == ErrAuthentication || target == ErrDial }

func (e *authError) Unwrap() error { return e.cause }

// errTLSRecord is the cause when a plaintext connection receives a TLS record
// where a response size prefix should be.
var errTLSRecord = errors.New("kprod: the broker sent a TLS record, not a Kafka response")

// looksLikeTLS reports whether a response's first four bytes are a TLS record
// header (handshake or alert, version 3.x) rather than a size prefix: such sizes
// are far beyond any response size limit, so nothing valid is misread.
func looksLikeTLS(hdr [4]byte) bool {
	return (hdr[0] == 0x15 || hdr[0] == 0x16) && hdr[1] == 0x03 && hdr[2] <= 0x04
}
