package broker

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// checkLeaks fails the test if goroutines started during it are still running
// shortly after it ends. Register it first so it runs after other cleanups.
func checkLeaks(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(30 * time.Second) // only a leak uses it up
		for {
			now := runtime.NumGoroutine()
			if now <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, now, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordBatch encodes a v2 RecordBatch of values with a valid CRC.
func recordBatch(values ...string) []byte {
	var recs []byte
	for i, v := range values {
		rec := kmsg.Record{OffsetDelta: int32(i), Value: []byte(v)}
		rec.Length = int32(len(rec.AppendTo(nil)) - 1)
		recs = rec.AppendTo(recs)
	}
	now := time.Now().UnixMilli()
	b := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1,
		Magic:                2,
		LastOffsetDelta:      int32(len(values) - 1),
		FirstTimestamp:       now,
		MaxTimestamp:         now,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(values)),
		Records:              recs,
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:12], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:21], crc32.Checksum(raw[21:], castagnoli))
	return raw
}

// produceFrame encodes a whole Produce request frame (header included) and
// splits it into segments at the given offsets, to exercise writev.
func produceFrame(version int16, acks int16, topic string, batch []byte, splits ...int) [][]byte {
	req := kmsg.ProduceRequest{
		Version:       version,
		Acks:          acks,
		TimeoutMillis: 5000,
		Topics: []kmsg.ProduceRequestTopic{{
			Topic:      topic,
			Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: batch}},
		}},
	}
	buf := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(buf[6:], uint16(version))
	buf = append(buf, 0xff, 0xff) // null client id
	if req.IsFlexible() {
		buf = append(buf, 0)
	}
	buf = req.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	var frame [][]byte
	prev := 0
	for _, s := range splits {
		if s > prev && s < len(buf) {
			frame = append(frame, buf[prev:s])
			prev = s
		}
	}
	return append(frame, buf[prev:])
}

// fakeBroker is a scripted broker on a loopback listener (or, with pipe, on
// net.Pipe). Each accepted connection runs script after the handshake.
type fakeBroker struct {
	t      testing.TB
	ln     net.Listener
	script func(*fakeConn)
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func newFakeBroker(t testing.TB, script func(*fakeConn)) *fakeBroker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fb := &fakeBroker{t: t, ln: ln, script: script}
	fb.wg.Add(1)
	go func() {
		defer fb.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			fb.serve(nc)
		}
	}()
	t.Cleanup(fb.close)
	return fb
}

func (fb *fakeBroker) addr() string { return fb.ln.Addr().String() }

func (fb *fakeBroker) serve(nc net.Conn) {
	fb.mu.Lock()
	fb.conns = append(fb.conns, nc)
	fb.mu.Unlock()
	fb.wg.Add(1)
	go func() {
		defer fb.wg.Done()
		defer nc.Close()
		fc := &fakeConn{t: fb.t, nc: nc, br: bufio.NewReader(nc)}
		if !fc.handshake() {
			return
		}
		fb.script(fc)
	}()
}

// pipeDialer returns a Dialer that serves each dial over net.Pipe (no
// writev, synchronous writes).
func (fb *fakeBroker) pipeDialer() func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		fb.serve(server)
		return client, nil
	}
}

func (fb *fakeBroker) close() {
	fb.ln.Close()
	fb.mu.Lock()
	for _, c := range fb.conns {
		c.Close()
	}
	fb.mu.Unlock()
	fb.wg.Wait()
}

type fakeConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

type fakeRequest struct {
	key, version int16
	corr         int32
	body         []byte // after the header
}

func (fc *fakeConn) read() (fakeRequest, error) {
	var size [4]byte
	if _, err := io.ReadFull(fc.br, size[:]); err != nil {
		return fakeRequest{}, err
	}
	buf := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(fc.br, buf); err != nil {
		return fakeRequest{}, err
	}
	if len(buf) < 10 {
		return fakeRequest{}, errors.New("short request")
	}
	r := fakeRequest{
		key:     int16(binary.BigEndian.Uint16(buf)),
		version: int16(binary.BigEndian.Uint16(buf[2:])),
		corr:    int32(binary.BigEndian.Uint32(buf[4:])),
	}
	rest := buf[8:]
	if n := int16(binary.BigEndian.Uint16(rest)); n > 0 {
		rest = rest[2+int(n):]
	} else {
		rest = rest[2:]
	}
	if responseHeaderFlexible(r.key, r.version) || (r.key == apiVersionsKey && r.version >= 3) {
		rest = rest[1:]
	}
	r.body = rest
	return r, nil
}

// respond writes a response frame; flexible adds an empty header tag section.
func (fc *fakeConn) respond(corr int32, flexible bool, body []byte) error {
	buf := make([]byte, 8, 9+len(body))
	binary.BigEndian.PutUint32(buf[4:], uint32(corr))
	if flexible {
		buf = append(buf, 0)
	}
	buf = append(buf, body...)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	_, err := fc.nc.Write(buf)
	return err
}

func (fc *fakeConn) writeRaw(b []byte) { _, _ = fc.nc.Write(b) }

// handshake answers the client's ApiVersions.
func (fc *fakeConn) handshake() bool {
	req, err := fc.read()
	if err != nil || req.key != apiVersionsKey {
		return false
	}
	resp := kmsg.ApiVersionsResponse{Version: req.version}
	for _, k := range []struct{ key, min, max int16 }{{0, 3, 12}, {3, 0, 12}, {18, 0, 3}} {
		resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k.key, MinVersion: k.min, MaxVersion: k.max})
	}
	return fc.respond(req.corr, false, resp.AppendTo(nil)) == nil
}

// answerAll answers every request with an empty-ish response of the right
// header kind until the connection ends.
func (fc *fakeConn) answerAll(body []byte) {
	for {
		req, err := fc.read()
		if err != nil {
			return
		}
		if req.key == 0 && acksOf(req) == 0 {
			continue
		}
		if fc.respond(req.corr, responseHeaderFlexible(req.key, req.version), body) != nil {
			return
		}
	}
}

func acksOf(req fakeRequest) int16 {
	p := kmsg.ProduceRequest{Version: req.version}
	if p.ReadFrom(req.body) != nil {
		return -1
	}
	return p.Acks
}

func mustDial(t testing.TB, addr string, opts Options) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type result struct {
	body []byte
	err  error
}

// collect returns a done callback that copies results into ch.
func collect(ch chan<- result) func([]byte, error) {
	return func(b []byte, err error) {
		ch <- result{body: append([]byte(nil), b...), err: err}
	}
}

func wait(t testing.TB, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("timed out waiting for completion")
		return result{}
	}
}

func asRequestError(t testing.TB, err error) *RequestError {
	t.Helper()
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *RequestError", err, err)
	}
	return re
}
