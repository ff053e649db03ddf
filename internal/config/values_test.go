package config

import (
	"slices"
	"testing"
)

func TestTrim(t *testing.T) {
	for in, want := range map[string]string{"": "", " a ": "a", "\t\x00a b\x1f": "a b", "\u00a0a": "\u00a0a"} {
		if got := Trim(in); got != want {
			t.Errorf("Trim(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"true", true, false}, {"TRUE", true, false}, {"True", true, false},
		{"false", false, false}, {"fAlSe", false, false},
		{"1", false, true}, {"yes", false, true}, {"", false, true}, {"true ", false, true},
	}
	for _, tt := range tests {
		got, err := ParseBool(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseBool(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in      string
		bits    int
		want    int64
		wantErr string
	}{
		{"0", 32, 0, ""},
		{"+5", 32, 5, ""},
		{"-1", 32, -1, ""},
		{"2147483647", 32, 2147483647, ""},
		{"2147483648", 32, 0, "out of range for a 32-bit int"},
		{"2147483648", 64, 2147483648, ""},
		{"9223372036854775808", 64, 0, "out of range for a 64-bit long"},
		{"abc", 32, 0, "not an integer"},
		{"1.5", 64, 0, "not an integer"},
		{"0x10", 64, 0, "not an integer"},
		{"1_000", 64, 0, "not an integer"},
		{"", 64, 0, "not an integer"},
	}
	for _, tt := range tests {
		got, err := ParseInt(tt.in, tt.bits)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tt.want || gotErr != tt.wantErr {
			t.Errorf("ParseInt(%q, %d) = %d, %q; want %d, %q", tt.in, tt.bits, got, gotErr, tt.want, tt.wantErr)
		}
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a, b ,c", []string{"a", "b", "c"}},
		{"a,,b", []string{"a", "", "b"}},
		{"a,", []string{"a", ""}},
	}
	for _, tt := range tests {
		if got := ParseList(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("ParseList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeServer(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"localhost:9092", "localhost:9092", false},
		{"broker-1.example.com:9093", "broker-1.example.com:9093", false},
		{"10.0.0.1:1", "10.0.0.1:1", false},
		{"[::1]:9092", "[::1]:9092", false},
		{"[fe80::1%eth0]:9092", "[fe80::1%eth0]:9092", false},
		{"PLAINTEXT://kafka:9092", "kafka:9092", false},
		{"my_host:65535", "my_host:65535", false},
		{"localhost", "", true},
		{":9092", "", true},
		{"host:", "", true},
		{"host:0", "", true},
		{"host:65536", "", true},
		{"host:abc", "", true},
		{"host:-1", "", true},
		{"ho st:9092", "", true},
		{"host/x:9092", "", true},
		{"::1:9092", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := NormalizeServer(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("NormalizeServer(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
