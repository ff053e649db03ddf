package drivers

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/kprod-io/kprod/internal/wallclock"
	"github.com/kprod-io/kprod/internal/wire"
)

func init() { registry["floor"] = newFloor }

// floorClient is not a producer but the least one can do per record on this machine, so
// the clients' CPU per record can be read beside it in the same run (issue 5's floor:
// the clock read, the encoding and the loopback write; issue 14 asks for 1.5x of it).
//
// Per record it reads kprod's wall clock (a record timestamp, as Java's send takes) and
// encodes the record into a RecordBatch v2 with kprod's encoder, checksumming as it
// goes; per batch it writes one Produce request and reads its response, then makes the
// harness's acknowledgement per record, as the clients' callbacks do. It keeps nothing
// for a retry: its one buffer is reused as soon as the kernel has copied it. It keeps no
// per-record completion, and has no partitioner, buffer accounting, lock or producer id
// (sequence numbers are stamped per batch, not per record). Uncompressed, one
// partition, no keys, no TLS.
type floorClient struct {
	conn     net.Conn
	tr       *tracker
	payloads [][]byte
	batchMax int
	lingerMs int64

	bb    wire.BatchBuilder
	first int64 // the open batch's first timestamp, for linger
	req   wire.ProduceRequest
	hdr   []byte
	segs  [][]byte
	corr  int32
	slots []*slot // latency mode: the open batch's records

	// flights carries each written request's records to the reader, in order; its
	// capacity is the requests in flight (5, as every client here allows).
	flights chan flight
	dead    chan struct{} // closed when the reader ends; err says why
	err     error
	closed  sync.Once
}

type flight struct {
	corr  int32
	n     int64
	slots []*slot
}

func newFloor(o *Options, payloads [][]byte, tr *tracker) (producer, error) {
	addr, _, _ := strings.Cut(o.Brokers, ",")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	acks := int16(-1)
	if o.Acks == "1" {
		acks = 1
	}
	f := &floorClient{conn: conn, tr: tr, payloads: payloads, batchMax: o.BatchBytes, lingerMs: int64(o.LingerMs),
		req: wire.ProduceRequest{Version: wire.MaxProduceVersion, ClientID: "bench-floor", Acks: acks,
			TimeoutMillis: 30000, Topics: []wire.ProduceTopic{{Name: o.Topic, Partitions: make([]wire.ProducePartition, 1)}}},
		flights: make(chan flight, 5), dead: make(chan struct{})}
	f.bb.TrackCRC(true)
	f.bb.Reset(make([]byte, 0, o.BatchBytes))
	go f.read()
	return f, nil
}

func (f *floorClient) send(ctx context.Context, i int, s *slot) error {
	v := f.payloads[i%len(f.payloads)]
	ts := wallclock.NowMillis()
	if n := f.bb.NumRecords(); n > 0 && f.bb.Len()+f.bb.RecordSize(ts, nil, v, nil) > f.batchMax {
		if err := f.ship(ctx); err != nil {
			return err
		}
	}
	if f.bb.NumRecords() == 0 {
		f.first = ts
	}
	f.bb.Append(ts, nil, v, nil)
	if s != nil {
		f.slots = append(f.slots, s)
	}
	if ts-f.first >= f.lingerMs && len(f.flights) < cap(f.flights) {
		// As a client's sender does: a batch past linger goes when a request slot is
		// free, and keeps filling while all are taken (one request per record at
		// linger 0 would be the most work, not the least).
		return f.ship(ctx)
	}
	return nil
}

// ship writes the open batch as one request and starts the next batch in the same
// buffer: the kernel has copied the bytes when the write returns. It waits while 5
// requests are in flight.
func (f *floorClient) ship(ctx context.Context) error {
	n := f.bb.NumRecords()
	if n == 0 {
		return nil
	}
	f.corr++
	select {
	case f.flights <- flight{corr: f.corr, n: int64(n), slots: f.slots}:
	case <-f.dead:
		return fmt.Errorf("connection ended: %w", f.err)
	case <-ctx.Done():
		return ctx.Err()
	}
	f.slots = nil
	batch := f.bb.Finish(wire.BatchOptions{})
	f.req.Topics[0].Partitions[0].Records = batch
	var err error
	if f.hdr, f.segs, err = f.req.AppendSegments(f.hdr, f.segs, 4096); err != nil {
		return err
	}
	wire.PatchCorrelationID(f.segs[0], f.corr)
	bufs := net.Buffers(f.segs)
	if _, err := bufs.WriteTo(f.conn); err != nil {
		select {
		case <-f.dead: // the reader closed the connection: its cause is the one to tell
			return fmt.Errorf("connection ended: %w", f.err)
		default:
			return err
		}
	}
	f.bb.Reset(batch[:0])
	return nil
}

// read reads the responses in order and acknowledges each request's records. When it
// ends (the connection closed or broken, a response it cannot take), it closes the
// connection, so later writes fail, and fails the requests still in flight.
func (f *floorClient) read() {
	f.err = f.readResponses()
	f.conn.Close()
	close(f.dead)
	for {
		select {
		case fl := <-f.flights:
			f.done(fl, fmt.Errorf("connection ended: %w", f.err))
		default:
			return
		}
	}
}

func (f *floorClient) readResponses() error {
	rd := bufio.NewReaderSize(f.conn, 64<<10)
	var size [4]byte
	var frame []byte
	var resp wire.ProduceResponse
	flexible := wire.IsFlexibleProduce(f.req.Version)
	for {
		if _, err := io.ReadFull(rd, size[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(size[:]))
		if n > 64<<20 {
			return fmt.Errorf("response of %d bytes", n)
		}
		if cap(frame) < n {
			frame = make([]byte, n)
		}
		frame = frame[:n]
		if _, err := io.ReadFull(rd, frame); err != nil {
			return err
		}
		var fl flight
		select {
		case fl = <-f.flights:
		default:
			return errors.New("a response to no request")
		}
		f.done(fl, f.check(&resp, frame, flexible, fl.corr))
	}
}

// done completes one request's records. Each is acknowledged on its own, as the
// clients' per-record callbacks do (kprod.go's k.cb): the harness's work per record
// is then the same on both sides of the ratio.
func (f *floorClient) done(fl flight, err error) {
	if fl.slots == nil {
		for range fl.n {
			f.tr.ack(1, err)
		}
	}
	for _, s := range fl.slots {
		f.tr.slotDone(s, err)
	}
}

// check decodes one response and returns its partition's error, if any.
func (f *floorClient) check(resp *wire.ProduceResponse, frame []byte, flexible bool, corr int32) error {
	got, body, err := wire.ReadResponseHeader(frame, flexible)
	if err == nil && got != corr {
		err = fmt.Errorf("response to request %d, expected %d", got, corr)
	}
	if err == nil {
		err = resp.Decode(f.req.Version, body)
	}
	if err != nil {
		return err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return errors.New("the response does not have the request's one partition")
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		return fmt.Errorf("the broker answered error code %d", code)
	}
	return nil
}

func (f *floorClient) flush(ctx context.Context) error { return f.ship(ctx) }

func (f *floorClient) close() {
	f.closed.Do(func() {
		f.conn.Close()
		<-f.dead // the reader has returned
	})
}

func (f *floorClient) notes() []string {
	return []string{"not a client: the least work per record (clock read, encoding with CRC, the harness's acknowledgement; one write and one response per batch), see drivers/floor.go"}
}
