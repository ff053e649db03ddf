package compress

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// TestLZ4FastStress and TestLZ4FastConcurrentStress push records-section-like data
// (keys, text, random values, multi-block frames) through one reused encoder, alone and
// from four goroutines, and decode it with our frame decoder and pierrec's: written while
// looking for the cause of a CI round trip that read back altered values under lz4.
func TestLZ4FastStress(t *testing.T) {
	enc := &lz4Encoder{free: newFreeList(func() *lz4Block { return &lz4Block{c: new(lz4Fast)} })}
	rng := rand.New(rand.NewPCG(11, 12))
	var dst []byte
	for iter := range 5000 {
		var src []byte
		n := 1 + rng.IntN(400)
		if iter%50 == 0 {
			n = 1 + rng.IntN(3000)
		}
		for i := range n {
			src = fmt.Appendf(src, "key-%d", rng.IntN(50))
			src = fmt.Appendf(src, "bulk-forget-%d-", i)
			for range rng.IntN(300) {
				src = append(src, byte(rng.Uint32()))
			}
			src = append(src, 'i', byte('0'+i%10))
		}
		var err error
		dst, err = enc.compress(dst[:0], src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decompressLZ4(nil, dst, 1<<30)
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("iter %d (%d bytes): own decoder %v equal=%v", iter, len(src), err, bytes.Equal(got, src))
		}
		r := lz4.NewReader(bytes.NewReader(dst))
		var out bytes.Buffer
		if _, err := out.ReadFrom(r); err != nil || !bytes.Equal(out.Bytes(), src) {
			t.Fatalf("iter %d (%d bytes): pierrec frame reader %v equal=%v", iter, len(src), err, bytes.Equal(out.Bytes(), src))
		}
	}
}

func TestLZ4FastConcurrentStress(t *testing.T) {
	enc := &lz4Encoder{free: newFreeList(func() *lz4Block { return &lz4Block{c: new(lz4Fast)} })}
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			var dst []byte
			for iter := range 1000 {
				var src []byte
				for i := range 1 + rng.IntN(300) {
					src = fmt.Appendf(src, "g%d-key-%d-%d-", g, rng.IntN(50), i)
					for range rng.IntN(300) {
						src = append(src, byte(rng.Uint32()))
					}
				}
				var err error
				dst, err = enc.compress(dst[:0], src)
				if err != nil {
					errs <- err
					return
				}
				got, err := decompressLZ4(nil, dst, 1<<30)
				if err != nil || !bytes.Equal(got, src) {
					errs <- fmt.Errorf("goroutine %d iter %d: %v equal=%v", g, iter, err, bytes.Equal(got, src))
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
