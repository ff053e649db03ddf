package serde_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/serde"
)

func TestParseUUID(t *testing.T) {
	tests := []struct {
		in   string
		want serde.UUID
		text string // String() of the result; Java's toString is lowercase
	}{
		{
			in:   "123e4567-e89b-12d3-a456-426614174000",
			want: serde.UUID{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00},
			text: "123e4567-e89b-12d3-a456-426614174000",
		},
		{
			in:   "123E4567-E89B-12D3-A456-426614174000",
			want: serde.UUID{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00},
			text: "123e4567-e89b-12d3-a456-426614174000",
		},
		{in: "00000000-0000-0000-0000-000000000000", text: "00000000-0000-0000-0000-000000000000"},
		{
			// Java: new UUID(0x0123456789abcdefL, 0xfedcba9876543210L).toString().
			in:   "01234567-89ab-cdef-fedc-ba9876543210",
			want: serde.UUID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10},
			text: "01234567-89ab-cdef-fedc-ba9876543210",
		},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := serde.ParseUUID(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("ParseUUID = %x, want %x", got, tt.want)
			}
			if s := got.String(); s != tt.text {
				t.Fatalf("String = %q, want %q", s, tt.text)
			}
			if b, _ := got.AppendText([]byte("x")); string(b) != "x"+tt.text {
				t.Fatalf("AppendText = %q, want %q", b, "x"+tt.text)
			}
		})
	}
}

func TestParseUUIDRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"1-2-3-4-5", // Java's UUID.fromString tolerates this; we do not
		"123e4567e89b12d3a456426614174000",
		"{123e4567-e89b-12d3-a456-426614174000}",
		"urn:uuid:123e4567-e89b-12d3-a456-426614174000",
		"123e4567-e89b-12d3-a456-42661417400",
		"123e4567-e89b-12d3-a456-4266141740000",
		"123e4567-e89b-12d3-a456_426614174000",
		"123e4567+e89b-12d3-a456-426614174000",
		"123e456-7e89b-12d3-a456-426614174000",
		"123g4567-e89b-12d3-a456-426614174000",
		"123e4567-e89b-12d3-a456-42661417400z",
		"123e4567-e89b-12d3-a456-4266141740\x00\x00",
		"123e4567-e89b-12d3-a456-4266141740é",
	} {
		t.Run(in, func(t *testing.T) {
			u, err := serde.ParseUUID(in)
			if !errors.Is(err, serde.ErrInvalidUUID) {
				t.Fatalf("err = %v, want ErrInvalidUUID", err)
			}
			if !strings.HasPrefix(err.Error(), "kprod: ") {
				t.Fatalf("error %q lacks the kprod: prefix", err)
			}
			if u != (serde.UUID{}) {
				t.Fatalf("got %v with an error, want the zero UUID", u)
			}
		})
	}
}

func TestUUIDTextMarshaling(t *testing.T) {
	u := serde.UUID{0xde, 0xad, 0xbe, 0xef, 15: 1}
	b, err := json.Marshal(map[string]serde.UUID{"id": u})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"deadbeef-0000-0000-0000-000000000001"}`; string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	var back map[string]serde.UUID
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["id"] != u {
		t.Fatalf("round trip = %v, want %v", back["id"], u)
	}
	var bad serde.UUID
	if err := bad.UnmarshalText([]byte("nope")); !errors.Is(err, serde.ErrInvalidUUID) {
		t.Fatalf("UnmarshalText err = %v, want ErrInvalidUUID", err)
	}
}

func FuzzParseUUID(f *testing.F) {
	for _, s := range []string{
		"123e4567-e89b-12d3-a456-426614174000",
		"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
		"1-2-3-4-5",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := serde.ParseUUID(s)
		if err != nil {
			return
		}
		if got := u.String(); got != strings.ToLower(s) {
			t.Fatalf("ParseUUID(%q).String() = %q, want the lowercase input", s, got)
		}
		if again, err := serde.ParseUUID(u.String()); err != nil || again != u {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
	})
}
