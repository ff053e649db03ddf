package wire

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestEmbeddedClusterAcceptsOurProduce writes our own Produce requests, as
// segments, to the embedded cluster (which validates CRC, attributes and
// framing like a broker), decodes its responses with our decoder, and reads
// the records back with franz-go's consumer.
func TestEmbeddedClusterAcceptsOurProduce(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded cluster")
	}
	const topic = "wire-test"
	c, conn := dialCluster(t, topic)
	addr := c.ListenAddrs()[0]
	recs := sampleRecords()
	var (
		want []testRecord
		resp ProduceResponse
		err  error
	)
	for i := int16(0); MinProduceVersion+i <= MaxProduceVersion; i++ {
		v := MinProduceVersion + i
		var b BatchBuilder
		for _, r := range recs {
			b.Append(r.ts, r.key, r.value, r.headers)
		}
		batch := b.Finish(BatchOptions{})
		if v%2 == 0 {
			if batch, err = b.FinishCompressed(nil, CodecGzip, gzipCompress, BatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		req := ProduceRequest{Version: v, ClientID: "wire", Acks: -1, TimeoutMillis: 5000,
			Topics: []ProduceTopic{{Name: topic, Partitions: []ProducePartition{{Partition: 0, Records: batch}}}}}
		roundTrip(t, conn, &req, int32(100+i), &resp)
		p := resp.Topics[0].Partitions[0]
		if string(resp.Topics[0].Name) != topic || p.ErrorCode != 0 || p.BaseOffset != int64(len(want)) {
			t.Fatalf("v%d: response %+v / %+v", v, resp.Topics[0], p)
		}
		want = append(want, recs...)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < len(want) {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		got = append(got, fs.Records()...)
	}
	for i, w := range want {
		g := got[i]
		if g.Offset != int64(i) || g.Timestamp.UnixMilli() != w.ts || !bytes.Equal(g.Key, w.key) ||
			!bytes.Equal(g.Value, w.value) || len(g.Headers) != len(w.headers) {
			t.Fatalf("record %d: got offset %d ts %d key %q; want ts %d key %q", i, g.Offset, g.Timestamp.UnixMilli(), g.Key, w.ts, w.key)
		}
		if (g.Value == nil) != (w.value == nil) {
			t.Fatalf("record %d: tombstone-ness lost", i)
		}
		for j, h := range w.headers {
			if g.Headers[j].Key != h.Key || !bytes.Equal(g.Headers[j].Value, h.Value) {
				t.Fatalf("record %d header %d: %+v", i, j, g.Headers[j])
			}
		}
	}
}

// TestEmbeddedClusterIdempotentStamps stamps sealed batches with a real
// producer id and consecutive sequences after sealing, as the sender does,
// and checks the cluster's sequence validation: consecutive batches are
// appended, a replay is recognised as a duplicate, a gap is refused.
func TestEmbeddedClusterIdempotentStamps(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded cluster")
	}
	const topic = "wire-idem"
	c, conn := dialCluster(t, topic)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ir, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if err != nil || ir.ErrorCode != 0 {
		t.Fatalf("InitProducerID: %v / %+v", err, ir)
	}

	recs := sampleRecords()
	var resp ProduceResponse
	id := int32(0)
	send := func(v int16, seq int32) ProducePartitionResponse {
		t.Helper()
		batch := buildBatch(t, recs, BatchOptions{DeferCRC: true})
		if err := StampProducer(batch, ir.ProducerID, ir.ProducerEpoch, seq); err != nil {
			t.Fatal(err)
		}
		req := ProduceRequest{Version: v, ClientID: "wire", Acks: -1, TimeoutMillis: 5000,
			Topics: []ProduceTopic{{Name: topic, Partitions: []ProducePartition{{Partition: 0, Records: batch}}}}}
		id++
		roundTrip(t, conn, &req, id, &resp)
		return resp.Topics[0].Partitions[0]
	}
	n := int32(len(recs))
	for i, v := range []int16{9, 12, 12} {
		if p := send(v, int32(i)*n); p.ErrorCode != 0 || p.BaseOffset != int64(i)*int64(n) {
			t.Fatalf("batch %d: %+v", i, p)
		}
	}
	if p := send(12, n); p.ErrorCode == 0 && p.BaseOffset != int64(n) {
		t.Fatalf("replayed sequence was appended again: %+v", p)
	}
	if p := send(12, 7*n); p.ErrorCode != 45 { // OUT_OF_ORDER_SEQUENCE_NUMBER
		t.Fatalf("sequence gap accepted: %+v", p)
	}
}

// roundTrip writes req as segments on conn with the given correlation id
// and decodes the response with our decoder.
func roundTrip(t *testing.T, conn net.Conn, req *ProduceRequest, id int32, resp *ProduceResponse) {
	t.Helper()
	_, segs, err := req.AppendSegments(nil, nil, 64)
	if err != nil {
		t.Fatal(err)
	}
	PatchCorrelationID(segs[0], id)
	nb := net.Buffers(segs)
	if _, err := nb.WriteTo(conn); err != nil {
		t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(conn, frame); err != nil {
		t.Fatal(err)
	}
	got, body, err := ReadResponseHeader(frame, IsFlexibleProduce(req.Version))
	if err != nil || got != id {
		t.Fatalf("v%d: correlation id %d, want %d, err %v", req.Version, got, id, err)
	}
	if err := resp.Decode(req.Version, body); err != nil {
		t.Fatalf("v%d: %v", req.Version, err)
	}
}

// dialCluster starts a one-broker embedded cluster with topic and dials it.
func dialCluster(t *testing.T, topic string) (*kfake.Cluster, net.Conn) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	conn, err := net.DialTimeout("tcp", c.ListenAddrs()[0], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c, conn
}
