package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Sentinels for errors.Is. A registry answer maps to them by HTTP status and, for
// 404 and 422, by the registry's error code, as Confluent's Java serializers map
// them to Kafka exceptions.
var (
	// ErrAuthentication: the registry answered 401.
	ErrAuthentication = errors.New("kprod: schema registry: authentication failed")
	// ErrAuthorization: the registry answered 403.
	ErrAuthorization = errors.New("kprod: schema registry: not authorized")
	// ErrThrottled: the registry answered 429; retriable.
	ErrThrottled = errors.New("kprod: schema registry: throttled")
	// ErrTimeout: the registry answered 408, 500, 503 or 504, or did not answer in
	// time; retriable.
	ErrTimeout = errors.New("kprod: schema registry: timed out")
	// ErrUnavailable: no registry URL could be reached, or one answered 502 (Java's
	// disconnect); retriable.
	ErrUnavailable = errors.New("kprod: schema registry: unavailable")
	// ErrUnknownSubject: error code 40401, the subject (or its version) is not registered.
	ErrUnknownSubject = errors.New("kprod: schema registry: subject not found")
	// ErrUnknownSchema: error code 40403, the id is unknown or the schema looked up
	// is not registered under the subject.
	ErrUnknownSchema = errors.New("kprod: schema registry: schema not found")
	// ErrInvalidSchema: error code 42201, the registry could not parse the schema.
	ErrInvalidSchema = errors.New("kprod: schema registry: invalid schema")
	// ErrIncompatible: the registry answered 409, the schema breaks the subject's
	// compatibility rule.
	ErrIncompatible = errors.New("kprod: schema registry: schema incompatible with the subject")
)

// Error is a failed registry request: the HTTP status and the registry's error code
// and message when it answered, or the transport error when it did not (Status 0).
type Error struct {
	// Op names the request, e.g. "POST /subjects/orders-value/versions".
	Op string
	// URL is the registry base URL that gave this answer (the last one tried).
	URL string
	// Status is the HTTP status; 0 when no registry answered.
	Status int
	// Code is the registry's error_code (e.g. 40401), 0 when absent.
	Code int
	// Message is the registry's message, trimmed to a sane length.
	Message string
	// Err is the transport error when no registry answered.
	Err error
}

// Error names the operation, the registry's URL and its answer (or the transport error).
func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("kprod: schema registry: %s at %s: %v", e.Op, e.URL, e.Err)
	}
	if e.Err != nil {
		return fmt.Sprintf("kprod: schema registry: %s at %s: HTTP %d: %s: %v", e.Op, e.URL, e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("kprod: schema registry: %s at %s: HTTP %d, error code %d: %s", e.Op, e.URL, e.Status, e.Code, e.Message)
}

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel the status and code map to.
func (e *Error) Is(target error) bool {
	return target != nil && e.sentinel() == target
}

// Retriable reports whether the same request may succeed later: throttling,
// timeouts and 5xx answers, and no registry answering at all.
func (e *Error) Retriable() bool {
	switch e.sentinel() {
	case ErrThrottled, ErrTimeout, ErrUnavailable:
		return true
	}
	return e.Status >= 500
}

// sentinel maps the answer as Java's serializers do (401, 403, 429, and 408, 500,
// 503, 504 as a timeout), then by the registry's error code.
func (e *Error) sentinel() error {
	switch e.Status {
	case 0:
		return transportSentinel(e.Err)
	case 401:
		return ErrAuthentication
	case 403:
		return ErrAuthorization
	case 429:
		return ErrThrottled
	case 408, 500, 503, 504:
		return ErrTimeout
	case 502:
		return ErrUnavailable
	case 409:
		return ErrIncompatible
	}
	switch e.Code {
	case 40401, 40402:
		return ErrUnknownSubject
	case 40403:
		return ErrUnknownSchema
	case 42201:
		return ErrInvalidSchema
	case 409:
		return ErrIncompatible
	}
	return nil
}

// transportSentinel classifies a request no registry answered: the caller's own
// cancellation is no registry fault and not retriable; a deadline is a timeout;
// anything else (refused, reset, DNS, TLS) means unavailable.
func transportSentinel(err error) error {
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ErrTimeout
	}
	return ErrUnavailable
}
