package wire

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// kmsgResponse builds a response that exercises every field the version
// has, plus unknown tagged fields for flexible versions.
func kmsgResponse(version int16) *kmsg.ProduceResponse {
	msg := "batch rejected"
	recMsg := "bad record"
	rack := "rack-a"
	r := kmsg.NewPtrProduceResponse()
	r.Version = version
	r.ThrottleMillis = 250
	t1 := kmsg.ProduceResponseTopic{Topic: "orders"}
	p0 := kmsg.NewProduceResponseTopicPartition()
	p0.Partition, p0.BaseOffset, p0.LogAppendTime, p0.LogStartOffset = 0, 1234567890123, -1, 17
	p1 := kmsg.NewProduceResponseTopicPartition()
	p1.Partition, p1.ErrorCode, p1.BaseOffset = 5, 6, -1 // NOT_LEADER_OR_FLEXIBLE
	p1.CurrentLeader = kmsg.ProduceResponseTopicPartitionCurrentLeader{LeaderID: 3, LeaderEpoch: 42}
	p2 := kmsg.NewProduceResponseTopicPartition()
	p2.Partition, p2.ErrorCode = 9, 87 // INVALID_RECORD
	p2.ErrorRecords = []kmsg.ProduceResponseTopicPartitionErrorRecord{
		{RelativeOffset: 4, ErrorMessage: &recMsg},
		{RelativeOffset: 8, ErrorMessage: nil},
	}
	p2.ErrorMessage = &msg
	p2.LogAppendTime = 1700000000000
	if version >= 9 {
		p0.UnknownTags.Set(7, []byte("ignored"))
		t1.UnknownTags.Set(2, []byte{1, 2, 3})
		r.UnknownTags.Set(5, []byte("later"))
	}
	t1.Partitions = []kmsg.ProduceResponseTopicPartition{p0, p1, p2}
	r.Topics = []kmsg.ProduceResponseTopic{t1, {Topic: "", Partitions: nil}}
	if version >= 10 {
		r.Brokers = []kmsg.ProduceResponseBroker{
			{NodeID: 3, Host: "broker-3.example", Port: 9092, Rack: &rack},
			{NodeID: 4, Host: "", Port: 9093, Rack: nil},
		}
	}
	return r
}

// checkAgainstKmsg compares a decoded response field by field with what
// kmsg decodes from the same bytes.
func checkAgainstKmsg(t testing.TB, version int16, got *ProduceResponse, want *kmsg.ProduceResponse) {
	t.Helper()
	if got.ThrottleMillis != want.ThrottleMillis || len(got.Topics) != len(want.Topics) {
		t.Fatalf("v%d: throttle %d topics %d; want %d, %d", version, got.ThrottleMillis, len(got.Topics), want.ThrottleMillis, len(want.Topics))
	}
	for i, wt := range want.Topics {
		gt := got.Topics[i]
		if string(gt.Name) != wt.Topic || gt.Name == nil || len(gt.Partitions) != len(wt.Partitions) {
			t.Fatalf("v%d topic %d: %q with %d partitions", version, i, gt.Name, len(gt.Partitions))
		}
		for j, wp := range wt.Partitions {
			gp := gt.Partitions[j]
			if gp.Partition != wp.Partition || gp.ErrorCode != wp.ErrorCode || gp.BaseOffset != wp.BaseOffset ||
				gp.LogAppendTime != wp.LogAppendTime || gp.LogStartOffset != wp.LogStartOffset {
				t.Fatalf("v%d partition %d: got %+v want %+v", version, j, gp, wp)
			}
			if !equalNullable(gp.ErrorMessage, wp.ErrorMessage) || len(gp.RecordErrors) != len(wp.ErrorRecords) {
				t.Fatalf("v%d partition %d: error message %q / %d record errors", version, j, gp.ErrorMessage, len(gp.RecordErrors))
			}
			for k, we := range wp.ErrorRecords {
				ge := gp.RecordErrors[k]
				if ge.BatchIndex != we.RelativeOffset || !equalNullable(ge.Message, we.ErrorMessage) {
					t.Fatalf("v%d record error %d: %+v", version, k, ge)
				}
			}
			wl := LeaderIDAndEpoch{-1, -1}
			if version >= 10 {
				wl = LeaderIDAndEpoch{wp.CurrentLeader.LeaderID, wp.CurrentLeader.LeaderEpoch}
			}
			if gp.CurrentLeader != wl {
				t.Fatalf("v%d partition %d: leader %+v, want %+v", version, j, gp.CurrentLeader, wl)
			}
		}
	}
	wantBrokers := want.Brokers
	if version < 10 {
		wantBrokers = nil
	}
	if len(got.NodeEndpoints) != len(wantBrokers) {
		t.Fatalf("v%d: %d node endpoints, want %d", version, len(got.NodeEndpoints), len(wantBrokers))
	}
	for i, wb := range wantBrokers {
		gb := got.NodeEndpoints[i]
		if gb.NodeID != wb.NodeID || string(gb.Host) != wb.Host || gb.Host == nil || gb.Port != wb.Port || !equalNullable(gb.Rack, wb.Rack) {
			t.Fatalf("v%d endpoint %d: %+v", version, i, gb)
		}
	}
}

