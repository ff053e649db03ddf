// Package broker is one connection to one Kafka broker.
//
// A Conn is split the way net/http's Transport and pgx split a connection: a
// write loop drains queued requests and writes them, several per writev; a read
// loop reads responses and completes requests. The two are joined by a FIFO of
// written requests: Kafka answers requests on one connection in the order it
// received them, so the response at the head of the stream always belongs to
// the oldest unanswered request and its correlation id must match.
//
// Produce requests arrive pre-encoded (package wire encodes them) and complete
// through a callback on the read loop, so a pipelining sender needs no
// goroutine per request and a round trip allocates nothing. Everything else
// goes through Do with kmsg's typed messages.
package broker

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/metrics"
	"github.com/kprod-io/kprod/sasl"
)

// Defaults applied to zero Options fields; they are Kafka's producer defaults.
const (
	DefaultConnectionSetupTimeout = 10 * time.Second
	DefaultRequestTimeout         = 30 * time.Second
	DefaultMaxInFlight            = 5
	DefaultSendBufferBytes        = 131072
	DefaultReceiveBufferBytes     = 32768
	DefaultMaxResponseSize        = 100 << 20
	DefaultSoftwareName           = "kprod"
	DefaultSoftwareVersion        = "unknown"
)

// Options configure a connection. The zero value of every field means Kafka's
// default.
type Options struct {
	// ClientID is client.id, sent in every request header. Default "".
	ClientID string

	// SoftwareName and SoftwareVersion are sent in ApiVersions v3+
	// (KIP-511); they must match [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?.
	// Defaults "kprod" and "unknown".
	SoftwareName, SoftwareVersion string

	// ConnectionSetupTimeout is socket.connection.setup.timeout.ms: it
	// bounds all of Dial (connect, TLS handshake, ApiVersions,
	// Authenticate). Default 10s.
	ConnectionSetupTimeout time.Duration

	// RequestTimeout is request.timeout.ms, measured from the moment a
	// request is written. When it passes without a response the connection
	// is closed and every pending request fails, as in the Java client.
	// Default 30s.
	RequestTimeout time.Duration

	// MaxInFlight is max.in.flight.requests.per.connection: requests queued
	// or written but not yet completed, Produce and Do alike. Default 5.
	MaxInFlight int

	// SendBufferBytes is send.buffer.bytes (SO_SNDBUF); -1 keeps the OS
	// default. Default 131072.
	SendBufferBytes int

	// ReceiveBufferBytes is receive.buffer.bytes (SO_RCVBUF); -1 keeps the
	// OS default. Default 32768.
	ReceiveBufferBytes int

	// MaxResponseSize caps the size prefix of a response; a larger one
	// closes the connection rather than allocating. Default 100 MiB.
	MaxResponseSize int32

	// Dialer opens the transport; proxies and fault-injecting connections
	// plug in here. Default net.Dialer.DialContext.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

	// TLS, when set, secures the connection (security.protocol SSL or
	// SASL_SSL): Dial runs the TLS handshake over what Dialer returned, with a
	// clone of TLS whose ServerName is the broker's host unless TLS sets one,
	// so each broker's certificate is checked against its own name. Default
	// none (PLAINTEXT).
	TLS *tls.Config

	// SASL, when set, authenticates the connection after ApiVersions
	// (SaslHandshake v1 and SaslAuthenticate, KIP-152) and again, when the
	// broker limits the session (KIP-368), before the first request written
	// after 85-95% of it: lazily, as Java, so an idle connection does not.
	// Default none.
	SASL sasl.Mechanism

	// Authenticate runs after ApiVersions negotiation and SASL, before Dial
	// returns. It may call c.Do. Default none.
	Authenticate func(ctx context.Context, c *Conn) error

	// Features, when set, learns the finalized features of every connection
	// dialed with these options (Java's ApiVersions). Default none.
	Features *Features

	// IO, when set, counts the connection's traffic for the producer's metrics
	// (Java's Selector sensors): each request written, each response read, the
	// connection's opening and closing. Default none.
	IO *metrics.IO
}

