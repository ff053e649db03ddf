package compress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := inputs(t)
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, lc := range levelCases {
		for _, level := range lc.levels {
			comp := mustCompressor(t, lc.codec, level)
			t.Run(fmt.Sprintf("%v/%d", lc.codec, level), func(t *testing.T) {
				prefix := []byte("prefix")
				for _, name := range names {
					src := in[name]
					out, err := comp.Compress(append([]byte(nil), prefix...), src)
					if err != nil {
						t.Fatalf("%s: Compress: %v", name, err)
					}
					if !bytes.HasPrefix(out, prefix) {
						t.Fatalf("%s: Compress did not append to dst", name)
					}
					got, err := Decompress([]byte("head"), out[len(prefix):], lc.codec)
					if err != nil {
						t.Fatalf("%s: Decompress: %v", name, err)
					}
					if !bytes.Equal(got[4:], src) || string(got[:4]) != "head" {
						t.Fatalf("%s: round trip mismatch: %d bytes in, %d out", name, len(src), len(got)-4)
					}
				}
			})
		}
	}
}

func TestCompressorAccessors(t *testing.T) {
	c := mustCompressor(t, Zstd, 7)
	if c.Codec() != Zstd || c.Level() != 7 {
		t.Fatalf("got %v/%d", c.Codec(), c.Level())
	}
}

func TestXXH32(t *testing.T) {
	// Reference values from the xxHash project (seed 0).
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 0x02CC5D05},
		{"a", 0x550D7456},
		{"abc", 0x32D153FF},
		{"Nobody inspects the spammish repetition", 0xE2293B2F},
	}
	for _, tt := range tests {
		if got := xxh32([]byte(tt.in)); got != tt.want {
			t.Errorf("xxh32(%q) = %#x, want %#x", tt.in, got, tt.want)
		}
	}
}

func TestLZ4FrameLayout(t *testing.T) {
	if hc := byte(xxh32([]byte{lz4FLG, lz4BD}) >> 8); hc != lz4Header[6] {
		t.Fatalf("descriptor checksum %#x, header has %#x", hc, lz4Header[6])
	}
	comp := mustCompressor(t, LZ4, LZ4DefaultLevel)
	empty, _ := comp.Compress(nil, nil)
	// Java's Lz4BlockOutputStream on an empty stream: header and end mark.
	want := []byte{0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82, 0, 0, 0, 0}
	if !bytes.Equal(empty, want) {
		t.Fatalf("empty frame % x, want % x", empty, want)
	}
	in := inputs(t)
	// Walk the blocks: at most 64 KiB each, raw when incompressible.
	for _, name := range []string{"multi300k", "random", "one"} {
		out, _ := comp.Compress(nil, in[name])
		p, total, raw := out[7:], 0, 0
		for {
			size := binary.LittleEndian.Uint32(p)
			p = p[4:]
			if size == 0 {
				break
			}
			n := int(size &^ lz4Uncompressed)
			if size&lz4Uncompressed != 0 {
				raw++
				total += n
				if n > lz4BlockMax {
					t.Fatalf("%s: raw block of %d bytes", name, n)
				}
			} else {
				total += lz4BlockLen(t, p[:n])
			}
			p = p[n:]
		}
		if len(p) != 0 || total != len(in[name]) {
			t.Fatalf("%s: frame covers %d of %d bytes, %d trailing", name, total, len(in[name]), len(p))
		}
		if name != "multi300k" && raw == 0 {
			t.Errorf("%s: incompressible input was not stored raw", name)
		}
	}
}

// lz4BlockLen decodes one LZ4 block and returns its decoded length.
func lz4BlockLen(t *testing.T, block []byte) int {
	t.Helper()
	frame := append(append([]byte(nil), lz4Header[:]...), binary.LittleEndian.AppendUint32(nil, uint32(len(block)))...)
	frame = append(append(frame, block...), 0, 0, 0, 0)
	out, err := Decompress(nil, frame, LZ4)
	if err != nil {
		t.Fatalf("block: %v", err)
	}
	if len(out) > lz4BlockMax {
		t.Fatalf("block decodes to %d bytes, over 64 KiB", len(out))
	}
	return len(out)
}

func TestDecompressLimit(t *testing.T) {
	src := make([]byte, 1<<20)
	for _, lc := range levelCases {
		comp := mustCompressor(t, lc.codec, DefaultLevel(lc.codec))
		packed, err := comp.Compress(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(lc.codec.String(), func(t *testing.T) {
			exact := NewDecompressor(len(src))
			if out, err := exact.Decompress(nil, packed, lc.codec); err != nil || len(out) != len(src) {
				t.Fatalf("at the limit: %d bytes, %v", len(out), err)
			}
			small := NewDecompressor(len(src) - 1)
			out, err := small.Decompress([]byte("keep"), packed, lc.codec)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("over the limit: err %v", err)
			}
			if string(out) != "keep" {
				t.Fatalf("dst not restored on error: %q", out[:min(len(out), 8)])
			}
		})
	}
	if NewDecompressor(0).MaxSize() != DefaultMaxDecompressedSize {
		t.Fatal("default limit not applied")
	}
	var zero Decompressor
	if out, err := zero.Decompress(nil, []byte{0x1f, 0x8b}, Gzip); err == nil || len(out) != 0 || zero.MaxSize() != DefaultMaxDecompressedSize {
		t.Fatal("zero Decompressor not usable")
	}
}

func TestDecompressCorrupt(t *testing.T) {
	src := inputs(t)["batch16k"]
	for _, lc := range levelCases {
		if lc.codec == None {
			continue
		}
		comp := mustCompressor(t, lc.codec, DefaultLevel(lc.codec))
		packed, _ := comp.Compress(nil, src)
		cases := map[string][]byte{
			"empty":     {},
			"truncated": packed[:len(packed)/2],
			"garbage":   []byte("this is not compressed data at all, not even close"),
		}
		flipped := bytes.Clone(packed)
		flipped[len(flipped)/2] ^= 0x55
		cases["flipped"] = flipped
		for name, bad := range cases {
			out, err := Decompress([]byte("keep"), bad, lc.codec)
			if name == "empty" && lc.codec == Zstd {
				// zstd-jni reads no frames as no content, without error.
				if err != nil || string(out) != "keep" {
					t.Errorf("zstd/empty: %q, %v", out, err)
				}
				continue
			}
			if err == nil {
				// A flipped literal byte may still decode: then it must
				// differ from the input, which the batch CRC catches.
				if name == "flipped" && !bytes.Equal(out[4:], src) {
					continue
				}
				t.Errorf("%v/%s: no error", lc.codec, name)
				continue
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%v/%s: error %v does not wrap ErrCorrupt", lc.codec, name, err)
			}
			if string(out) != "keep" {
				t.Errorf("%v/%s: dst not restored on error", lc.codec, name)
			}
		}
	}
	if _, err := Decompress(nil, nil, Codec(6)); err == nil {
		t.Error("unknown codec accepted")
	}
}

func TestDecompressNoneLimit(t *testing.T) {
	d := NewDecompressor(3)
	if _, err := d.Decompress(nil, []byte("abcd"), None); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v", err)
	}
}
