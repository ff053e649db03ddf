package compress

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/klauspost/compress/snappy/xerial"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestFranzGoInterop round-trips through franz-go's codecs in both
// directions: a second Go client must read what we write, and we must read
// what it writes.
func TestFranzGoInterop(t *testing.T) {
	in := inputs(t)
	kgoCodecs := map[Codec]kgo.CompressionCodec{
		Gzip:   kgo.GzipCompression(),
		Snappy: kgo.SnappyCompression(),
		LZ4:    kgo.Lz4Compression(),
		Zstd:   kgo.ZstdCompression(),
	}
	dec := kgo.DefaultDecompressor()
	for codec, kc := range kgoCodecs {
		kcomp, err := kgo.DefaultCompressor(kc)
		if err != nil {
			t.Fatal(err)
		}
		ours := mustCompressor(t, codec, DefaultLevel(codec))
		for name, src := range in {
			packed, used := kcomp.Compress(new(bytes.Buffer), src)
			if int8(used) != int8(codec) {
				t.Fatalf("%v/%s: franz-go used codec %d", codec, name, used)
			}
			got, err := Decompress(nil, packed, codec)
			if err != nil || !bytes.Equal(got, src) {
				t.Errorf("%v/%s: decoding franz-go's output: %v", codec, name, err)
			}
			mine, _ := ours.Compress(nil, src)
			back, err := dec.Decompress(mine, kgo.CompressionCodecType(codec))
			if err != nil || !bytes.Equal(back, src) {
				t.Errorf("%v/%s: franz-go decoding ours: %v", codec, name, err)
			}
		}
	}
}

// TestXerialSnappy decodes the framing Java producers write, as made by an
// independent encoder and by hand.
func TestXerialSnappy(t *testing.T) {
	for name, src := range inputs(t) {
		framed := xerial.Encode(nil, src)
		got, err := Decompress([]byte("x"), framed, Snappy)
		if err != nil || !bytes.Equal(got[1:], src) {
			t.Errorf("%s: xerial frame: %v", name, err)
		}
	}
	// By hand: the header, then two chunks, one of them empty content.
	a, b := []byte("hello, "), []byte("kafka world")
	frame := []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}
	for _, chunk := range [][]byte{a, {}, b} {
		block := snappyBlock(chunk)
		frame = binary.BigEndian.AppendUint32(frame, uint32(len(block)))
		frame = append(frame, block...)
	}
	got, err := Decompress(nil, frame, Snappy)
	if err != nil || string(got) != "hello, kafka world" {
		t.Fatalf("hand-made frame: %q, %v", got, err)
	}
	// Just the header is an empty stream.
	if got, err := Decompress(nil, frame[:16], Snappy); err != nil || len(got) != 0 {
		t.Fatalf("header only: %q, %v", got, err)
	}
	bad := map[string][]byte{
		"version 0":        append(append([]byte{}, frame[:11]...), append([]byte{0}, frame[12:]...)...),
		"short length":     frame[:18],
		"chunk too long":   append(append([]byte{}, frame[:16]...), 0, 0, 1, 0, 1),
		"chunk not snappy": append(append([]byte{}, frame[:16]...), 0, 0, 0, 2, 0xff, 0xff),
	}
	for name, b := range bad {
		if _, err := Decompress(nil, b, Snappy); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func snappyBlock(b []byte) []byte {
	out, _ := (snappyEncoder{}).compress(nil, b)
	return out
}

// TestLZ4FramesFromPierrec decodes frames from pierrec/lz4's own frame
// writer, with the options Kafka's reader also accepts: block and content
// checksums, content size, and larger blocks.
func TestLZ4FramesFromPierrec(t *testing.T) {
	opts := map[string][]lz4.Option{
		"checksums":  {lz4.BlockChecksumOption(true), lz4.ChecksumOption(true)},
		"plain":      {lz4.ChecksumOption(false)},
		"size":       {lz4.SizeOption(0)},
		"block4mb":   {lz4.BlockSizeOption(lz4.Block4Mb)},
		"block256kb": {lz4.BlockSizeOption(lz4.Block256Kb), lz4.CompressionLevelOption(lz4.Level5)},
	}
	for oname, o := range opts {
		for name, src := range inputs(t) {
			var buf bytes.Buffer
			w := lz4.NewWriter(&buf)
			opt := o
			if oname == "size" {
				opt = []lz4.Option{lz4.SizeOption(uint64(len(src)))}
			}
			if err := w.Apply(append(opt, lz4.ConcurrencyOption(1))...); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(src); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := Decompress(nil, buf.Bytes(), LZ4)
			if err != nil || !bytes.Equal(got, src) {
				t.Errorf("%s/%s: %v", oname, name, err)
			}
			if oname == "checksums" && len(src) > 0 {
				// Corrupt the content checksum and a block checksum.
				frame := bytes.Clone(buf.Bytes())
				frame[len(frame)-1] ^= 1
				if _, err := Decompress(nil, frame, LZ4); err == nil {
					t.Errorf("%s: content checksum not verified", name)
				}
				frame = bytes.Clone(buf.Bytes())
				frame[len(frame)-9] ^= 1 // last byte of the last block's checksum
				if _, err := Decompress(nil, frame, LZ4); err == nil {
					t.Errorf("%s: block checksum not verified", name)
				}
			}
		}
	}
}

// TestLZ4RejectsWhatKafkaRejects covers Lz4BlockInputStream's checks.
func TestLZ4RejectsWhatKafkaRejects(t *testing.T) {
	good, _ := mustCompressor(t, LZ4, LZ4DefaultLevel).Compress(nil, []byte("some records"))
	mutate := func(i int, v byte) []byte {
		b := bytes.Clone(good)
		b[i] = v
		return b
	}
	withHC := func(b []byte) []byte { // fix the descriptor checksum after a change
		b[6] = byte(xxh32(b[4:6]) >> 8)
		return b
	}
	tests := map[string][]byte{
		"bad magic":          mutate(0, 0x05),
		"bad header sum":     mutate(6, 0x83),
		"version 0":          withHC(mutate(4, 0x20)),
		"dependent blocks":   withHC(mutate(4, 0x40)),
		"dictionary id flag": withHC(mutate(4, 0x61)),
		"block size 4":       withHC(mutate(5, 0x30)),
		"reserved BD bit":    withHC(mutate(5, 0xC0)),
		"no end mark":        good[:len(good)-4],
		"block over max":     append(append(bytes.Clone(good[:7]), 0x01, 0x00, 0x01, 0x80), make([]byte, 65537)...),
	}
	for name, b := range tests {
		if _, err := Decompress(nil, b, LZ4); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Trailing bytes after the end mark are ignored, as in Java.
	if got, err := Decompress(nil, append(bytes.Clone(good), 1, 2, 3), LZ4); err != nil || string(got) != "some records" {
		t.Errorf("trailing bytes: %q, %v", got, err)
	}
}

// TestGzipMultistream decodes concatenated members, as GZIPInputStream
// does, written by the standard library's independent encoder.
func TestGzipMultistream(t *testing.T) {
	var buf bytes.Buffer
	for i := range 3 {
		w := stdgzip.NewWriter(&buf)
		fmt.Fprintf(w, "member %d;", i)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Decompress(nil, buf.Bytes(), Gzip)
	if err != nil || string(got) != "member 0;member 1;member 2;" {
		t.Fatalf("%q, %v", got, err)
	}
}