func (o Options) withDefaults() Options {
	if o.SoftwareName == "" {
		o.SoftwareName = DefaultSoftwareName
	}
	if o.SoftwareVersion == "" {
		o.SoftwareVersion = DefaultSoftwareVersion
	}
	if o.ConnectionSetupTimeout <= 0 {
		o.ConnectionSetupTimeout = DefaultConnectionSetupTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.SendBufferBytes == 0 {
		o.SendBufferBytes = DefaultSendBufferBytes
	}
	if o.ReceiveBufferBytes == 0 {
		o.ReceiveBufferBytes = DefaultReceiveBufferBytes
	}
	if o.MaxResponseSize <= 0 {
		o.MaxResponseSize = DefaultMaxResponseSize
	}
	if o.Dialer == nil {
		var d net.Dialer
		o.Dialer = d.DialContext
	}
	return o
}

// Request states: the write loop takes a queued request with a CAS, and Do
// abandons a queued one with a CAS, so exactly one of them wins.
const (
	stateQueued int32 = iota
	stateTaken
	stateAbandoned
)

// request is one queued or in-flight request. Produce requests are pooled.
// Fields set before enqueue are read-only afterwards; corr, writtenAt, end and
// written are set by the write loop before it publishes the request to the
// in-flight FIFO (under inflightMu) and read by the read loop after.
type request struct {
	frame          [][]byte
	ctx            context.Context
	done           func(resp []byte, err error)
	key            int16
	expectResponse bool
	flexHeader     bool
	pooled         bool
	slotless       bool // a re-authentication request: it holds no in-flight slot
	state          atomic.Int32

	corr      int32
	writtenAt time.Time
	end       int64 // connection byte offset just past this request's frame
	written   bool  // false if a failed write stopped before end
}

// Conn is one Kafka connection. All methods are safe for concurrent use.
type Conn struct {
	addr     string
	nc       net.Conn
	opts     Options
	versions Versions // set by Dial before the Conn is shared; then read-only
	clientID []byte   // client id encoded as a nullable string, for Do

	slots chan struct{} // one token per queued or in-flight request

	mu     sync.Mutex // guards queue, closed and the writing of closeErr
	queue  []*request // accepted, not yet taken by the write loop
	closed bool
	wake   chan struct{} // capacity 1: queue became non-empty

	inflightMu sync.Mutex // guards inflight and readArmed
	inflight   fifo       // written requests awaiting a response, oldest first
	readArmed  bool       // a read deadline is set on nc

	lastUsed atomic.Int64 // unix nanos of the last write or of going idle

	closeOnce sync.Once     // closes nc
	closeErr  error         // written once, under mu, before dying closes
	dying     chan struct{} // closed when shutdown starts
	writeDone chan struct{} // closed when the write loop returns
	readDone  chan struct{} // closed when the read loop has failed everything

	pool sync.Pool // *request for Produce

	reauth reauthState // KIP-368 schedule, when opts.SASL is set

	w writeLoop // owned by the write loop goroutine
}

func newConn(addr string, nc net.Conn, opts Options) *Conn {
	c := &Conn{
		addr:      addr,
		nc:        nc,
		opts:      opts,
		slots:     make(chan struct{}, opts.MaxInFlight),
		wake:      make(chan struct{}, 1),
		dying:     make(chan struct{}),
		writeDone: make(chan struct{}),
		readDone:  make(chan struct{}),
	}
	c.reauth.ack = make(chan struct{}, 1)
	c.inflight.init(opts.MaxInFlight)
	c.clientID = binary.BigEndian.AppendUint16(nil, uint16(len(opts.ClientID)))
	c.clientID = append(c.clientID, opts.ClientID...)
	c.lastUsed.Store(time.Now().UnixNano())
	c.w.init(c)
	opts.IO.Opened(time.Now().UnixMilli())
	go c.writeLoop()
	go c.readLoop()
	return c
}

// Addr returns the address the connection was dialed to.
func (c *Conn) Addr() string { return c.addr }

// Versions returns the API versions the broker advertised.
func (c *Conn) Versions() Versions { return c.versions }

// LastUsed returns when a request was last written or when the connection
// last became idle (its final pending response read). An owner closes
// connections idle longer than connections.max.idle.ms (default 9 minutes)
// when InFlight is zero.
func (c *Conn) LastUsed() time.Time { return time.Unix(0, c.lastUsed.Load()) }

// InFlight returns how many requests are queued or awaiting a response.
func (c *Conn) InFlight() int { return len(c.slots) }

// Done is closed when the connection has started to close, for whatever
// reason; Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.dying }

// Err returns why the connection closed (its chain holds ErrConnClosed), or
// nil while it is open.
func (c *Conn) Err() error {
	select {
	case <-c.dying:
		return c.closeErr
	default:
		return nil
	}
}

// Close closes the connection, fails every pending request (written ones with
// Written set) and waits for both loops to exit. It is idempotent. It must not
// be called from a Produce or Do completion callback (those run on the read
// loop, which Close waits for); use Abort there.
func (c *Conn) Close() error {
	c.shutdown(nil)
	<-c.readDone
	return nil
}

// Abort starts closing the connection with cause and returns at once; it is
// safe from completion callbacks. Pending requests fail with an error whose
// chain holds ErrConnClosed and cause.
func (c *Conn) Abort(cause error) { c.shutdown(cause) }

// shutdown records why the connection dies, stops new requests and unblocks
// both loops by closing the socket. The read loop fails what is pending once
// the write loop has exited.
func (c *Conn) shutdown(cause error) {
	c.stop(cause, false)
	c.closeOnce.Do(c.closeSocket)
}

// closeSocket closes the socket and counts the closing (connection-close-total,
// connection-count); run once, under closeOnce.
func (c *Conn) closeSocket() {
	_ = c.nc.Close()
	c.opts.IO.Closed(time.Now().UnixMilli())
}

// stop marks the connection closed, once, under mu, the lock enqueue checks closed
// under: no request is accepted after it. With ifIdle it refuses when a request
// holds a slot. It reports whether this call marked the connection.
func (c *Conn) stop(cause error, ifIdle bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || ifIdle && len(c.slots) > 0 {
		return false
	}
	c.closeErr = &closedError{addr: c.addr, cause: cause}
	c.closed = true
	close(c.dying)
	return true
}

// CloseIfIdle starts closing the connection unless a request is queued or in flight,
// and reports whether it did; Close then waits for it. An owner closing idle
// connections (connections.max.idle.ms) uses it rather than checking InFlight and
// then calling Close: a request that takes its slot meanwhile fails at enqueue,
// unwritten, instead of being written and failed by the close (maybe written).
// It returns at once, as Abort.
func (c *Conn) CloseIfIdle() bool {
	if !c.stop(nil, true) {
		return false
	}
	c.closeOnce.Do(c.closeSocket)
	return true
}

// acquire takes an in-flight slot, waiting for one until ctx ends or the
// connection closes.
func (c *Conn) acquire(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.dying:
		return c.closeErr
	}
}

