package broker

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

const (
	readBufferSize = 16 << 10 // bufio buffer: many small responses per read syscall
	minFrameBuffer = 4 << 10  // first frame buffer
	shrinkAbove    = 1 << 20  // frame buffers above this may shrink...
	shrinkAfter    = 256      // ...after this many frames in a row used under a quarter of them
)

// errBrokerClosed is the cause when the broker closes the connection between
// responses.
var errBrokerClosed = errors.New("broker closed the connection")

// readLoop reads responses until the connection fails, then, once the write
// loop has exited too, fails everything still pending. Closing readDone is the
// last thing a connection does.
func (c *Conn) readLoop() {
	defer close(c.readDone)
	err := c.readResponses()
	c.shutdown(err)
	<-c.writeDone
	c.failPending()
}

// readResponses matches each response to the oldest in-flight request and
// completes it. Any violation (bad size, unexpected correlation id, truncated
// header) ends the connection.
func (c *Conn) readResponses() error {
	fr := frameReader{
		r:         bufio.NewReaderSize(c.nc, readBufferSize),
		max:       c.opts.MaxResponseSize,
		onTimeout: c.keepReadingAfterDeadline,
	}
	for {
		frame, err := fr.next()
		if err != nil {
			switch {
			case isTimeout(err):
				return fmt.Errorf("%w: no response within %v", ErrTimeout, c.opts.RequestTimeout)
			case errors.Is(err, io.EOF):
				return errBrokerClosed
			}
			return err
		}
		if c.opts.IO != nil {
			c.opts.IO.Received(int64(len(frame))+4, time.Now().UnixMilli())
		}
		corr := int32(binary.BigEndian.Uint32(frame))
		c.inflightMu.Lock()
		r := c.inflight.peek()
		if r == nil || r.corr != corr {
			c.inflightMu.Unlock()
			if r == nil {
				return malformed("response with correlation id %d when none is pending", corr)
			}
			return malformed("response with correlation id %d, expected %d", corr, r.corr)
		}
		c.inflight.pop()
		idle := c.inflight.len() == 0
		c.inflightMu.Unlock()
		if idle {
			c.lastUsed.Store(time.Now().UnixNano())
		}

		// No need to wait for r's write call to return: a broker cannot
		// answer before it has received every byte of r, and bytes on the
		// wire are never read again, so r's frame is free for its owner.
		body, err := frame[4:], error(nil)
		if r.flexHeader {
			body, err = skipTags(body)
		}
		if err != nil {
			c.shutdown(err)
			c.finish(r, nil, c.requestError(r.key, r.written, c.closeErr))
			return err
		}
		slotless := r.slotless
		c.finish(r, body, nil)
		if slotless { // a re-authentication's response: see reauthState.ack
			select {
			case <-c.reauth.ack:
			case <-c.dying:
			}
		}
	}
}

// keepReadingAfterDeadline runs when a read deadline passes. Deadlines are
// armed lazily (not per response, which would cost a timer update per round
// trip): the armed one is never later than the oldest request's, so an early
// wake just re-arms for the current oldest. It reports whether to keep reading.
func (c *Conn) keepReadingAfterDeadline() bool {
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	head := c.inflight.peek()
	if head == nil {
		_ = c.nc.SetReadDeadline(time.Time{})
		c.readArmed = false
		return true
	}
	deadline := head.writtenAt.Add(c.opts.RequestTimeout)
	if !time.Now().Before(deadline) {
		return false
	}
	_ = c.nc.SetReadDeadline(deadline)
	c.readArmed = true
	return true
}

// failPending fails every request still pending once both loops have stopped:
// in-flight ones first (they are older), with Written as the write loop left
// it, then queued ones, never written.
func (c *Conn) failPending() {
	err := c.closeErr
	c.inflightMu.Lock()
	pending := c.inflight.drain()
	c.inflightMu.Unlock()
	for _, r := range pending {
		c.finish(r, nil, c.requestError(r.key, r.written, err))
	}
	c.mu.Lock()
	queued := c.queue
	c.queue = nil
	c.mu.Unlock()
	for _, r := range queued {
		c.finish(r, nil, c.requestError(r.key, false, err))
	}
}

// frameReader reads size-prefixed frames into one reused buffer.
type frameReader struct {
	r         io.Reader
	max       int32
	hdr       [4]byte
	buf       []byte
	small     int         // consecutive frames under a quarter of cap(buf)
	onTimeout func() bool // on a deadline error: true to keep reading
}

// next returns the next frame without its size prefix; it is valid until the
// following call. A size outside [4, max] is an error before anything is
// allocated, and the buffer grows only as bytes arrive, so a lying size prefix
// costs at most twice what the peer actually sent.
func (fr *frameReader) next() ([]byte, error) {
	if err := fr.readFull(fr.hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, malformed("response size prefix truncated")
		}
		return nil, err
	}
	size := int32(binary.BigEndian.Uint32(fr.hdr[:]))
	if size < 4 || size > fr.max {
		if looksLikeTLS(fr.hdr) {
			return nil, fmt.Errorf("%w: %w", ErrMalformedResponse, errTLSRecord)
		}
		return nil, malformed("response size %d outside [4, %d]", size, fr.max)
	}
	n := int(size)
	fr.maybeShrink(n)
	for got := 0; got < n; {
		if got == cap(fr.buf) {
			grown := make([]byte, min(max(2*cap(fr.buf), minFrameBuffer), n))
			copy(grown, fr.buf[:got])
			fr.buf = grown
		}
		want := min(n, cap(fr.buf))
		fr.buf = fr.buf[:cap(fr.buf)]
		if err := fr.readFull(fr.buf[got:want]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, malformed("response truncated after %d of %d bytes", got, n)
			}
			return nil, err
		}
		got = want
	}
	return fr.buf[:n], nil
}

func (fr *frameReader) maybeShrink(n int) {
	if cap(fr.buf) <= shrinkAbove || n > cap(fr.buf)/4 {
		fr.small = 0
		return
	}
	if fr.small++; fr.small >= shrinkAfter {
		fr.buf, fr.small = nil, 0
	}
}

func (fr *frameReader) readFull(p []byte) error {
	for n := 0; n < len(p); {
		m, err := fr.r.Read(p[n:])
		n += m
		if err == nil {
			continue
		}
		if isTimeout(err) && fr.onTimeout != nil && fr.onTimeout() {
			continue
		}
		if err == io.EOF && n > 0 {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// skipTags skips response header v1's tagged fields (KIP-482) and returns the
// body that follows.
func skipTags(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, malformed("bad tagged field count in response header")
	}
	b = b[n:]
	for range count {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, malformed("bad tag in response header")
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, malformed("bad tagged field size in response header")
		}
		b = b[n+int(size):]
	}
	return b, nil
}
