package wire

import (
	"encoding/binary"
	"math"
	"testing"
)

// Go's binary.AppendVarint uses the same zigzag mapping as Kafka, so it is
// an independent oracle for the signed forms.
func TestVarintMatchesEncodingBinary(t *testing.T) {
	values32 := []int32{0, 1, -1, 2, -2, 63, -64, 64, -65, 8191, -8192, 8192, 1 << 20, -(1 << 20), math.MaxInt32, math.MinInt32}
	for _, v := range values32 {
		want := binary.AppendVarint(nil, int64(v))
		got := AppendVarint(nil, v)
		if string(got) != string(want) {
			t.Errorf("AppendVarint(%d) = %x, want %x", v, got, want)
		}
		if n := SizeVarint(v); n != len(want) {
			t.Errorf("SizeVarint(%d) = %d, want %d", v, n, len(want))
		}
		back, n := ReadVarint(got)
		if back != v || n != len(got) {
			t.Errorf("ReadVarint(%x) = %d, %d; want %d, %d", got, back, n, v, len(got))
		}
	}
	values64 := []int64{0, 1, -1, math.MaxInt32 + 1, math.MinInt32 - 1, 1 << 50, -(1 << 50), math.MaxInt64, math.MinInt64}
	for _, v := range values64 {
		want := binary.AppendVarint(nil, v)
		got := AppendVarlong(nil, v)
		if string(got) != string(want) {
			t.Errorf("AppendVarlong(%d) = %x, want %x", v, got, want)
		}
		if n := SizeVarlong(v); n != len(want) {
			t.Errorf("SizeVarlong(%d) = %d, want %d", v, n, len(want))
		}
		back, n := ReadVarlong(got)
		if back != v || n != len(got) {
			t.Errorf("ReadVarlong(%x) = %d, %d; want %d, %d", got, back, n, v, len(got))
		}
	}
}

func TestUvarintSizes(t *testing.T) {
	for shift := 0; shift < 64; shift++ {
		for _, d := range []int64{-1, 0, 1} {
			v := uint64(1)<<shift + uint64(d)
			want := len(binary.AppendUvarint(nil, v))
			if got := SizeUvarlong(v); got != want {
				t.Errorf("SizeUvarlong(%d) = %d, want %d", v, got, want)
			}
			if got := len(AppendUvarlong(nil, v)); got != want {
				t.Errorf("len(AppendUvarlong(%d)) = %d, want %d", v, got, want)
			}
			if v <= math.MaxUint32 {
				if got := SizeUvarint(uint32(v)); got != want {
					t.Errorf("SizeUvarint(%d) = %d, want %d", v, got, want)
				}
				if got := AppendUvarint(nil, uint32(v)); string(got) != string(binary.AppendUvarint(nil, v)) {
					t.Errorf("AppendUvarint(%d) = %x", v, got)
				}
			}
		}
	}
}

func TestReadVarintErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		wantN int
	}{
		{"empty", nil, 0},
		{"truncated", []byte{0x80}, 0},
		{"truncated4", []byte{0x80, 0x80, 0x80, 0x80}, 0},
		{"overflow 5th byte", []byte{0x80, 0x80, 0x80, 0x80, 0x10}, -1},
		{"six bytes", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, -1},
		{"max", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, n := ReadUvarint(tt.in); n != tt.wantN {
				t.Errorf("ReadUvarint n = %d, want %d", n, tt.wantN)
			}
		})
	}
	long := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}
	if _, n := ReadUvarlong(long); n != -1 {
		t.Errorf("ReadUvarlong overflow n = %d, want -1", n)
	}
	if _, n := ReadUvarlong(long[:9]); n != 0 {
		t.Errorf("ReadUvarlong truncated n = %d, want 0", n)
	}
}
