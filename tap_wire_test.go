package kprod_test

import (
	"encoding/binary"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ftWireConn sits under an ftTapConn, on the socket itself. It reports each Produce
// frame once the network took its last byte (the client's connection then counts it
// as written: it may reach the broker), and can make the close of a connection slow
// (ftTap.gateClose).
type ftWireConn struct {
	net.Conn
	tap     *ftTap
	carried atomic.Bool // a Produce request was written

	// The client's write loop only: frame parser. A Produce frame's bytes are kept until
	// the network took its last byte; pos counts bytes parsed, done bytes written.
	hdr    []byte
	skip   int
	frame  []byte // the Produce frame being parsed, nil for other requests
	parsed []ftFrame
	pos    int64
	done   int64
}

// ftFrame is a parsed Produce frame and the stream offset just past it.
type ftFrame struct {
	end  int64
	data []byte
}

func (c *ftWireConn) Write(p []byte) (int, error) {
	c.parse(p)
	n, err := c.Conn.Write(p)
	c.done += int64(n)
	for len(c.parsed) > 0 && c.parsed[0].end <= c.done {
		c.tap.wroteProduce(c.parsed[0].data)
		c.parsed = c.parsed[1:]
	}
	return n, err
}

// parse keeps the bytes of the Produce frames in p.
func (c *ftWireConn) parse(p []byte) {
	for len(p) > 0 {
		if c.skip > 0 {
			n := min(c.skip, len(p))
			if c.frame != nil {
				c.frame = append(c.frame, p[:n]...)
			}
			c.skip -= n
			c.pos += int64(n)
			p = p[n:]
			if c.skip == 0 && c.frame != nil {
				c.parsed = append(c.parsed, ftFrame{end: c.pos, data: c.frame})
				c.frame = nil
			}
			continue
		}
		n := min(12-len(c.hdr), len(p))
		c.hdr = append(c.hdr, p[:n]...)
		c.pos += int64(n)
		p = p[n:]
		if len(c.hdr) < 12 {
			return
		}
		if int16(binary.BigEndian.Uint16(c.hdr[4:6])) == int16(kmsg.Produce) {
			c.carried.Store(true)
			c.frame = slices.Clone(c.hdr)
		}
		c.skip = int(binary.BigEndian.Uint32(c.hdr[0:4])) + 4 - 12
		c.hdr = c.hdr[:0]
	}
}

// Close waits for ftTap.gateClose first when this is the first connection that carried
// a Produce request to close.
func (c *ftWireConn) Close() error {
	if c.tap.gateClose != nil && c.carried.Load() {
		gate := false
		c.tap.gateOnce.Do(func() { gate = true; close(c.tap.gated) })
		if gate {
			<-c.tap.gateClose
		}
	}
	return c.Conn.Close()
}

func (tp *ftTap) init() { tp.initOnce.Do(func() { tp.changed = make(chan struct{}) }) }

// wroteProduce records a Produce frame whose last byte the network took.
func (tp *ftTap) wroteProduce(frame []byte) {
	tp.init()
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.written = append(tp.written, frame)
	close(tp.changed)
	tp.changed = make(chan struct{})
}

// waitProduces waits until n Produce requests have been written whole, over all
// connections, and returns their frames.
func (tp *ftTap) waitProduces(t *testing.T, n int) [][]byte {
	t.Helper()
	tp.init()
	timeout := time.After(waitLong)
	for {
		tp.mu.Lock()
		got, ch := slices.Clone(tp.written), tp.changed
		tp.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("%d Produce requests written within %v, want %d", len(got), waitLong, n)
		}
	}
}

// settledProduces returns how many Produce requests were written whole once every one the
// client began to write is counted. The count of a request is taken after the network took
// its last byte, which can be after its answer reached the producer: a baseline taken
// right after an acknowledgement must wait for it, or it misses that request.
func (tp *ftTap) settledProduces(t *testing.T) int {
	t.Helper()
	var n int
	waitUntil(t, "every Produce request begun counted as written", func() bool {
		n = len(tp.producesWritten())
		return n == producesStarted(tp)
	})
	return n
}

// producesStarted counts the Produce requests the client began to write, on every
// connection; a request is counted before its bytes reach the socket, so before its
// answer can arrive.
func producesStarted(tp *ftTap) int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	n := 0
	for _, c := range tp.conns {
		n += int(c.produces.Load())
	}
	return n
}

// producesWritten returns the Produce frames written whole so far.
func (tp *ftTap) producesWritten() [][]byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return slices.Clone(tp.written)
}
