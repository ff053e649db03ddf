package compress

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCodec(t *testing.T) {
	tests := []struct {
		name    string
		want    Codec
		wantErr bool
	}{
		{"none", None, false},
		{"gzip", Gzip, false},
		{"snappy", Snappy, false},
		{"lz4", LZ4, false},
		{"zstd", Zstd, false},
		{"LZ4", None, true}, // Java's ValidString is case-sensitive
		{"", None, true},
		{"producer", None, true}, // a topic-level value, not a producer one
		{"uncompressed", None, true},
	}
	for _, tt := range tests {
		got, err := ParseCodec(tt.name)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseCodec(%q) = %v, %v; want %v, err %v", tt.name, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.name {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.name)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "kprod: ") {
			t.Errorf("error %q lacks the kprod prefix", err)
		}
	}
	if s := Codec(7).String(); s != "codec(7)" {
		t.Errorf("Codec(7).String() = %q", s)
	}
}

func TestCodecIDs(t *testing.T) {
	// The values are the attribute bits Kafka puts on the wire.
	for c, id := range map[Codec]int8{None: 0, Gzip: 1, Snappy: 2, LZ4: 3, Zstd: 4} {
		if int8(c) != id || int8(c)&AttributeMask != id {
			t.Errorf("%v has id %d, want %d", c, int8(c), id)
		}
	}
}

func TestValidateLevel(t *testing.T) {
	tests := []struct {
		codec    Codec
		level    int
		ok       bool
		property string
	}{
		{Gzip, -1, true, ""},
		{Gzip, 1, true, ""},
		{Gzip, 9, true, ""},
		{Gzip, 0, false, "compression.gzip.level"},
		{Gzip, 10, false, "compression.gzip.level"},
		{Gzip, -2, false, "compression.gzip.level"},
		{LZ4, 1, true, ""},
		{LZ4, 9, true, ""},
		{LZ4, 17, true, ""},
		{LZ4, 0, false, "compression.lz4.level"},
		{LZ4, 18, false, "compression.lz4.level"},
		{LZ4, -1, false, "compression.lz4.level"},
		{Zstd, ZstdMinLevel, true, ""},
		{Zstd, 0, true, ""},
		{Zstd, 3, true, ""},
		{Zstd, 22, true, ""},
		{Zstd, 23, false, "compression.zstd.level"},
		{Zstd, ZstdMinLevel - 1, false, "compression.zstd.level"},
		{Snappy, 12345, true, ""},
		{None, -7, true, ""},
		{Codec(5), 0, false, ""},
	}
	for _, tt := range tests {
		err := ValidateLevel(tt.codec, tt.level)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateLevel(%v, %d) = %v, want ok=%v", tt.codec, tt.level, err, tt.ok)
			continue
		}
		if tt.property != "" {
			if !errors.Is(err, ErrInvalidLevel) || !strings.Contains(err.Error(), tt.property) {
				t.Errorf("ValidateLevel(%v, %d) = %q, want ErrInvalidLevel naming %s", tt.codec, tt.level, err, tt.property)
			}
			if _, cerr := NewCompressor(tt.codec, tt.level); cerr == nil {
				t.Errorf("NewCompressor(%v, %d) accepted an invalid level", tt.codec, tt.level)
			}
		}
	}
}

func TestDefaultLevels(t *testing.T) {
	for c, want := range map[Codec]int{None: 0, Gzip: -1, Snappy: 0, LZ4: 9, Zstd: 3} {
		if got := DefaultLevel(c); got != want {
			t.Errorf("DefaultLevel(%v) = %d, want %d", c, got, want)
		}
		if err := ValidateLevel(c, DefaultLevel(c)); err != nil {
			t.Errorf("default level of %v rejected: %v", c, err)
		}
	}
	if LevelProperty(Snappy) != "" || LevelProperty(None) != "" {
		t.Error("snappy and none have no level property")
	}
}
