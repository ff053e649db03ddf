package broker

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// apiVersionsVersion is the ApiVersions version sent first: v3 is the first
// to carry the client software name and version (KIP-511) and is understood
// by every broker since 2.4; older brokers answer UNSUPPORTED_VERSION and we
// step down.
const apiVersionsVersion = 3

// Dial connects to a broker, runs the TLS handshake when opts.TLS is set,
// negotiates API versions, authenticates with opts.SASL and runs
// opts.Authenticate. The whole setup is bounded by ctx and by
// opts.ConnectionSetupTimeout; every error it returns matches ErrDial, and an
// authentication failure (TLS certificates, the wrong protocol for the
// listener, refused SASL credentials) ErrAuthentication too.
func Dial(ctx context.Context, addr string, opts Options) (*Conn, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.ConnectionSetupTimeout)
	defer cancel()

	nc, err := opts.Dialer(ctx, "tcp", addr)
	if err != nil {
		return nil, &dialError{addr: addr, cause: err}
	}
	if nc == nil {
		return nil, &dialError{addr: addr, cause: errors.New("dialer returned no connection")}
	}
	setSocketBuffers(nc, opts)
	if opts.TLS != nil {
		tc, err := handshake(ctx, nc, addr, opts.TLS)
		if err != nil {
			nc.Close()
			if ctx.Err() == nil && closedDuringHandshake(err) {
				err = probePlaintext(ctx, addr, opts, err)
			}
			return nil, dialFailure(addr, err)
		}
		nc = tc
	}

	c := newConn(addr, nc, opts)
	if err := c.negotiate(ctx); err != nil {
		c.Close()
		return nil, dialFailure(addr, afterHandshakeError(addr, opts.TLS != nil, err))
	}
	if opts.Features != nil {
		opts.Features.Update(c.versions.featuresEpoch, c.versions.features)
	}
	if opts.SASL != nil {
		if err := c.dialAuthenticate(ctx); err != nil {
			c.Close()
			return nil, dialFailure(addr, err)
		}
	}
	if opts.Authenticate != nil {
		if err := opts.Authenticate(ctx, c); err != nil {
			c.Close()
			return nil, &dialError{addr: addr, cause: fmt.Errorf("authentication: %w", err)}
		}
	}
	return c, nil
}

// dialFailure wraps a Dial failure so that it matches ErrDial; an
// authentication failure does already.
func dialFailure(addr string, err error) error {
	var ae *authError
	if errors.As(err, &ae) {
		return ae
	}
	return &dialError{addr: addr, cause: err}
}

// negotiate sends ApiVersions and records the broker's ranges. A broker that
// does not know our ApiVersions version answers UNSUPPORTED_VERSION in a v0
// body listing the ApiVersions range it does support (KIP-511); like the Java
// client we retry once at its maximum, or at v0 if it listed none.
func (c *Conn) negotiate(ctx context.Context) error {
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = apiVersionsVersion
	req.ClientSoftwareName = c.opts.SoftwareName
	req.ClientSoftwareVersion = c.opts.SoftwareVersion
	for attempt := 0; ; attempt++ {
		kresp, err := c.Do(ctx, Pin(req))
		if err != nil {
			return err
		}
		resp, ok := kresp.(*kmsg.ApiVersionsResponse)
		if !ok {
			return malformed("unexpected ApiVersions response type %T", kresp)
		}
		if resp.ErrorCode == errUnsupportedVersionCode && req.Version > 0 && attempt == 0 {
			next := int16(0)
			for _, k := range resp.ApiKeys {
				if k.ApiKey == apiVersionsKey && k.MaxVersion >= 0 && k.MaxVersion < req.Version {
					next = k.MaxVersion
				}
			}
			req.Version = next
			continue
		}
		if resp.ErrorCode != 0 {
			return fmt.Errorf("ApiVersions v%d failed with broker error code %d", req.Version, resp.ErrorCode)
		}
		c.versions = newVersions(resp)
		return nil
	}
}

// setSocketBuffers applies send.buffer.bytes and receive.buffer.bytes to the
// TCP socket under nc (unwrapping TLS); -1 leaves the OS default. Failures are
// ignored: the sizes are hints and the Java client does not fail on them.
func setSocketBuffers(nc net.Conn, o Options) {
	tc := tcpConn(nc)
	if tc == nil {
		return
	}
	if o.SendBufferBytes > 0 {
		_ = tc.SetWriteBuffer(o.SendBufferBytes)
	}
	if o.ReceiveBufferBytes > 0 {
		_ = tc.SetReadBuffer(o.ReceiveBufferBytes)
	}
}

// tcpConn finds the *net.TCPConn under wrappers that expose NetConn, such as
// *tls.Conn.
func tcpConn(nc net.Conn) *net.TCPConn {
	for range 4 {
		switch c := nc.(type) {
		case *net.TCPConn:
			return c
		case interface{ NetConn() net.Conn }:
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}
