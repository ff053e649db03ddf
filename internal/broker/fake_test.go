package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func frameBytes(size int32, rest ...byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(size)), rest...)
}

func corrBytes(corr int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(corr)) }

// Hostile or broken responses end the connection with a typed error; the
// pending request says it may have been written.
func TestHostileResponses(t *testing.T) {
	tests := []struct {
		name    string
		respond func(fc *fakeConn, req fakeRequest)
		want    []error
	}{
		{
			name: "truncated body then close",
			respond: func(fc *fakeConn, req fakeRequest) {
				fc.writeRaw(append(frameBytes(100), corrBytes(req.corr)...))
			},
			want: []error{ErrConnClosed, ErrMalformedResponse},
		},
		{
			name:    "truncated size prefix",
			respond: func(fc *fakeConn, _ fakeRequest) { fc.writeRaw([]byte{0, 0}) },
			want:    []error{ErrConnClosed, ErrMalformedResponse},
		},
		{
			name:    "closed before any response",
			respond: func(*fakeConn, fakeRequest) {},
			want:    []error{ErrConnClosed},
		},
		{
			name:    "size 0x7fffffff",
			respond: func(fc *fakeConn, _ fakeRequest) { fc.writeRaw(frameBytes(0x7fffffff)) },
			want:    []error{ErrConnClosed, ErrMalformedResponse},
		},
		{
			name:    "size just above cap",
			respond: func(fc *fakeConn, _ fakeRequest) { fc.writeRaw(frameBytes(1<<20 + 1)) },
			want:    []error{ErrMalformedResponse},
		},
		{
			name:    "size 0",
			respond: func(fc *fakeConn, _ fakeRequest) { fc.writeRaw(frameBytes(0)) },
			want:    []error{ErrMalformedResponse},
		},
		{
			name:    "negative size",
			respond: func(fc *fakeConn, _ fakeRequest) { fc.writeRaw(frameBytes(-5)) },
			want:    []error{ErrMalformedResponse},
		},
		{
			name:    "size too small for correlation id",
			respond: func(fc *fakeConn, _ fakeRequest) { fc.writeRaw(frameBytes(3, 0, 0, 0)) },
			want:    []error{ErrMalformedResponse},
		},
		{
			name: "wrong correlation id",
			respond: func(fc *fakeConn, req fakeRequest) {
				_ = fc.respond(req.corr+1, true, []byte{0, 0, 0, 0})
			},
			want: []error{ErrConnClosed, ErrMalformedResponse},
		},
		{
			name: "bad header tags",
			respond: func(fc *fakeConn, req fakeRequest) {
				fc.writeRaw(append(frameBytes(6), append(corrBytes(req.corr), 1, 5)...))
			},
			want: []error{ErrMalformedResponse},
		},
		{
			name: "undecodable body",
			respond: func(fc *fakeConn, req fakeRequest) {
				_ = fc.respond(req.corr, true, []byte{0, 0, 0, 0, 9})
			},
			want: []error{ErrMalformedResponse},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			fb := newFakeBroker(t, func(fc *fakeConn) {
				req, err := fc.read()
				if err != nil {
					return
				}
				// Then the connection closes: the client reads the answer under test
				// before the end of the stream, whatever the timing.
				tt.respond(fc, req)
			})
			c := mustDial(t, fb.addr(), Options{MaxResponseSize: 1 << 20})
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.Do(context.Background(), kmsg.NewPtrMetadataRequest())
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("err %v is not %v", err, w)
				}
			}
			re := asRequestError(t, err)
			if !re.Written || !re.Retriable() {
				t.Errorf("written %v retriable %v", re.Written, re.Retriable())
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Errorf("allocated %d bytes for a hostile response", grew)
			}
			select {
			case <-c.Done():
			case <-time.After(30 * time.Second):
				t.Fatal("connection not closed")
			}
			if !errors.Is(c.Err(), ErrConnClosed) {
				t.Fatalf("Err() = %v", c.Err())
			}
		})
	}
}

