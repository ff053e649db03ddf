package broker

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// benchBroker answers every request with one canned Produce v9 response,
// allocating nothing per request so that b.ReportAllocs measures the client.
type benchBroker struct {
	ln net.Listener
	wg sync.WaitGroup
}

func newBenchBroker(b *testing.B) *benchBroker {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	bb := &benchBroker{ln: ln}
	resp := kmsg.ProduceResponse{Version: 9, Topics: []kmsg.ProduceResponseTopic{{
		Topic:      "t",
		Partitions: []kmsg.ProduceResponseTopicPartition{{BaseOffset: 1, LogAppendTime: -1}},
	}}}
	canned := append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0}, resp.AppendTo(nil)...)
	binary.BigEndian.PutUint32(canned, uint32(len(canned)-4))
	bb.wg.Add(1)
	go func() {
		defer bb.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			bb.wg.Add(1)
			go func() {
				defer bb.wg.Done()
				defer nc.Close()
				fc := &fakeConn{t: b, nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
				if !fc.handshake() {
					return
				}
				bw := bufio.NewWriterSize(nc, 64<<10)
				var hdr [12]byte
				buf := make([]byte, 64<<10)
				for {
					if _, err := io.ReadFull(fc.br, hdr[:]); err != nil {
						return
					}
					rest := int(binary.BigEndian.Uint32(hdr[:])) - 8
					for rest > 0 {
						n, err := fc.br.Read(buf[:min(rest, len(buf))])
						if err != nil {
							return
						}
						rest -= n
					}
					copy(canned[4:8], hdr[8:12])
					_, _ = bw.Write(canned)
					if fc.br.Buffered() == 0 && bw.Flush() != nil {
						return
					}
				}
			}()
		}
	}()
	b.Cleanup(func() { ln.Close(); bb.wg.Wait() })
	return bb
}

// BenchmarkProduceRoundTrip pipelines Produce requests over loopback TCP; the
// target is 0 allocs/op in steady state.
func BenchmarkProduceRoundTrip(b *testing.B) {
	for _, inflight := range []int{1, 5} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			bb := newBenchBroker(b)
			c := mustDial(b, bb.ln.Addr().String(), Options{MaxInFlight: inflight})
			frames := make([][][]byte, inflight+1)
			for i := range frames {
				frames[i] = produceFrame(9, -1, "t", recordBatch("hello world"), 12)
			}
			var completed atomic.Int64
			finished := make(chan struct{})
			total := int64(b.N)
			done := func(body []byte, err error) {
				if err != nil || len(body) == 0 {
					panic(fmt.Sprint("bad completion: ", err))
				}
				if completed.Add(1) == total {
					close(finished)
				}
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := c.Produce(ctx, frames[i%len(frames)], true, done); err != nil {
					b.Fatal(err)
				}
			}
			<-finished
		})
	}
}
