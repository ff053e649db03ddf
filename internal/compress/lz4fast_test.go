package compress

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// jsonRecords returns about size bytes of concatenated JSON-like records
// of roughly recLen bytes each, with distinct ids, names and tags.
func jsonRecords(rng *rand.Rand, size, recLen int) []byte {
	words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu " +
		"red green blue amber north south east west fast slow open closed new old prime")
	var b []byte
	for len(b) < size {
		start := len(b)
		b = fmt.Appendf(b, `{"id":%d,"name":"%s-%s-%d","ts":%d,"score":%d.%03d,"tags":[`,
			rng.Int64N(1<<40), words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.IntN(100000),
			1700000000000+rng.Int64N(1<<32), rng.IntN(1000), rng.IntN(1000))
		for i := range 1 + rng.IntN(4) {
			if i > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `"%s"`, words[rng.IntN(len(words))])
		}
		b = append(b, `],"attrs":{`...)
		for i := 0; len(b)-start < recLen-30; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `"k%d":"%s %x"`, rng.IntN(50), words[rng.IntN(len(words))], rng.Uint32())
		}
		b = append(b, "}}\n"...)
	}
	return b
}

// lz4FastInputs are the round-trip cases: edges of the format and of the
// 64 KiB block, and realistic and hostile content.
func lz4FastInputs() map[string][]byte {
	rng := rand.New(rand.NewPCG(21, 22))
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog. "), 2000)
	json := jsonRecords(rng, 200<<10, 100)
	in := map[string][]byte{
		"empty":     {},
		"one":       {'x'},
		"twelve":    []byte("abcdabcdabcd"),
		"thirteen":  []byte("abcdabcdabcda"),
		"zeros13":   make([]byte, 13),
		"zeros64k":  make([]byte, 64<<10),
		"random64k": random,
		"text":      text,
		"json100":   json,
		"json1k":    jsonRecords(rng, 200<<10, 1000),
		"records":   recordsSection(rng, 200<<10),
		"block64k":  json[:64<<10],
		"block64k1": json[:64<<10+1],
		"block64km": json[:64<<10-1],
		"mixed":     append(append(append([]byte(nil), random[:60<<10]...), text...), random...),
	}
	for _, n := range []int{2, 5, 11, 14, 15, 19, 20, 255, 270, 271, 300} {
		in[fmt.Sprintf("run%d", n)] = bytes.Repeat([]byte{'a'}, n)
		in[fmt.Sprintf("json%d", n)] = json[:n]
	}
	return in
}

// checkLZ4FastBlock compresses src in 64 KiB blocks with c and decodes each
// with pierrec's decoder.
func checkLZ4FastBlock(t *testing.T, c *lz4Fast, name string, src []byte) {
	t.Helper()
	dst := make([]byte, lz4.CompressBlockBound(lz4BlockMax))
	out := make([]byte, lz4BlockMax)
	for i := 0; i == 0 || i < len(src); i += lz4BlockMax {
		block := src[i:min(i+lz4BlockMax, len(src))]
		m, err := c.CompressBlock(block, dst[:lz4.CompressBlockBound(len(block))])
		if err != nil || m <= 0 {
			t.Fatalf("%s@%d: CompressBlock = %d, %v", name, i, m, err)
		}
		got, err := lz4.UncompressBlock(dst[:m], out)
		if err != nil || !bytes.Equal(out[:got], block) {
			t.Fatalf("%s@%d: UncompressBlock = %d, %v; want %d bytes back", name, i, got, err, len(block))
		}
	}
}

func TestLZ4FastBlock(t *testing.T) {
	c := new(lz4Fast)
	in := lz4FastInputs()
	// Twice over with one compressor, so that later blocks see a table
	// full of earlier blocks' positions.
	for range 2 {
		for name, src := range in {
			checkLZ4FastBlock(t, c, name, src)
		}
	}
}

