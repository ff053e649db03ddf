package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
)

// Sizes for connections without writev (TLS, pipes, wrappers): segments below
// coalesceBelow are copied into one scratch buffer of coalesceSize so a batch
// of small frames becomes one Write (one TLS record), while big segments are
// written in place.
const (
	coalesceBelow = 16 << 10
	coalesceSize  = 64 << 10
)

// writeLoop is the state of the write loop goroutine; only that goroutine
// touches it.
type writeLoop struct {
	c       *Conn
	batch   []*request  // taken from Conn.queue, swapped back empty
	live    []*request  // requests of this batch awaiting a response
	noResp  []*request  // requests of this batch that complete on write
	iov     net.Buffers // segments of this batch
	wv      net.Buffers // what WriteTo consumes; shares iov's array
	writev  bool        // nc is a socket that supports writev
	scratch []byte      // coalescing buffer when !writev
	corr    int32       // next correlation id
	off     int64       // bytes handed to the network so far
	sizes   []int64     // frame sizes of this batch's requests, for opts.IO
	held    bool        // the read loop waits for release (reauth.go)
}

func (w *writeLoop) init(c *Conn) {
	w.c = c
	switch c.nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		w.writev = true
	}
}

// writeLoop takes everything queued since its last pass and writes it as one
// batch, so several pipelined requests cost one syscall.
func (c *Conn) writeLoop() {
	defer close(c.writeDone)
	w := &c.w
	for {
		select {
		case <-c.wake:
		case <-c.dying:
			return
		}
		if c.opts.SASL != nil {
			if err := c.maybeReauthenticate(); err != nil {
				return // the connection closed
			}
		}
		c.mu.Lock()
		w.batch, c.queue = c.queue, w.batch[:0]
		c.mu.Unlock()
		err := w.writeBatch()
		clear(w.batch)
		if err != nil {
			return
		}
	}
}

// writeBatch stamps correlation ids, publishes the requests that expect a
// response to the in-flight FIFO before writing (a response may arrive before
// the write call returns) and writes the batch. It completes every request it
// does not publish. On a write error it shuts the connection down and returns
// the error.
func (w *writeLoop) writeBatch() error {
	c := w.c
	now := time.Now()
	start := w.off
	end := start
	for _, r := range w.batch {
		if !r.state.CompareAndSwap(stateQueued, stateTaken) {
			c.finish(r, nil, c.requestError(r.key, false, context.Canceled))
			continue
		}
		if err := r.ctx.Err(); err != nil {
			c.finish(r, nil, c.requestError(r.key, false, err))
			continue
		}
		binary.BigEndian.PutUint32(r.frame[0][8:12], uint32(w.corr))
		r.corr = w.corr
		// Correlation ids wrap to 0, never negative, as in the Java client.
		if w.corr++; w.corr < 0 {
			w.corr = 0
		}
		r.writtenAt = now
		before := end
		for _, s := range r.frame {
			w.iov = append(w.iov, s)
			end += int64(len(s))
		}
		if c.opts.IO != nil {
			w.sizes = append(w.sizes, end-before)
		}
		r.end = end
		r.written = true
		if r.expectResponse {
			w.live = append(w.live, r)
		} else {
			w.noResp = append(w.noResp, r)
		}
	}
	if end == start {
		return nil
	}
	if c.opts.IO != nil {
		// Counted as sent before they are published: once published, an answer may be
		// read and counted before the write call returns, and a response must never
		// be counted before its request. A write that fails kills the connection; its
		// requests stay counted.
		c.opts.IO.Sent(w.sizes, now.UnixMilli())
		w.sizes = w.sizes[:0]
	}
	timeout := c.opts.RequestTimeout
	if len(w.live) > 0 {
		c.inflightMu.Lock()
		for _, r := range w.live {
			c.inflight.push(r)
		}
		if !c.readArmed {
			_ = c.nc.SetReadDeadline(now.Add(timeout))
			c.readArmed = true
		}
		c.inflightMu.Unlock()
		// From here the read loop owns these requests and may complete
		// and recycle them at any moment.
		clear(w.live)
		w.live = w.live[:0]
	}

	_ = c.nc.SetWriteDeadline(now.Add(timeout))
	n, err := w.write()
	w.off = start + n
	c.lastUsed.Store(now.UnixNano())

	if err != nil {
		if isTimeout(err) {
			err = fmt.Errorf("%w: write did not finish within %v", ErrTimeout, timeout)
		}
		c.shutdown(err)
		// A request whose frame was not completely handed to the network
		// cannot have been applied by the broker.
		c.inflightMu.Lock()
		for i := range c.inflight.len() {
			if r := c.inflight.at(i); r.end > w.off {
				r.written = false
			}
		}
		c.inflightMu.Unlock()
	}
	for i, r := range w.noResp {
		w.noResp[i] = nil
		if err != nil && r.end > w.off {
			c.finish(r, nil, c.requestError(r.key, false, c.closeErr))
			continue
		}
		c.finish(r, nil, nil)
	}
	w.noResp = w.noResp[:0]
	return err
}

// maxWritev caps the bytes of one writev. Coalescing exists for many small requests;
// a writev of several 1 MB requests (max.in.flight of them) outgrew the socket buffer,
// so the kernel took part, the poller waited for room and the call resumed: at 1 KiB
// records on loopback, capping at 1 MiB gave ~7% more records/s for ~6% less CPU.
const maxWritev = 1 << 20

// writeChunks writes iov with writev, at most maxWritev bytes (or one slice, if larger)
// per call.
func (w *writeLoop) writeChunks() (int64, error) {
	var total int64
	for rest := w.iov; len(rest) > 0; {
		n, size := 0, 0
		for n < len(rest) && (n == 0 || size+len(rest[n]) <= maxWritev) {
			size += len(rest[n])
			n++
		}
		w.wv = rest[:n:n]
		m, err := w.wv.WriteTo(w.c.nc)
		total += m
		if err != nil {
			return total, err
		}
		rest = rest[n:]
	}
	return total, nil
}

// write writes iov and reports how many bytes were handed to the network.
func (w *writeLoop) write() (int64, error) {
	defer func() {
		clear(w.iov)
		w.iov = w.iov[:0]
	}()
	if w.writev {
		return w.writeChunks()
	}
	if w.scratch == nil {
		w.scratch = make([]byte, 0, coalesceSize)
	}
	var n int64
	flush := func() error {
		if len(w.scratch) == 0 {
			return nil
		}
		m, err := w.c.nc.Write(w.scratch)
		n += int64(m)
		w.scratch = w.scratch[:0]
		return err
	}
	for _, s := range w.iov {
		if len(s) >= coalesceBelow {
			if err := flush(); err != nil {
				return n, err
			}
			m, err := w.c.nc.Write(s)
			n += int64(m)
			if err != nil {
				return n, err
			}
			continue
		}
		if len(w.scratch)+len(s) > cap(w.scratch) {
			if err := flush(); err != nil {
				return n, err
			}
		}
		w.scratch = append(w.scratch, s...)
	}
	return n, flush()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