func equalNullable(got []byte, want *string) bool {
	if want == nil {
		return got == nil
	}
	return got != nil && string(got) == *want
}

func TestProduceResponseMatchesKmsg(t *testing.T) {
	var resp ProduceResponse // reused across versions on purpose
	for v := int16(MinProduceVersion); v <= MaxProduceVersion; v++ {
		k := kmsgResponse(v)
		body := k.AppendTo(nil)
		if err := resp.Decode(v, body); err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		var back kmsg.ProduceResponse
		back.Version = v
		if err := back.ReadFrom(body); err != nil {
			t.Fatal(err)
		}
		checkAgainstKmsg(t, v, &resp, &back)
	}
}

func TestProduceResponseTruncations(t *testing.T) {
	var resp ProduceResponse
	for v := int16(MinProduceVersion); v <= MaxProduceVersion; v++ {
		body := kmsgResponse(v).AppendTo(nil)
		for n := 0; n < len(body); n++ {
			if err := resp.Decode(v, body[:n]); err == nil {
				t.Fatalf("v%d: %d of %d bytes decoded without error", v, n, len(body))
			}
		}
	}
	if err := resp.Decode(2, nil); err == nil {
		t.Fatal("accepted version 2")
	}
	if err := resp.Decode(13, nil); err == nil {
		t.Fatal("accepted version 13")
	}
}

func TestProduceResponseHostileCounts(t *testing.T) {
	tests := []struct {
		name    string
		version int16
		body    []byte
	}{
		{"huge topic count", 3, []byte{0x7f, 0xff, 0xff, 0xff}},
		{"negative topic count", 3, []byte{0xff, 0xff, 0xff, 0xfe}},
		{"null topic array", 3, []byte{0xff, 0xff, 0xff, 0xff}},
		{"huge compact count", 9, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"overlong varint", 9, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"null topic name", 3, []byte{0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"topic name past end", 3, []byte{0, 0, 0, 1, 0x7f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"huge tag length", 10, []byte{1, 0, 0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp ProduceResponse
			allocs := testing.AllocsPerRun(100, func() {
				if err := resp.Decode(tt.version, tt.body); err == nil {
					t.Fatal("decoded hostile input without error")
				}
			})
			if allocs > 3 { // the error value and its wrapping only
				t.Fatalf("hostile input made Decode allocate %.0f times", allocs)
			}
		})
	}
}

func TestProduceResponseReuseDoesNotAllocate(t *testing.T) {
	body := kmsgResponse(12).AppendTo(nil)
	var resp ProduceResponse
	if err := resp.Decode(12, body); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := resp.Decode(12, body); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("steady-state decode allocated %.1f times", allocs)
	}
}

func TestReadResponseHeader(t *testing.T) {
	tests := []struct {
		name     string
		frame    []byte
		flexible bool
		wantID   int32
		wantBody []byte
		wantErr  bool
	}{
		{"v0 header", []byte{0, 0, 0, 7, 0xaa}, false, 7, []byte{0xaa}, false},
		{"v1 header no tags", []byte{0, 0, 1, 0, 0, 0xbb}, true, 256, []byte{0xbb}, false},
		{"v1 header one tag", []byte{0, 0, 0, 1, 1, 3, 2, 9, 9, 0xcc}, true, 1, []byte{0xcc}, false},
		{"short", []byte{0, 0, 0}, false, 0, nil, true},
		{"tag past end", []byte{0, 0, 0, 1, 1, 3, 5, 9}, true, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, body, err := ReadResponseHeader(tt.frame, tt.flexible)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && (id != tt.wantID || !bytes.Equal(body, tt.wantBody)) {
				t.Fatalf("id %d body %x", id, body)
			}
		})
	}
}

// TestProduceResponseMemoryIsLinearInFrame decodes the densest frame an
// attacker can build, 100,000 topics of three bytes each, and checks the
// memory reserved stays a small multiple of the frame, whatever it declares.
func TestProduceResponseMemoryIsLinearInFrame(t *testing.T) {
	const topics = 100000
	body := AppendUvarint(nil, topics+1)
	for i := 0; i < topics; i++ {
		body = append(body, 1, 1, 0) // empty name, no partitions, no tags
	}
	body = append(body, 0, 0, 0, 0, 0) // throttle, no tags
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var resp ProduceResponse
	if err := resp.Decode(12, body); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	perByte := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(body))
	// One exact allocation of 48-byte elements for 3-byte topics.
	if perByte > 20 {
		t.Fatalf("decoding reserved %.1f bytes per frame byte", perByte)
	}
	t.Logf("%.1f bytes reserved per frame byte for %d empty topics", perByte, topics)
}
