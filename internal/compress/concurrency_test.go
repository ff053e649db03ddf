package compress

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestCompressAllocs checks the hot-path promise: with a recycled dst and
// warm free lists, Compress allocates nothing.
func TestCompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	srcs := make([][]byte, 6)
	for i := range srcs {
		srcs[i] = recordsSection(rng, 16<<10+rng.IntN(150<<10))
	}
	for _, lc := range levelCases {
		for _, level := range lc.levels {
			comp := mustCompressor(t, lc.codec, level)
			t.Run(fmt.Sprintf("%v/%d", lc.codec, level), func(t *testing.T) {
				// Warm up: the zstd encoder keeps one block encoder per P,
				// handed out in turn, and each sizes its tables on first use.
				var dst []byte
				for range 3 {
					for _, src := range srcs {
						dst, _ = comp.Compress(dst[:0], src)
					}
				}
				i := 0
				allocs := testing.AllocsPerRun(24, func() {
					dst, _ = comp.Compress(dst[:0], srcs[i%len(srcs)])
					i++
				})
				if allocs != 0 {
					t.Errorf("%v allocations per Compress", allocs)
				}
			})
		}
	}
}

// TestDecompressAllocs checks that the decoders, too, reuse a recycled dst
// (the benchmark sink decodes every batch).
func TestDecompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	src := recordsSection(rng, 100<<10)
	d := NewDecompressor(0)
	for _, lc := range levelCases {
		comp := mustCompressor(t, lc.codec, DefaultLevel(lc.codec))
		packed, _ := comp.Compress(nil, src)
		dst, _ := d.Decompress(nil, packed, lc.codec)
		allocs := testing.AllocsPerRun(20, func() {
			dst, _ = d.Decompress(dst[:0], packed, lc.codec)
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per Decompress", lc.codec, allocs)
		}
	}
}

// TestConcurrentUse shares one Compressor per codec and one Decompressor
// between goroutines, each round-tripping its own batches; run with -race.
func TestConcurrentUse(t *testing.T) {
	before := runtime.NumGoroutine()
	d := NewDecompressor(0)
	for _, lc := range levelCases {
		comp := mustCompressor(t, lc.codec, lc.levels[len(lc.levels)/2])
		t.Run(fmt.Sprintf("%v", lc.codec), func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 11))
					var dst, out []byte
					for range 20 {
						src := recordsSection(rng, 1<<10+rng.IntN(40<<10))
						var err error
						if dst, err = comp.Compress(dst[:0], src); err != nil {
							errs <- err
							return
						}
						if out, err = d.Decompress(out[:0], dst, lc.codec); err != nil {
							errs <- err
							return
						}
						if !bytes.Equal(out, src) {
							errs <- fmt.Errorf("goroutine %d: round trip mismatch", g)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
	// Neither side may leave goroutines behind: nothing needs closing.
	// Goroutines of earlier tests may still be exiting, so wait a little.
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(30 * time.Second); after > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	if after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
