package kprod

import (
	"context"
	"log/slog"
	"net"
	"time"
)

// Option sets what a properties file cannot: Go code that plugs into the producer.
type Option func(*options)

type options struct {
	interceptors []Interceptor
	partitioner  Partitioner
	hook         SendHook
	logger       *slog.Logger
	dialer       func(ctx context.Context, network, addr string) (net.Conn, error)
	// spoolRecovered observes the outcomes of records recovered from spool.dir.
	spoolRecovered func(RecordMetadata, error)
	// pauseBound is sender.Config.PauseBound; only tests set it (export_test.go).
	pauseBound time.Duration
}

// WithInterceptors adds interceptors, run in order (Java's interceptor.classes).
func WithInterceptors(ics ...Interceptor) Option {
	return func(o *options) { o.interceptors = append(o.interceptors, ics...) }
}

// WithPartitioner replaces the built-in partitioner for records without an explicit
// partition (Java's partitioner.class).
func WithPartitioner(p Partitioner) Option { return func(o *options) { o.partitioner = p } }

// WithLogger sets where the producer logs (Java's producer logs through SLF4J; it has
// no property for it). Default slog.Default(), as a Go library that logs should: a new
// user sees at once why nothing is sent ("kprod: cannot connect to broker ..."), and an
// application that set a default handler gets kprod's lines there. WithLogger(nil)
// silences it.
//
// What is logged: at WARN, failures the producer works around (an unreachable broker,
// a failed metadata refresh or InitProducerId, an interceptor's error); at ERROR, a
// callback or interceptor that panicked; at INFO, that a logged failure ended; at DEBUG,
// retried batches. Nothing is logged per record or per retry: the first of a repeated
// failure is logged, then, while it repeats, one line a minute with the count ("kprod:
// cannot connect to broker (repeated 57 times in the last 1m0s)"). A normal Close logs
// nothing at WARN or above. Each line carries the client.id attribute.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithDialer sets how connections to brokers are opened, for example through a proxy.
// With security.protocol SSL the TLS handshake runs over the connection it returns.
// Default a net.Dialer.
func WithDialer(d func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.dialer = d }
}
