package wire

import (
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCRCCombine(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 7, 40, 61, 100, 4096, crcChunk, crcChunk + 1, 1 << 20, 3<<20 + 17} {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(rnd.Uint32())
		}
		want := crc32.Checksum(buf, castagnoli)
		for _, cut := range []int{0, n / 3, n / 2, n} {
			a, b := buf[:cut], buf[cut:]
			got := crcCombine(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), len(b))
			if got != want {
				t.Fatalf("n=%d cut=%d: combine %08x, want %08x", n, cut, got, want)
			}
		}
	}
}

func FuzzCRCCombine(f *testing.F) {
	f.Add([]byte("attributes and header"), []byte("records"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		want := crc32.Checksum(append(append([]byte{}, a...), b...), castagnoli)
		if got := crcCombine(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), len(b)); got != want {
			t.Fatalf("combine %08x, want %08x", got, want)
		}
	})
}

func BenchmarkCRCCombine1MiB(b *testing.B) {
	var s uint32
	for b.Loop() {
		s += crcCombine(s, 0x12345678, 1<<20)
	}
	_ = s
}

// TestTrackedCRC builds batches of many sizes with TrackCRC on, finishes them plainly
// and with DeferCRC then StampProducer, and checks every CRC against a whole-batch
// checksum, across Resets of the same builder (the tracked state must not leak).
func TestTrackedCRC(t *testing.T) {
	var b BatchBuilder
	b.TrackCRC(true)
	rnd := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 0, 64)
	for _, n := range []int{1, 10, 40, 300, 2000} {
		for _, stamp := range []bool{false, true} {
			b.Reset(buf)
			for i := range n {
				v := make([]byte, rnd.IntN(400))
				for j := range v {
					v[j] = byte(rnd.Uint32())
				}
				b.Append(int64(1000+i), nil, v, nil)
			}
			batch := b.Finish(BatchOptions{DeferCRC: stamp})
			if stamp {
				if err := b.StampProducer(batch, 77, 3, 12); err != nil {
					t.Fatal(err)
				}
			}
			want := crc32.Checksum(batch[offAttributes:], castagnoli)
			if got := binary.BigEndian.Uint32(batch[offCRC:]); got != want {
				t.Fatalf("%d records (%d bytes), stamp %v: CRC %08x, want %08x", n, len(batch), stamp, got, want)
			}
			if n == 2000 && b.crcTo <= BatchHeaderSize {
				t.Fatalf("a %d-byte batch was never checksummed while appending", len(batch))
			}
			buf = batch[:0]
		}
	}
	// Another builder's batch, or a copy, gets a whole checksum, not this builder's.
	other := append([]byte(nil), b.Finish(BatchOptions{})...)
	if err := b.StampProducer(other, 1, 1, 1); err != nil {
		t.Fatal(err)
	}
	if got, want := binary.BigEndian.Uint32(other[offCRC:]), crc32.Checksum(other[offAttributes:], castagnoli); got != want {
		t.Fatalf("copy: CRC %08x, want %08x", got, want)
	}
}