// TestLZ4FastLargeBlock compresses blocks over 64 KiB, which the frame
// never asks for, whose repeats lie beyond the 65535-byte offset limit.
func TestLZ4FastLargeBlock(t *testing.T) {
	in := lz4FastInputs()
	c := new(lz4Fast)
	for _, name := range []string{"mixed", "json1k", "records"} {
		src := append(bytes.Clone(in[name]), in[name]...)
		dst := make([]byte, lz4.CompressBlockBound(len(src)))
		m, err := c.CompressBlock(src, dst)
		if err != nil || m <= 0 {
			t.Fatalf("%s: CompressBlock = %d, %v", name, m, err)
		}
		out := make([]byte, len(src))
		got, err := lz4.UncompressBlock(dst[:m], out)
		if err != nil || !bytes.Equal(out[:got], src) {
			t.Fatalf("%s: UncompressBlock = %d, %v", name, got, err)
		}
	}
}

// TestLZ4FastRebase runs blocks across the base wrap-around, where the
// table is cleared.
func TestLZ4FastRebase(t *testing.T) {
	c := new(lz4Fast)
	in := lz4FastInputs()
	c.base = 1<<32 - 3*(lz4BlockMax+lz4MaxOffset+1)
	for _, name := range []string{"json100", "zeros64k", "json1k", "records", "text"} {
		checkLZ4FastBlock(t, c, name, in[name])
	}
	if c.base > 1<<31 {
		t.Fatalf("base %#x did not wrap", c.base)
	}
}

// TestLZ4FastDeterministic checks that a block's encoding does not depend
// on what the compressor saw before.
func TestLZ4FastDeterministic(t *testing.T) {
	in := lz4FastInputs()
	used := new(lz4Fast)
	for _, name := range []string{"json1k", "text", "records"} {
		checkLZ4FastBlock(t, used, name, in[name])
	}
	for name, src := range in {
		src = src[:min(len(src), lz4BlockMax)]
		want := make([]byte, lz4.CompressBlockBound(len(src)))
		got := make([]byte, len(want))
		m1, _ := new(lz4Fast).CompressBlock(src, want)
		m2, _ := used.CompressBlock(src, got)
		if !bytes.Equal(got[:m2], want[:m1]) {
			t.Fatalf("%s: %d bytes from a used compressor, %d from a new one", name, m2, m1)
		}
	}
}

// TestLZ4FastFrame round-trips through the frame writer with lz4Fast as
// the block compressor and our own frame decoder.
func TestLZ4FastFrame(t *testing.T) {
	e := &lz4Encoder{free: newFreeList(func() *lz4Block { return &lz4Block{c: new(lz4Fast)} })}
	for name, src := range lz4FastInputs() {
		out, err := e.compress([]byte("pre"), src)
		if err != nil || string(out[:3]) != "pre" {
			t.Fatalf("%s: compress: %v", name, err)
		}
		got, err := decompressLZ4([]byte("head"), out[3:], 1<<30)
		if err != nil || !bytes.Equal(got[4:], src) {
			t.Fatalf("%s: decompressLZ4: %v", name, err)
		}
	}
}

// TestLZ4FastShortDst checks that a dst too small for the block gives 0
// and that nothing past len(dst) is written.
func TestLZ4FastShortDst(t *testing.T) {
	c := new(lz4Fast)
	in := lz4FastInputs()
	for _, name := range []string{"json100", "random64k", "text", "thirteen", "run300"} {
		src := in[name][:min(len(in[name]), lz4BlockMax)]
		full := make([]byte, lz4.CompressBlockBound(len(src)))
		m, _ := c.CompressBlock(src, full)
		for _, short := range []int{0, 1, m / 2, m - 1} {
			buf := bytes.Repeat([]byte{0xA5}, m+64)
			got, err := c.CompressBlock(src, buf[:short:short])
			if got != 0 || err != nil {
				t.Fatalf("%s: dst %d of %d: got %d, %v", name, short, m, got, err)
			}
			if !bytes.Equal(buf[short:], bytes.Repeat([]byte{0xA5}, len(buf)-short)) {
				t.Fatalf("%s: wrote past a dst of %d bytes", name, short)
			}
		}
		if got, _ := c.CompressBlock(src, make([]byte, m)); got != m {
			t.Fatalf("%s: exact dst of %d gave %d", name, m, got)
		}
	}
}

