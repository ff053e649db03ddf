package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestVersionsPick(t *testing.T) {
	v := newVersions(&kmsg.ApiVersionsResponse{ApiKeys: []kmsg.ApiVersionsResponseApiKey{
		{ApiKey: 0, MinVersion: 3, MaxVersion: 11},
		{ApiKey: 3, MinVersion: 0, MaxVersion: 12},
		{ApiKey: 7, MinVersion: 5, MaxVersion: 2}, // inverted: ignored
	}})
	tests := []struct {
		key, lo, hi int16
		want        int16
		err         bool
	}{
		{0, 3, 12, 11, false},
		{0, 0, 5, 5, false},
		{0, 0, 2, 0, true},
		{0, 12, 13, 0, true},
		{3, 0, 9, 9, false},
		{7, 0, 10, 0, true},
		{99, 0, 10, 0, true},
	}
	for _, tt := range tests {
		got, err := v.Pick(tt.key, tt.lo, tt.hi)
		if (err != nil) != tt.err || (!tt.err && got != tt.want) {
			t.Errorf("Pick(%d, %d, %d) = %d, %v", tt.key, tt.lo, tt.hi, got, err)
		}
		if err != nil && !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("error %v is not ErrUnsupportedVersion", err)
		}
	}
	if !v.Supports(3, 12) || v.Supports(3, 13) || v.Supports(99, 0) {
		t.Error("Supports")
	}
}

func TestResponseHeaderFlexible(t *testing.T) {
	tests := []struct {
		key, version int16
		want         bool
	}{
		{0, 8, false}, {0, 9, true}, {3, 8, false}, {3, 9, true},
		{18, 3, false}, {18, 4, false}, // ApiVersions: always header v0
		{-1, 5, false}, {30000, 5, false}, {1000, 0, false},
	}
	for _, tt := range tests {
		if got := responseHeaderFlexible(tt.key, tt.version); got != tt.want {
			t.Errorf("responseHeaderFlexible(%d, %d) = %v", tt.key, tt.version, got)
		}
	}
}

func TestCheckFrame(t *testing.T) {
	good := produceFrame(9, -1, "t", recordBatch("x"))[0]
	split := produceFrame(9, -1, "t", recordBatch("x"), 12, 20)
	tests := []struct {
		name  string
		frame [][]byte
		ok    bool
	}{
		{"whole", [][]byte{good}, true},
		{"split", split, true},
		{"nil", nil, false},
		{"short header", [][]byte{good[:11]}, false},
		{"header split", [][]byte{good[:8], good[8:]}, false},
		{"size too big", [][]byte{good[:len(good)-1]}, false},
		{"size too small", [][]byte{good, {1}}, false},
	}
	for _, tt := range tests {
		key, version, err := checkFrame(tt.frame)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
		if tt.ok && (key != 0 || version != 9) {
			t.Errorf("%s: key %d version %d", tt.name, key, version)
		}
	}
}

func TestSkipTags(t *testing.T) {
	tests := []struct {
		in   []byte
		rest []byte
		ok   bool
	}{
		{[]byte{0, 7, 8}, []byte{7, 8}, true},
		{[]byte{1, 3, 2, 0xa, 0xb, 9}, []byte{9}, true},
		{[]byte{2, 0, 0, 1, 2, 5}, nil, false}, // second tag's data missing
		{[]byte{}, nil, false},
		{[]byte{0x80}, nil, false},
		{[]byte{1, 3, 0xff, 0xff, 0xff, 0xff, 0x0f}, nil, false},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, nil, false},
	}
	for _, tt := range tests {
		rest, err := skipTags(tt.in)
		if (err == nil) != tt.ok || (tt.ok && !bytes.Equal(rest, tt.rest)) {
			t.Errorf("skipTags(%x) = %x, %v", tt.in, rest, err)
		}
	}
}

func TestFrameReaderBuffer(t *testing.T) {
	var stream []byte
	add := func(n int) {
		stream = append(stream, frameBytes(int32(n))...)
		stream = append(stream, bytes.Repeat([]byte{byte(n)}, n)...)
	}
	add(10)
	add(3 << 20) // grows in steps to 3 MiB
	for range shrinkAfter {
		add(100)
	}
	add(5000)
	fr := frameReader{r: bytes.NewReader(stream), max: 4 << 20}
	for i := 0; ; i++ {
		f, err := fr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f[0] != byte(len(f)) {
			t.Fatalf("frame %d content", i)
		}
		if len(f) == 3<<20 && cap(fr.buf) != 3<<20 {
			t.Fatalf("cap %d after big frame", cap(fr.buf))
		}
	}
	if cap(fr.buf) > 64<<10 {
		t.Fatalf("buffer did not shrink: cap %d", cap(fr.buf))
	}
}

