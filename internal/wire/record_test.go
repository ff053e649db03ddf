package wire

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRecordLiteral pins one record's bytes worked out by hand from
// DefaultRecord.java's layout.
func TestRecordLiteral(t *testing.T) {
	got := AppendRecord(nil, 0, 0, []byte("k"), []byte("v"), nil)
	want := []byte{
		0x10,      // length 8, zigzag
		0x00,      // attributes
		0x00,      // timestampDelta 0
		0x00,      // offsetDelta 0
		0x02, 'k', // key length 1
		0x02, 'v', // value length 1
		0x00, // no headers
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	// Length 9; timestampDelta -2 and offsetDelta 3 zigzag to 3 and 6;
	// null key, null value and a header with a null value.
	tomb := AppendRecord(nil, 3, -2, nil, nil, []Header{{Key: "h", Value: nil}})
	want = []byte{0x12, 0x00, 0x03, 0x06, 0x01, 0x01, 0x02, 0x02, 'h', 0x01}
	if !bytes.Equal(tomb, want) {
		t.Fatalf("tombstone got %x, want %x", tomb, want)
	}
}

func TestRecordMatchesKmsg(t *testing.T) {
	for i, r := range sampleRecords() {
		for _, delta := range []int64{0, -5, 1 << 40} {
			off := int32(i * 1000)
			got := AppendRecord([]byte("prefix"), off, delta, r.key, r.value, r.headers)[6:]
			want := kmsgRecord(off, delta, r.key, r.value, r.headers)
			if !bytes.Equal(got, want) {
				t.Fatalf("record %d delta %d:\n got %x\nwant %x", i, delta, got, want)
			}
			if n := RecordSize(off, delta, r.key, r.value, r.headers); n != len(got) {
				t.Fatalf("record %d: RecordSize %d, encoded %d", i, n, len(got))
			}
			var kr kmsg.Record
			if err := kr.ReadFrom(got); err != nil {
				t.Fatalf("record %d: kmsg cannot read it: %v", i, err)
			}
			if kr.OffsetDelta != off || kr.TimestampDelta64 != delta || len(kr.Headers) != len(r.headers) {
				t.Fatalf("record %d: kmsg read %+v", i, kr)
			}
		}
	}
}

func TestAppendRecordReusesCapacity(t *testing.T) {
	buf := make([]byte, 0, 256)
	value := bytes.Repeat([]byte("x"), 100)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendRecord(buf[:0], 7, 12, nil, value, nil)
	})
	if allocs != 0 {
		t.Fatalf("AppendRecord allocated %.1f times per call", allocs)
	}
}
