package kprod

import (
	"context"
	"log/slog"
	"net"
)

// Option sets what a properties file cannot: Go code that plugs into the producer.
type Option func(*options)

type options struct {
	interceptors []Interceptor
	partitioner  Partitioner
	logger       *slog.Logger
	dialer       func(ctx context.Context, network, addr string) (net.Conn, error)
}

// WithInterceptors adds interceptors, run in order (Java's interceptor.classes).
func WithInterceptors(ics ...Interceptor) Option {
	return func(o *options) { o.interceptors = append(o.interceptors, ics...) }
}

// WithPartitioner replaces the built-in partitioner for records without an explicit
// partition (Java's partitioner.class).
func WithPartitioner(p Partitioner) Option { return func(o *options) { o.partitioner = p } }

// WithLogger sets where warnings go (failed interceptors, unreachable brokers, retries).
// Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithDialer sets how connections to brokers are opened, for example through a proxy.
// With security.protocol SSL the TLS handshake runs over the connection it returns.
// Default a net.Dialer.
func WithDialer(d func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.dialer = d }
}