// enqueue hands a slot-holding request to the write loop. It fails (and
// releases the slot) if the connection is closing: requests enqueued before
// closed was set are failed by the read loop, none after.
func (c *Conn) enqueue(r *request) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.slots
		return c.closeErr
	}
	c.queue = append(c.queue, r)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// finish completes r exactly once: it releases r's slot before running the
// callback so that a callback may queue the next request (with TryProduce)
// without waiting for itself.
func (c *Conn) finish(r *request, resp []byte, err error) {
	done, slotless := r.done, r.slotless
	if r.pooled {
		*r = request{pooled: true}
		c.pool.Put(r)
	}
	if !slotless {
		<-c.slots
	}
	if done != nil {
		done(resp, err)
	}
}

func (c *Conn) requestError(key int16, written bool, err error) error {
	return &RequestError{Addr: c.addr, Key: key, Written: written, Err: err}
}

// Produce queues a pre-encoded request frame for writing and returns once it
// is queued; done runs exactly once, later, with the response body or an
// error. If Produce returns an error, the frame was not queued and done is
// never called.
//
// frame is [int32 size][int16 apiKey][int16 version][int32 correlationId]...
// split over any number of segments (written with writev, never copied on
// TCP). The first segment must hold the 12-byte header; the correlation id at
// bytes 8..12 of frame[0] is overwritten. The caller must not touch frame until
// done runs.
//
// With expectResponse false (a Produce with acks=0, to which the broker sends
// no response) the request completes as soon as it is written and done runs on
// the write loop with a nil body. Otherwise done runs on the read loop; resp is
// the response body after the response header and is valid only during the
// call. done must not block and must not call Produce, Do or Close (the loops
// would wait on themselves); it may call TryProduce or Abort.
//
// If MaxInFlight requests are outstanding Produce blocks until one completes,
// ctx ends or the connection closes. ctx is checked once more just before the
// frame is written: a request whose ctx ended by then fails unwritten.
func (c *Conn) Produce(ctx context.Context, frame [][]byte, expectResponse bool, done func(resp []byte, err error)) error {
	r, err := c.newProduce(ctx, frame, expectResponse, done)
	if err != nil {
		return err
	}
	if err := c.acquire(r.ctx); err != nil {
		key := r.key
		c.recycle(r)
		return c.requestError(key, false, err)
	}
	return c.submit(r)
}