// A response nobody asked for is a protocol violation.
func TestUnsolicitedResponse(t *testing.T) {
	checkLeaks(t)
	fb := newFakeBroker(t, func(fc *fakeConn) {
		_ = fc.respond(77, false, []byte{1})
		_, _ = fc.read()
	})
	c := mustDial(t, fb.addr(), Options{})
	<-c.Done()
	if !errors.Is(c.Err(), ErrMalformedResponse) {
		t.Fatalf("Err() = %v", c.Err())
	}
	if err := c.Produce(context.Background(), produceFrame(9, -1, "t", recordBatch("x")), true, nil); !errors.Is(err, ErrConnClosed) || asRequestError(t, err).Written {
		t.Fatalf("produce on dead conn: %v", err)
	}
}

// A broker that never answers: after request.timeout.ms the connection closes
// and every pending request fails as retriable and maybe written.
func TestNeverAnswers(t *testing.T) {
	checkLeaks(t)
	fb := newFakeBroker(t, func(fc *fakeConn) {
		for {
			if _, err := fc.read(); err != nil {
				return
			}
		}
	})
	const timeout = 150 * time.Millisecond
	c := mustDial(t, fb.addr(), Options{RequestTimeout: timeout, MaxInFlight: 3})
	ch := make(chan result, 3)
	start := time.Now()
	for range 3 {
		if err := c.Produce(context.Background(), produceFrame(9, -1, "t", recordBatch("x"), 12), true, collect(ch)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		r := wait(t, ch)
		if !errors.Is(r.err, ErrTimeout) || !errors.Is(r.err, ErrConnClosed) {
			t.Fatalf("err %v", r.err)
		}
		if re := asRequestError(t, r.err); !re.Written || !re.Retriable() || re.Key != 0 {
			t.Fatalf("%+v", re)
		}
	}
	if el := time.Since(start); el < timeout {
		t.Fatalf("failed after %v, before the timeout", el)
	}
	<-c.Done()
}

// TestDoSlotWaitSaysWhere: a Do whose ctx ends while every in-flight slot is held by an
// unanswered request fails unwritten and says it was waiting for a slot, so a caller's
// timeout names the wait it cut short.
func TestDoSlotWaitSaysWhere(t *testing.T) {
	checkLeaks(t)
	got := make(chan struct{}, 1)
	fb := newFakeBroker(t, func(fc *fakeConn) {
		for {
			if _, err := fc.read(); err != nil {
				return
			}
			got <- struct{}{}
		}
	})
	c := mustDial(t, fb.addr(), Options{MaxInFlight: 1})
	defer c.Close()
	ch := make(chan result, 1)
	if err := c.Produce(context.Background(), produceFrame(9, -1, "t", recordBatch("x")), true, collect(ch)); err != nil {
		t.Fatal(err)
	}
	<-got // the only slot is held by a written, unanswered request
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Do(ctx, kmsg.NewPtrMetadataRequest())
	if re := asRequestError(t, err); re.Written || !errors.Is(err, context.Canceled) {
		t.Fatalf("Do: %v", err)
	}
	if !strings.Contains(err.Error(), "for one of the connection's 1 in-flight slots") {
		t.Errorf("Do: %q does not say it waited for an in-flight slot", err)
	}
}

// Requests that keep being answered never time out, however long the
// connection lives: the lazily armed deadline follows the oldest request.
func TestNoSpuriousTimeout(t *testing.T) {
	checkLeaks(t)
	fb := newFakeBroker(t, func(fc *fakeConn) {
		for {
			req, err := fc.read()
			if err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond) // a slow broker, well within the timeout
			if fc.respond(req.corr, true, []byte{0, 0, 0, 0}) != nil {
				return
			}
		}
	})
	const timeout = 300 * time.Millisecond
	c := mustDial(t, fb.addr(), Options{RequestTimeout: timeout})
	ch := make(chan result, 1)
	for range 40 { // 40 x 20ms spans several timeouts
		if err := c.Produce(context.Background(), produceFrame(9, -1, "t", recordBatch("x")), true, collect(ch)); err != nil {
			t.Fatal(err)
		}
		if r := wait(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
	time.Sleep(timeout + 100*time.Millisecond) // the scenario: idle past the timeout
	if err := c.Produce(context.Background(), produceFrame(9, -1, "t", recordBatch("x")), true, collect(ch)); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
}

// Over net.Pipe writes block until the peer reads, so a broker that stops
// reading holds the first request in its write: later requests are provably
// unwritten when their ctx ends or the connection closes.
func TestNotWritten(t *testing.T) {
	checkLeaks(t)
	stop := make(chan struct{})
	started := make(chan struct{})
	fb := newFakeBroker(t, func(fc *fakeConn) {
		_, _ = fc.br.Peek(1) // the big frame's write has begun
		close(started)
		<-stop
	})
	defer close(stop)
	c, err := Dial(context.Background(), "pipe", Options{Dialer: fb.pipeDialer()})
	if err != nil {
		t.Fatal(err)
	}

	first := make(chan result, 1)
	big := string(make([]byte, 64<<10))
	if err := c.Produce(context.Background(), produceFrame(9, -1, "t", recordBatch(big)), true, collect(first)); err != nil {
		t.Fatal(err)
	}
	<-started

	// Do with a ctx that ends while queued behind the stuck write.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Do(ctx, kmsg.NewPtrMetadataRequest())
	if re := asRequestError(t, err); re.Written || !errors.Is(err, context.DeadlineExceeded) || re.Retriable() {
		t.Fatalf("Do: %v", err)
	}
	if !strings.Contains(err.Error(), "never written") || strings.Contains(err.Error(), "re-authenticates") {
		t.Errorf("Do: %q does not say the request waited in the queue", err)
	}

	// Produce with a ctx already cancelled completes unwritten.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	second := make(chan result, 1)
	if err := c.Produce(cctx, produceFrame(9, -1, "t", recordBatch("x")), true, collect(second)); err != nil {
		t.Fatal(err)
	}

	c.Close()
	for _, ch := range []chan result{first, second} {
		r := wait(t, ch)
		if re := asRequestError(t, r.err); re.Written {
			t.Fatalf("reported written: %v", r.err)
		}
	}
	c.Close() // idempotent
}

// A broker that reads part of a frame and closes: that request was not
// completely written, so it cannot have been applied.
func TestPartialWrite(t *testing.T) {
	checkLeaks(t)
	fb := newFakeBroker(t, func(fc *fakeConn) {
		buf := make([]byte, 100)
		_, _ = io.ReadFull(fc.br, buf)
		fc.nc.Close()
	})
	c, err := Dial(context.Background(), "pipe", Options{Dialer: fb.pipeDialer()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch := make(chan result, 1)
	big := make([]byte, 64<<10)
	if err := c.Produce(context.Background(), produceFrame(9, -1, "t", recordBatch(string(big))), true, collect(ch)); err != nil {
		t.Fatal(err)
	}
	r := wait(t, ch)
	if re := asRequestError(t, r.err); re.Written || !errors.Is(r.err, ErrConnClosed) {
		t.Fatalf("%v", r.err)
	}
}

// The fake over a loopback TCP socket (writev) and over net.Pipe (coalesced
// writes) answers pipelined requests in order, and acks=0 completes on write.
func TestFakePipelining(t *testing.T) {
	for _, pipe := range []bool{false, true} {
		t.Run(map[bool]string{false: "tcp", true: "pipe"}[pipe], func(t *testing.T) {
			checkLeaks(t)
			fb := newFakeBroker(t, func(fc *fakeConn) { fc.answerAll([]byte{0, 0, 0, 0}) })
			opts := Options{MaxInFlight: 4}
			if pipe {
				opts.Dialer = fb.pipeDialer()
			}
			c := mustDial(t, fb.addr(), opts)
			ch := make(chan result, 100)
			big := string(make([]byte, 40<<10))
			for i := range 50 {
				acks, expect := int16(-1), true
				if i%5 == 0 {
					acks, expect = 0, false
				}
				v := "x"
				if i%7 == 0 {
					v = big
				}
				if err := c.Produce(context.Background(), produceFrame(9, acks, "t", recordBatch(v), 12, 30), expect, collect(ch)); err != nil {
					t.Fatal(err)
				}
			}
			for range 50 {
				if r := wait(t, ch); r.err != nil {
					t.Fatal(r.err)
				}
			}
		})
	}
}

func TestTryProduceAndAbort(t *testing.T) {
	checkLeaks(t)
	release := make(chan struct{})
	fb := newFakeBroker(t, func(fc *fakeConn) {
		<-release
		fc.answerAll([]byte{0, 0, 0, 0})
	})
	c := mustDial(t, fb.addr(), Options{MaxInFlight: 2})
	ch := make(chan result, 4)
	for range 2 {
		if err := c.TryProduce(context.Background(), produceFrame(9, -1, "t", recordBatch("x")), true, collect(ch)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.TryProduce(context.Background(), produceFrame(9, -1, "t", recordBatch("x")), true, collect(ch)); err != ErrInFlightLimit {
		t.Fatalf("third TryProduce: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := c.Produce(ctx, produceFrame(9, -1, "t", recordBatch("x")), true, collect(ch)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocked Produce: %v", err)
	}
	close(release)
	for range 2 {
		if r := wait(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}

	// Abort from inside a completion callback does not deadlock.
	done := make(chan error, 1)
	if err := c.Produce(context.Background(), produceFrame(9, -1, "t", recordBatch("x")), true, func(_ []byte, err error) {
		c.Abort(errors.New("sender gave up"))
		done <- err
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if !errors.Is(c.Err(), ErrConnClosed) {
		t.Fatal(c.Err())
	}
}

func TestInvalidFrames(t *testing.T) {
	checkLeaks(t)
	fb := newFakeBroker(t, func(fc *fakeConn) { fc.answerAll(nil) })
	c := mustDial(t, fb.addr(), Options{})
	good := produceFrame(9, -1, "t", recordBatch("x"))[0]
	for _, frame := range [][][]byte{
		nil,
		{},
		{good[:11]},
		{good[:20]},
		{append(append([]byte(nil), good...), 1)},
		{frameBytes(4, 0, 0, 0, 0, 0, 0, 0, 0)},
	} {
		err := c.Produce(context.Background(), frame, true, func([]byte, error) { t.Error("callback ran") })
		if !errors.Is(err, ErrInvalidFrame) || asRequestError(t, err).Retriable() {
			t.Fatalf("frame %v: %v", frame, err)
		}
	}
	if _, err := c.Do(context.Background(), Pin(nil)); err == nil {
		t.Fatal("nil request accepted")
	}
}

func TestDialErrors(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := Dial(context.Background(), addr, Options{}); !errors.Is(err, ErrDial) {
		t.Fatalf("refused: %v", err)
	}

	// A broker that accepts but never answers ApiVersions: the setup
	// timeout bounds Dial.
	fb := newFakeBroker(t, nil)
	silent := func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() { _, _ = io.Copy(io.Discard, server) }()
		fb.mu.Lock()
		fb.conns = append(fb.conns, server)
		fb.mu.Unlock()
		return client, nil
	}
	start := time.Now()
	_, err = Dial(context.Background(), "x", Options{Dialer: silent, ConnectionSetupTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrDial) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second { // a hang, not speed
		t.Fatalf("silent broker: %v after %v", err, time.Since(start))
	}
}

func TestConcurrentClose(t *testing.T) {
	checkLeaks(t)
	fb := newFakeBroker(t, func(fc *fakeConn) { fc.answerAll([]byte{0, 0, 0, 0}) })
	c := mustDial(t, fb.addr(), Options{MaxInFlight: 8})
	var wg sync.WaitGroup
	var answered atomic.Int32
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				frame := produceFrame(9, -1, "t", recordBatch("x"))
				done := make(chan struct{})
				if err := c.Produce(context.Background(), frame, true, func([]byte, error) { answered.Add(1); close(done) }); err != nil {
					if !errors.Is(err, ErrConnClosed) {
						t.Error(err)
					}
					return
				}
				<-done
			}
		}()
	}
	// Close while requests stream (any interleaving is valid): once some were answered.
	for deadline := time.Now().Add(30 * time.Second); answered.Load() < 20; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests answered within 30s", answered.Load())
		}
	}
	var cwg sync.WaitGroup
	for range 3 {
		cwg.Add(1)
		go func() { defer cwg.Done(); c.Close() }()
	}
	cwg.Wait()
	wg.Wait()
	if c.InFlight() != 0 {
		t.Fatalf("%d slots still held after close", c.InFlight())
	}
}
