package kprod

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/internal/wire"
)

// TestTopicLimitSizeIsOneRecordBatch checks the size Send compares with max.message.bytes
// against the encoder: a batch holding the record alone, header included, for records
// with and without key and headers around the varint length steps. A record of exactly
// the limit passes, one byte more fails naming the limit, the topic and the size.
func TestTopicLimitSizeIsOneRecordBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var b wire.BatchBuilder
	for _, n := range []int{0, 1, 40, 63, 64, 65, 127, 128, 1900, 8191, 8192, 8193, 70000} {
		for _, shape := range []string{"value", "key", "headers", "null"} {
			r := &Record{Topic: "lim"}
			switch shape {
			case "value":
				r.Value = make([]byte, n)
			case "key":
				r.Key, r.Value = make([]byte, n/3), make([]byte, n-n/3)
			case "headers":
				r.Value = make([]byte, n)
				for i := range rng.IntN(4) + 1 {
					r.Headers = append(r.Headers, Header{Key: strings.Repeat("h", i*70), Value: make([]byte, rng.IntN(300))})
				}
				r.Headers = append(r.Headers, Header{Key: "nil"})
			}
			b.Reset(nil)
			b.Append(1_700_000_000_000, r.Key, r.Value, wireHeaders(r.Headers))
			size := len(b.Finish(wire.BatchOptions{}))
			p := &Producer{}
			if err := p.checkTopicLimit(r, int32(size)); err != nil {
				t.Errorf("%s %d: a record of %d bytes alone refused at max.message.bytes=%d: %v", shape, n, size, size, err)
			}
			err := p.checkTopicLimit(r, int32(size-1))
			if !errors.Is(err, ErrRecordTooLarge) {
				t.Fatalf("%s %d: a record of %d bytes alone accepted at max.message.bytes=%d", shape, n, size, size-1)
			}
			for _, want := range []string{"max.message.bytes=" + itoa(size-1), "topic lim", itoa(size) + " bytes", "not written"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q lacks %q", err, want)
				}
			}
			if MaybeWritten(err) || IsRetriable(err) {
				t.Errorf("%v: MaybeWritten %v, IsRetriable %v; want both false", err, MaybeWritten(err), IsRetriable(err))
			}
		}
	}
}

// TestTopicLimitNotCheckedCompressedOrUnknown: with compression the batch's size is only
// known once compressed, and an unknown limit (0) checks nothing.
func TestTopicLimitNotCheckedCompressedOrUnknown(t *testing.T) {
	r := &Record{Topic: "lim", Value: make([]byte, 10000)}
	p := &Producer{}
	if err := p.checkTopicLimit(r, 0); err != nil {
		t.Errorf("unknown limit: %v", err)
	}
	p.set.Codec = 3 // lz4
	if err := p.checkTopicLimit(r, 100); err != nil {
		t.Errorf("lz4: %v", err)
	}
}

// TestMessageTooLargeIsRecordTooLarge: the broker's refusal matches the same sentinel as
// Send's, and other codes do not.
func TestMessageTooLargeIsRecordTooLarge(t *testing.T) {
	if err := kafkaError(10, ""); !errors.Is(err, ErrRecordTooLarge) {
		t.Errorf("MESSAGE_TOO_LARGE %v does not match ErrRecordTooLarge", err)
	}
	if err := kafkaError(18, ""); errors.Is(err, ErrRecordTooLarge) {
		t.Errorf("%v matches ErrRecordTooLarge", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// BenchmarkCheckTopicLimit is the max.message.bytes check Send runs: the common case (a
// record far below the limit) and the exact count a record with headers needs.
func BenchmarkCheckTopicLimit(b *testing.B) {
	p := &Producer{}
	for _, tc := range []struct {
		name string
		rec  *Record
	}{
		{"small", &Record{Topic: "t", Value: make([]byte, 100)}},
		{"headers", &Record{Topic: "t", Value: make([]byte, 100), Headers: []Header{{Key: "trace", Value: make([]byte, 16)}}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p.nearTopicLimit(tc.rec, 1048588) { // as Send calls it
					if err := topicLimitError(tc.rec, 1048588); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