// TryProduce is Produce that never waits for an in-flight slot: it returns
// ErrInFlightLimit (not wrapped, not queued) when MaxInFlight requests are
// outstanding. It is safe to call from a done callback.
func (c *Conn) TryProduce(ctx context.Context, frame [][]byte, expectResponse bool, done func(resp []byte, err error)) error {
	r, err := c.newProduce(ctx, frame, expectResponse, done)
	if err != nil {
		return err
	}
	select {
	case c.slots <- struct{}{}:
	default:
		c.recycle(r)
		return ErrInFlightLimit
	}
	return c.submit(r)
}

func (c *Conn) submit(r *request) error {
	key := r.key
	if err := c.enqueue(r); err != nil {
		c.recycle(r)
		return c.requestError(key, false, err)
	}
	return nil
}

// recycle returns a pooled request that was never handed to the loops.
func (c *Conn) recycle(r *request) {
	*r = request{pooled: true}
	c.pool.Put(r)
}

func (c *Conn) newProduce(ctx context.Context, frame [][]byte, expectResponse bool, done func([]byte, error)) (*request, error) {
	key, version, err := checkFrame(frame)
	if err != nil {
		return nil, c.requestError(key, false, err)
	}
	r, _ := c.pool.Get().(*request)
	if r == nil {
		r = &request{pooled: true}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	r.frame = frame
	r.ctx = ctx
	r.done = done
	r.key = key
	r.expectResponse = expectResponse
	r.flexHeader = responseHeaderFlexible(key, version)
	return r, nil
}

// checkFrame validates a pre-encoded frame's header and size prefix, so that a
// bad frame fails alone instead of desynchronising the stream.
func checkFrame(frame [][]byte) (key, version int16, err error) {
	if len(frame) == 0 || len(frame[0]) < 12 {
		return 0, 0, ErrInvalidFrame
	}
	h := frame[0]
	key = int16(binary.BigEndian.Uint16(h[4:6]))
	version = int16(binary.BigEndian.Uint16(h[6:8]))
	total := -4
	for _, s := range frame {
		total += len(s)
	}
	if size := int32(binary.BigEndian.Uint32(h[0:4])); size < 8 || int(size) != total {
		return key, version, ErrInvalidFrame
	}
	return key, version, nil
}

// Pin marks req so that Do sends it at exactly the version already set on it
// instead of negotiating one. Do writes the version it negotiates into the
// request, so without Pin a request reused across brokers would otherwise
// carry a stale choice.
func Pin(req kmsg.Request) kmsg.Request { return pinned{req} }

type pinned struct{ kmsg.Request }

type doResult struct {
	resp kmsg.Response
	err  error
}

// Do sends req and waits for its response. Unless req is wrapped by Pin, Do
// sets req's version to the highest both the broker and kmsg support. ctx
// bounds only the wait: if it ends after the request was written, Do returns a
// *RequestError with Written set and the response, when it comes, is dropped.
// A *kmsg.ProduceRequest with Acks 0 returns (nil, nil) once written.
func (c *Conn) Do(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	r, ch, err := c.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	key := r.key
	start := time.Now()
	if err := c.acquire(ctx); err != nil {
		if ctx.Err() != nil {
			err = c.waitedError(ctx.Err(), fmt.Sprintf("waited %v for one of the connection's %d in-flight slots",
				roundWait(time.Since(start)), c.opts.MaxInFlight))
		}
		return nil, c.requestError(key, false, err)
	}
	if err := c.enqueue(r); err != nil {
		return nil, c.requestError(key, false, err)
	}
	select {
	case res := <-ch:
		return res.resp, res.err
	case <-ctx.Done():
	}
	select {
	case res := <-ch:
		return res.resp, res.err
	default:
	}
	written := !r.state.CompareAndSwap(stateQueued, stateAbandoned)
	where := "written, awaiting the response"
	if !written {
		where = fmt.Sprintf("queued %v, never written", roundWait(time.Since(start)))
	}
	return nil, c.requestError(key, written, c.waitedError(ctx.Err(), where))
}

// waitedError is the error of a Do whose ctx ended: ctxErr (still matched by errors.Is)
// with where the request was then, and, when the write loop is re-authenticating (which
// holds back everything queued, KIP-368), for how long, so that a caller's timeout says
// which wait it cut short.
func (c *Conn) waitedError(ctxErr error, where string) error {
	if since := c.reauth.running.Load(); since != 0 {
		where += fmt.Sprintf(" while the connection re-authenticates (KIP-368, for %v so far)",
			roundWait(time.Since(time.Unix(0, since))))
	}
	return &waitError{err: ctxErr, where: where}
}

// waitError is a ctx error with where the request stood when it ended.
type waitError struct {
	err   error
	where string
}

func (e *waitError) Error() string { return e.err.Error() + " (" + e.where + ")" }
func (e *waitError) Unwrap() error { return e.err }

// roundWait rounds a wait for a message.
func roundWait(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// prepare encodes req for Do (choosing its version unless pinned) into a request
// whose completion delivers the decoded response on the returned channel.
func (c *Conn) prepare(ctx context.Context, req kmsg.Request) (*request, chan doResult, error) {
	p, isPinned := req.(pinned)
	if isPinned {
		req = p.Request
	}
	if req == nil {
		return nil, nil, c.requestError(-1, false, errors.New("nil request"))
	}
	if isPinned {
		if req.Key() != apiVersionsKey && !c.versions.Supports(req.Key(), req.GetVersion()) {
			return nil, nil, c.requestError(req.Key(), false, ErrUnsupportedVersion)
		}
	} else {
		v, err := c.versions.Pick(req.Key(), 0, req.MaxVersion())
		if err != nil {
			return nil, nil, c.requestError(req.Key(), false, err)
		}
		req.SetVersion(v)
	}
	key, version := req.Key(), req.GetVersion()

	buf := make([]byte, 0, 256)
	buf = append(buf, 0, 0, 0, 0)
	buf = binary.BigEndian.AppendUint16(buf, uint16(key))
	buf = binary.BigEndian.AppendUint16(buf, uint16(version))
	buf = append(buf, 0, 0, 0, 0) // correlation id, set by the write loop
	buf = append(buf, c.clientID...)
	if req.IsFlexible() {
		buf = append(buf, 0) // request header v2: no tagged fields (KIP-482)
	}
	buf = req.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))

	// The broker never answers a Produce with acks=0: waiting for a
	// response would end in a timeout that closes the connection.
	expect := true
	if p, ok := req.(*kmsg.ProduceRequest); ok && p.Acks == 0 {
		expect = false
	}
	// The response is made now: once Do returns (ctx ended) the caller may
	// reuse req while the read loop still decodes into resp.
	resp := req.ResponseKind()
	ch := make(chan doResult, 1)
	r := &request{
		frame:          [][]byte{buf},
		ctx:            ctx,
		key:            key,
		expectResponse: expect,
		flexHeader:     responseHeaderFlexible(key, version),
	}
	r.done = func(body []byte, err error) {
		if err != nil || !expect {
			ch <- doResult{err: err}
			return
		}
		if derr := decodeResponse(resp, key, version, body); derr != nil {
			c.shutdown(derr)
			ch <- doResult{err: c.requestError(key, true, derr)}
			return
		}
		ch <- doResult{resp: resp}
	}
	return r, ch, nil
}

const (
	apiVersionsKey            = 18
	errUnsupportedVersionCode = 35
)

// decodeResponse parses a response body into resp. An ApiVersions response
// carrying UNSUPPORTED_VERSION is always encoded as v0, whatever version was
// asked for (KIP-511), so it is parsed as v0.
func decodeResponse(resp kmsg.Response, key, version int16, body []byte) error {
	resp.SetVersion(version)
	if key == apiVersionsKey && len(body) >= 2 &&
		int16(binary.BigEndian.Uint16(body)) == errUnsupportedVersionCode {
		resp.SetVersion(0)
	}
	if err := resp.ReadFrom(body); err != nil {
		return malformed("decoding %s v%d response: %v", apiName(key), version, err)
	}
	return nil
}