// A reader that returns deadline errors between bytes: the frame reader asks
// whether to continue and resumes where it stopped.
type flakyReader struct {
	data  []byte
	flips int
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func (r *flakyReader) Read(p []byte) (int, error) {
	if r.flips++; r.flips%2 == 0 {
		return 0, timeoutErr{}
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}

func TestFrameReaderResumesAfterDeadline(t *testing.T) {
	asks := 0
	fr := frameReader{
		r:         &flakyReader{data: append(frameBytes(6), 1, 2, 3, 4, 5, 6)},
		max:       100,
		onTimeout: func() bool { asks++; return true },
	}
	f, err := fr.next()
	if err != nil || !bytes.Equal(f, []byte{1, 2, 3, 4, 5, 6}) || asks == 0 {
		t.Fatalf("%x %v asks=%d", f, err, asks)
	}
	fr = frameReader{r: &flakyReader{data: frameBytes(6)}, max: 100, onTimeout: func() bool { return false }}
	if _, err := fr.next(); !isTimeout(err) {
		t.Fatalf("want timeout, got %v", err)
	}
}

func TestFifo(t *testing.T) {
	var q fifo
	q.init(2)
	reqs := make([]*request, 7)
	for i := range reqs {
		reqs[i] = &request{corr: int32(i)}
	}
	next := 0
	for i, r := range reqs {
		q.push(r)
		if i%2 == 1 { // interleave pops so the ring wraps, then grows
			if q.peek() != reqs[next] {
				t.Fatalf("peek %d", next)
			}
			q.pop()
			next++
		}
	}
	rest := q.drain()
	for _, r := range rest {
		if r != reqs[next] {
			t.Fatalf("drain order at %d", next)
		}
		next++
	}
	if next != len(reqs) || q.len() != 0 || q.peek() != nil {
		t.Fatal("fifo not empty")
	}
}

func TestErrors(t *testing.T) {
	timeout := &closedError{addr: "b:9092", cause: fmt.Errorf("%w: no response within %v", ErrTimeout, time.Second)}
	tests := []struct {
		name      string
		err       *RequestError
		is        []error
		retriable bool
		text      string
	}{
		{"timeout", &RequestError{Addr: "b:9092", Key: 0, Written: true, Err: timeout},
			[]error{ErrTimeout, ErrConnClosed}, true,
			"kprod: Produce request to broker b:9092 failed (may have been written): broker connection b:9092 closed: request timed out: no response within 1s"},
		{"closed", &RequestError{Addr: "b", Key: 3, Err: &closedError{addr: "b"}},
			[]error{ErrConnClosed}, true, "kprod: Metadata request to broker b failed (not written): broker connection b closed"},
		{"cancelled", &RequestError{Addr: "b", Key: 3, Err: context.Canceled},
			[]error{context.Canceled}, false, "(not written): context canceled"},
		{"version", &RequestError{Addr: "b", Key: 999, Err: ErrUnsupportedVersion},
			[]error{ErrUnsupportedVersion}, false, "api key 999"},
	}
	for _, tt := range tests {
		for _, target := range tt.is {
			if !errors.Is(tt.err, target) {
				t.Errorf("%s: not %v", tt.name, target)
			}
		}
		if tt.err.Retriable() != tt.retriable || tt.err.MaybeWritten() != tt.err.Written {
			t.Errorf("%s: retriable %v", tt.name, tt.err.Retriable())
		}
		if !strings.Contains(tt.err.Error(), tt.text) {
			t.Errorf("%s: %q lacks %q", tt.name, tt.err.Error(), tt.text)
		}
	}
	de := &dialError{addr: "x", cause: io.EOF}
	if !errors.Is(de, ErrDial) || !errors.Is(de, io.EOF) || !strings.HasPrefix(de.Error(), "kprod: ") {
		t.Error(de)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{}.withDefaults()
	if o.RequestTimeout != 30*time.Second || o.ConnectionSetupTimeout != 10*time.Second ||
		o.MaxInFlight != 5 || o.SendBufferBytes != 131072 || o.ReceiveBufferBytes != 32768 ||
		o.MaxResponseSize != 100<<20 || o.Dialer == nil || o.SoftwareName != "kprod" {
		t.Fatalf("%+v", o)
	}
	o = Options{SendBufferBytes: -1, ReceiveBufferBytes: -1}.withDefaults()
	if o.SendBufferBytes != -1 || o.ReceiveBufferBytes != -1 {
		t.Fatal("-1 must keep the OS default")
	}
}
