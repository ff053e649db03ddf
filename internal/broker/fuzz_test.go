package broker

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func fuzzSeeds(f *testing.F) {
	f.Add(append(frameBytes(5), 0, 0, 0, 0, 0))
	f.Add(append(frameBytes(9), 0, 0, 0, 1, 1, 3, 1, 9, 7))
	f.Add(frameBytes(0x7fffffff))
	f.Add(frameBytes(-1))
	f.Add(append(frameBytes(100), 1, 2, 3))
	f.Add([]byte{0, 0})
	f.Add(bytes.Repeat(append(frameBytes(4), 0, 0, 0, 1), 3))
}

// FuzzFrameReader feeds arbitrary bytes to the response frame reader and the
// header tag parser: they must never panic, never return a frame above the
// cap and never grow the buffer past it.
func FuzzFrameReader(f *testing.F) {
	fuzzSeeds(f)
	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := frameReader{r: bytes.NewReader(data), max: limit}
		for {
			frame, err := fr.next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrMalformedResponse) {
					t.Fatalf("unexpected error type: %v", err)
				}
				return
			}
			if len(frame) < 4 || len(frame) > limit || cap(fr.buf) > limit {
				t.Fatalf("frame %d bytes, buffer %d", len(frame), cap(fr.buf))
			}
			if rest, err := skipTags(frame[4:]); err == nil && len(rest) > len(frame) {
				t.Fatal("skipTags grew the body")
			}
		}
	})
}

// FuzzConnResponses answers a Metadata request with arbitrary bytes over a
// pipe: the connection must fail or succeed cleanly, never panic or hang.
func FuzzConnResponses(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		served := make(chan struct{})
		go func() {
			defer close(served)
			defer server.Close()
			fc := &fakeConn{t: t, nc: server, br: bufio.NewReader(server)}
			if !fc.handshake() {
				return
			}
			if _, err := fc.read(); err != nil {
				return
			}
			fc.writeRaw(data)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := Dial(ctx, "fuzz", Options{
			Dialer:          func(context.Context, string, string) (net.Conn, error) { return client, nil },
			RequestTimeout:  time.Second,
			MaxResponseSize: 1 << 16,
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Do(ctx, kmsg.NewPtrMetadataRequest())
		var re *RequestError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("untyped error %v", err)
		}
		c.Close()
		<-served
	})
}
