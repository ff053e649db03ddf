package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, matched with errors.Is. A failed request is reported as a
// *RequestError whose chain holds one or more of these.
var (
	// ErrDial is in the chain of every error Dial returns: the connection
	// could not be opened, or ApiVersions negotiation or authentication
	// on it failed.
	ErrDial = errors.New("kprod: cannot connect to broker")

	// ErrTimeout means a request was not answered within request.timeout.ms
	// of being written (or its write did not finish in that time). As in
	// the Java client the connection is then closed, so the same chain also
	// holds ErrConnClosed.
	ErrTimeout = errors.New("kprod: request timed out")

	// ErrConnClosed means the connection was closed (by Close, by the
	// broker, by a timeout or by a protocol violation) before the request
	// completed.
	ErrConnClosed = errors.New("kprod: broker connection closed")

	// ErrMalformedResponse means the broker sent bytes that are not a valid
	// response: a size prefix out of range, an unexpected correlation id, a
	// truncated header or an undecodable body. The connection is closed
	// because the stream can no longer be trusted.
	ErrMalformedResponse = errors.New("kprod: malformed response from broker")

	// ErrUnsupportedVersion means the broker supports no version of an API
	// in the range this client can speak; the request was not sent.
	ErrUnsupportedVersion = errors.New("kprod: broker does not support a usable request version")

	// ErrInvalidFrame means a pre-encoded request frame passed to Produce is
	// too short or its size prefix disagrees with its length; it was not sent.
	ErrInvalidFrame = errors.New("kprod: invalid request frame")

	// ErrAuthentication means the broker could not be authenticated with, or
	// refused this client: an untrusted or wrong-host certificate, a missing or
	// refused client certificate, the wrong security protocol for the
	// listener, refused SASL credentials or a failed SASL mechanism.
	// It is in the chain of Dial's error (with ErrDial) and not retriable: the
	// same settings fail the same way (Java's AuthenticationException).
	ErrAuthentication = errors.New("kprod: authentication failed")

	// ErrInFlightLimit is returned by TryProduce when max.in.flight requests
	// are already outstanding on the connection; the request was not queued.
	ErrInFlightLimit = errors.New("kprod: too many requests in flight on connection")
)

// RequestError reports why one request on a connection failed and whether the
// broker may have received it. A request that was written but not answered
// may have been applied by the broker (a produce may have been appended), one
// that was never written certainly was not; the sender uses this to decide
// whether a retry can duplicate data (see KIP-98 on idempotent retries).
type RequestError struct {
	// Addr is the broker address of the connection.
	Addr string
	// Key is the Kafka API key of the request (0 for Produce).
	Key int16
	// Written reports that the request's bytes were fully handed to the
	// network, so the broker may have applied it.
	Written bool
	// Err is the cause; its chain holds the sentinels above or a context
	// error.
	Err error
}

// Error implements error.
func (e *RequestError) Error() string {
	state := "not written"
	if e.Written {
		state = "may have been written"
	}
	return fmt.Sprintf("kprod: %s request to broker %s failed (%s): %s",
		apiName(e.Key), e.Addr, state, strings.TrimPrefix(errString(e.Err), "kprod: "))
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// MaybeWritten reports that the broker may have received and applied the
// request.
func (e *RequestError) MaybeWritten() bool { return e.Written }

// Retriable reports whether sending the request again (on this or a new
// connection) can succeed: true for network failures, timeouts and malformed
// responses, false for context cancellation and for requests this client could
// not encode for the broker.
func (e *RequestError) Retriable() bool {
	switch {
	case errors.Is(e.Err, context.Canceled), errors.Is(e.Err, context.DeadlineExceeded):
		return false
	case errors.Is(e.Err, ErrUnsupportedVersion), errors.Is(e.Err, ErrInvalidFrame):
		return false
	}
	return true
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// closedError is the reason a connection died. It matches ErrConnClosed and
// unwraps to the underlying cause (ErrTimeout, ErrMalformedResponse, an I/O
// error), so one errors.Is answers either question.
type closedError struct {
	addr  string
	cause error
}

func (e *closedError) Error() string {
	if e.cause == nil {
		return "kprod: broker connection " + e.addr + " closed"
	}
	return "kprod: broker connection " + e.addr + " closed: " + strings.TrimPrefix(e.cause.Error(), "kprod: ")
}

func (e *closedError) Is(target error) bool { return target == ErrConnClosed }

func (e *closedError) Unwrap() error { return e.cause }

// dialError wraps every Dial failure so errors.Is(err, ErrDial) holds while
// the cause stays reachable.
type dialError struct {
	addr  string
	cause error
}

func (e *dialError) Error() string {
	return "kprod: cannot connect to broker " + e.addr + ": " + strings.TrimPrefix(errString(e.cause), "kprod: ")
}

func (e *dialError) Is(target error) bool { return target == ErrDial }

func (e *dialError) Unwrap() error { return e.cause }

// malformed builds an ErrMalformedResponse with detail.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedResponse}, args...)...)
}

// WaitedAt returns where the request of a Do whose ctx ended stood then (waiting for
// an in-flight slot, queued, held by a re-authentication, written and awaiting the
// answer), or "" when err is not such an error. Callers that give up on a request
// name the wait they cut short with it.
func WaitedAt(err error) string {
	var we *waitError
	if errors.As(err, &we) {
		return we.where
	}
	return ""
}
