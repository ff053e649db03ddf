package wire

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// sampleRequest builds a request over several topics, with a large batch to
// be referenced and small ones to be copied, an empty batch and a null one.
func sampleRequest(t testing.TB, version int16, txn *string) ProduceRequest {
	t.Helper()
	small := buildBatch(t, sampleRecords()[:2], BatchOptions{})
	large := buildBatch(t, sampleRecords(), BatchOptions{})
	return ProduceRequest{
		Version:         version,
		ClientID:        "kprod-test",
		TransactionalID: txn,
		Acks:            -1,
		TimeoutMillis:   30000,
		Topics: []ProduceTopic{
			{Name: "orders", Partitions: []ProducePartition{
				{Partition: 0, Records: small},
				{Partition: 7, Records: large},
			}},
			{Name: "", Partitions: nil},
			{Name: "payments", Partitions: []ProducePartition{
				{Partition: 3, Records: large},
				{Partition: 4, Records: []byte{}},
				{Partition: 5, Records: nil},
				{Partition: 2, Records: small},
			}},
		},
	}
}

// kmsgFrame encodes req with kmsg's request formatter: the oracle.
func kmsgFrame(req *ProduceRequest, correlationID int32) []byte {
	k := kmsg.NewPtrProduceRequest()
	k.Version = req.Version
	k.TransactionID = req.TransactionalID
	k.Acks = req.Acks
	k.TimeoutMillis = req.TimeoutMillis
	for _, t := range req.Topics {
		kt := kmsg.ProduceRequestTopic{Topic: t.Name}
		for _, p := range t.Partitions {
			kt.Partitions = append(kt.Partitions, kmsg.ProduceRequestTopicPartition{Partition: p.Partition, Records: p.Records})
		}
		k.Topics = append(k.Topics, kt)
	}
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID(req.ClientID))
	return f.AppendRequest(nil, k, correlationID)
}

func TestProduceRequestMatchesKmsg(t *testing.T) {
	txn := "txn-1"
	for v := int16(MinProduceVersion); v <= MaxProduceVersion; v++ {
		for _, tx := range []*string{nil, &txn} {
			req := sampleRequest(t, v, tx)
			want := kmsgFrame(&req, 12345)
			got, err := req.AppendTo([]byte("junk"))
			if err != nil {
				t.Fatal(err)
			}
			got = got[4:]
			PatchCorrelationID(got, 12345)
			if !bytes.Equal(got, want) {
				t.Fatalf("v%d txn=%v: frame differs from kmsg\n got %x\nwant %x", v, tx != nil, got, want)
			}
			if n, err := req.Size(); err != nil || n != len(want) {
				t.Fatalf("v%d: Size() = %d, %v; frame is %d", v, n, err, len(want))
			}
			if int(binary.BigEndian.Uint32(got)) != len(got)-4 {
				t.Fatalf("v%d: size field %d, frame %d", v, binary.BigEndian.Uint32(got), len(got))
			}
			// kmsg must also read the body back.
			k := kmsg.ProduceRequest{Version: v}
			bodyAt := 4 + 2 + 2 + 4 + 2 + len(req.ClientID)
			if IsFlexibleProduce(v) {
				bodyAt++
			}
			if err := k.ReadFrom(got[bodyAt:]); err != nil || len(k.Topics) != 3 {
				t.Fatalf("v%d: kmsg read: %v", v, err)
			}
		}
	}
}

func TestProduceRequestSegments(t *testing.T) {
	for _, v := range []int16{3, 8, 9, 12} {
		req := sampleRequest(t, v, nil)
		whole, err := req.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		large := req.Topics[0].Partitions[1].Records
		for _, copyBelow := range []int{0, 1, 200, len(large), len(large) + 1, math.MaxInt} {
			buf, segs, err := req.AppendSegments(nil, nil, copyBelow)
			if err != nil {
				t.Fatal(err)
			}
			joined := bytes.Join(segs, nil)
			if !bytes.Equal(joined, whole) {
				t.Fatalf("v%d copyBelow=%d: segments differ from AppendTo", v, copyBelow)
			}
			referencedLarge := 0
			for _, s := range segs {
				if len(s) == 0 {
					t.Fatalf("v%d copyBelow=%d: empty segment", v, copyBelow)
				}
				if unsafe.SliceData(s) == unsafe.SliceData(large) {
					referencedLarge++
				}
			}
			wantRefs := 2
			if copyBelow > len(large) {
				wantRefs = 0
			}
			if referencedLarge != wantRefs {
				t.Fatalf("v%d copyBelow=%d: large batch referenced %d times, want %d", v, copyBelow, referencedLarge, wantRefs)
			}
			if unsafe.SliceData(segs[0]) != unsafe.SliceData(buf) {
				t.Fatalf("first segment does not start the returned buffer")
			}
			PatchCorrelationID(segs[0], 99)
			if binary.BigEndian.Uint32(bytes.Join(segs, nil)[CorrelationIDOffset:]) != 99 {
				t.Fatal("PatchCorrelationID on the first segment did not land")
			}
		}
	}
}

func TestProduceRequestSteadyStateAllocs(t *testing.T) {
	req := sampleRequest(t, 9, nil)
	buf, segs, _ := req.AppendSegments(nil, nil, 512)
	frame, _ := req.AppendTo(nil)
	allocs := testing.AllocsPerRun(100, func() {
		buf, segs, _ = req.AppendSegments(buf, segs, 512)
		frame, _ = req.AppendTo(frame[:0])
	})
	if allocs != 0 {
		t.Fatalf("encoding allocated %.1f times", allocs)
	}
}

func TestProduceRequestErrors(t *testing.T) {
	long := strings.Repeat("x", math.MaxInt16+1)
	tests := []struct {
		name string
		mod  func(*ProduceRequest)
	}{
		{"version 2", func(r *ProduceRequest) { r.Version = 2 }},
		{"version 13", func(r *ProduceRequest) { r.Version = 13 }},
		{"long client id", func(r *ProduceRequest) { r.ClientID = long }},
		{"long transactional id", func(r *ProduceRequest) { r.TransactionalID = &long }},
		{"long topic", func(r *ProduceRequest) { r.Topics[0].Name = long }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sampleRequest(t, 9, nil)
			tt.mod(&req)
			if _, err := req.AppendTo(nil); err == nil || !strings.HasPrefix(err.Error(), "kprod: ") {
				t.Fatalf("AppendTo error = %v", err)
			}
			if _, _, err := req.AppendSegments(nil, nil, 0); err == nil {
				t.Fatal("AppendSegments accepted it")
			}
			if _, err := req.Size(); err == nil {
				t.Fatal("Size accepted it")
			}
		})
	}
	PatchCorrelationID(make([]byte, 11), 1) // too short: must not panic
}