func TestLZ4FastAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := new(lz4Fast)
	src := lz4FastInputs()["json100"][:lz4BlockMax]
	dst := make([]byte, lz4.CompressBlockBound(len(src)))
	if a := testing.AllocsPerRun(20, func() { c.CompressBlock(src, dst) }); a != 0 {
		t.Fatalf("%v allocations per block", a)
	}
}

// TestLZ4FastRatio guards against a silent loss of compression against
// pierrec's fast compressor on realistic records.
func TestLZ4FastRatio(t *testing.T) {
	in := lz4FastInputs()
	var p lz4.Compressor
	c := new(lz4Fast)
	dst := make([]byte, lz4.CompressBlockBound(lz4BlockMax))
	for _, name := range []string{"json100", "json1k", "records"} {
		src := in[name][:lz4BlockMax]
		want, _ := p.CompressBlock(src, dst)
		got, _ := c.CompressBlock(src, dst)
		t.Logf("%s: fast %d, pierrec %d bytes", name, got, want)
		if float64(got) > 1.03*float64(want) {
			t.Errorf("%s: %d bytes, over 3%% more than pierrec's %d", name, got, want)
		}
	}
}

func FuzzLZ4Fast(f *testing.F) {
	in := lz4FastInputs()
	for _, name := range []string{"empty", "thirteen", "text", "json300", "run271"} {
		f.Add(in[name])
	}
	f.Add(in["json100"][:20<<10])
	// Once compressed differently by a used compressor (zeroed entries
	// read as position 0 on first use only).
	f.Add([]byte("the q. the over the lazy dog. the quic"))
	c := new(lz4Fast)
	dst := make([]byte, lz4.CompressBlockBound(lz4BlockMax))
	out := make([]byte, lz4BlockMax)
	f.Fuzz(func(t *testing.T, src []byte) {
		src = src[:min(len(src), lz4BlockMax)]
		m, err := c.CompressBlock(src, dst[:lz4.CompressBlockBound(len(src))])
		if err != nil || m <= 0 {
			t.Fatalf("CompressBlock = %d, %v", m, err)
		}
		got, err := lz4.UncompressBlock(dst[:m], out)
		if err != nil || !bytes.Equal(out[:got], src) {
			t.Fatalf("round trip: %v", err)
		}
		// A dst one byte short must give 0, not a truncated block.
		if m2, _ := c.CompressBlock(src, dst[:m-1]); m2 != 0 {
			t.Fatalf("short dst gave %d", m2)
		}
	})
}

// BenchmarkLZ4BlockFast compares lz4Fast with pierrec's fast Compressor on
// 64 KiB blocks of ~100-byte and ~1 KiB JSON records, and on 16 KiB
// records sections as a producer batches them. (BenchmarkLZ4Block in
// bench_test.go compares pierrec's own compressors.)
func BenchmarkLZ4BlockFast(b *testing.B) {
	rng := rand.New(rand.NewPCG(31, 32))
	const nblocks = 8
	cases := []struct {
		name string
		size int
		gen  func() []byte
	}{
		{"json100", 64 << 10, func() []byte { return jsonRecords(rng, 64<<10, 100) }},
		{"json1k", 64 << 10, func() []byte { return jsonRecords(rng, 64<<10, 1000) }},
		{"records16k", 16 << 10, func() []byte { return recordsSection(rng, 16<<10) }},
	}
	for _, bc := range cases {
		blocks := make([][]byte, nblocks)
		for i := range blocks {
			blocks[i] = bc.gen()[:bc.size]
		}
		dst := make([]byte, lz4.CompressBlockBound(bc.size))
		run := func(b *testing.B, c blockCompressor) {
			var total int
			b.SetBytes(int64(bc.size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				m, _ := c.CompressBlock(blocks[i%nblocks], dst)
				total += m
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(bc.size), "ratio")
		}
		b.Run(bc.name+"/pierrec", func(b *testing.B) { run(b, new(lz4.Compressor)) })
		b.Run(bc.name+"/fast", func(b *testing.B) { run(b, new(lz4Fast)) })
	}
}
