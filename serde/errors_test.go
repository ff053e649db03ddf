package serde_test

import (
	"errors"
	"io"
	"testing"

	"github.com/kprod-io/kprod/serde"
)

func TestSerializationError(t *testing.T) {
	tests := []struct {
		err  *serde.SerializationError
		want string
	}{
		{
			err:  &serde.SerializationError{Side: serde.SideKey, Topic: "orders", Err: io.ErrUnexpectedEOF},
			want: `kprod: serializing key for topic "orders": unexpected EOF`,
		},
		{
			err:  &serde.SerializationError{Side: serde.SideValue, Topic: "orders", Err: io.ErrUnexpectedEOF},
			want: `kprod: serializing value for topic "orders": unexpected EOF`,
		},
		{
			err:  &serde.SerializationError{Topic: "t"},
			want: `kprod: serializing record for topic "t" failed`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("Error() = %q, want %q", got, tt.want)
			}
			var wrapped error = tt.err
			var se *serde.SerializationError
			if !errors.As(wrapped, &se) || se != tt.err {
				t.Fatal("errors.As did not find the SerializationError")
			}
			if tt.err.Err != nil && !errors.Is(wrapped, tt.err.Err) {
				t.Fatal("errors.Is did not find the cause")
			}
		})
	}
}

func TestSideString(t *testing.T) {
	for side, want := range map[serde.Side]string{
		serde.SideKey:   "key",
		serde.SideValue: "value",
		0:               "record",
		200:             "record",
	} {
		if got := side.String(); got != want {
			t.Errorf("Side(%d).String() = %q, want %q", side, got, want)
		}
	}
}
