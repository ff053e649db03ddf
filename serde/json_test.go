package serde_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/kprod-io/kprod/serde"
)

type failingMarshaler struct{}

var errMarshal = errors.New("no JSON for you")

func (failingMarshaler) MarshalJSON() ([]byte, error) { return nil, errMarshal }

func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name  string
		run   func(appendMode bool) ([]byte, error)
		check func(error) bool
	}{
		{
			name: "unsupported-type",
			run: func(appendMode bool) ([]byte, error) {
				return jsonRun(serde.JSON[chan int](), make(chan int), appendMode)
			},
			check: func(err error) bool { var e *json.UnsupportedTypeError; return errors.As(err, &e) },
		},
		{
			name: "nan",
			run: func(appendMode bool) ([]byte, error) {
				return jsonRun(serde.JSON[float64](), math.NaN(), appendMode)
			},
			check: func(err error) bool { var e *json.UnsupportedValueError; return errors.As(err, &e) },
		},
		{
			name: "marshaler-error",
			run: func(appendMode bool) ([]byte, error) {
				return jsonRun(serde.JSON[failingMarshaler](), failingMarshaler{}, appendMode)
			},
			check: func(err error) bool { return errors.Is(err, errMarshal) },
		},
		{
			name: "nullable-passes-error-through",
			run: func(appendMode bool) ([]byte, error) {
				f := math.Inf(1)
				return jsonRun(serde.Nullable(serde.JSON[float64]()), &f, appendMode)
			},
			check: func(err error) bool { var e *json.UnsupportedValueError; return errors.As(err, &e) },
		},
	}
	for _, tt := range tests {
		for _, appendMode := range []bool{false, true} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := tt.run(appendMode)
				if err == nil || !tt.check(err) {
					t.Fatalf("append=%v: err = %v", appendMode, err)
				}
				// Wrapped by the producer, the cause is still reachable.
				wrapped := error(&serde.SerializationError{Side: serde.SideValue, Topic: "t", Err: err})
				if !tt.check(wrapped) {
					t.Fatalf("cause lost through SerializationError: %v", wrapped)
				}
			})
		}
	}
}

func jsonRun[T any](s serde.Serializer[T], v T, appendMode bool) ([]byte, error) {
	if appendMode {
		return serde.Append(s, make([]byte, 0, 8), "t", v)
	}
	return s.Serialize("t", v)
}

func TestNullableJSONIsKafkaNull(t *testing.T) {
	type event struct{ ID int }
	var nilEvent *event
	// JSON of a nil pointer is JSON's null text...
	got, err := serde.JSON[*event]().Serialize("t", nilEvent)
	if err != nil || string(got) != "null" {
		t.Fatalf("JSON[*event](nil) = %q, %v; want \"null\"", got, err)
	}
	// ...while Nullable(JSON) makes it Kafka's null.
	got, err = serde.Nullable(serde.JSON[event]()).Serialize("t", nilEvent)
	if err != nil || got != nil {
		t.Fatalf("Nullable(JSON[event])(nil) = %q, %v; want nil", got, err)
	}
}
