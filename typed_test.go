package kprod_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/serde"
)

func TestTypedSerializesKeyAndValue(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("typed", 1))
	p := newProducer(t, c.Bootstrap(), nil)
	ctx := context.Background()

	ints := kprod.NewTyped(p, serde.String(), serde.Int64())
	if _, err := ints.SendSync(ctx, &kprod.TypedRecord[string, int64]{Topic: "typed", Key: "k", Value: 1}); err != nil {
		t.Fatal(err)
	}
	nullable := kprod.NewTyped(p, serde.Nullable(serde.String()), serde.Nullable(serde.String()))
	empty := ""
	if _, err := nullable.SendSync(ctx, &kprod.TypedRecord[*string, *string]{Topic: "typed", Key: nil, Value: &empty}); err != nil {
		t.Fatal(err)
	}
	if _, err := nullable.SendSync(ctx, &kprod.TypedRecord[*string, *string]{Topic: "typed", Key: &empty, Value: nil}); err != nil {
		t.Fatal(err)
	}
	recs := readBack(t, c.Bootstrap(), "typed", 3)
	if string(recs[0].Key) != "k" || string(recs[0].Value) != "\x00\x00\x00\x00\x00\x00\x00\x01" {
		t.Fatalf("record 0: key %q value %x", recs[0].Key, recs[0].Value)
	}
	if recs[1].Key != nil || recs[1].Value == nil || len(recs[1].Value) != 0 {
		t.Fatalf("record 1: want null key and empty value, got key %v value %v", recs[1].Key, recs[1].Value)
	}
	if recs[2].Key == nil || len(recs[2].Key) != 0 || recs[2].Value != nil {
		t.Fatalf("record 2: want empty key and null value, got key %v value %v", recs[2].Key, recs[2].Value)
	}
}

func TestTypedSerializerErrorIsSynchronous(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("typed", 1))
	p := newProducer(t, c.Bootstrap(), nil)
	j := kprod.NewTyped(p, serde.String(), serde.JSON[float64]())
	err := j.Send(context.Background(), &kprod.TypedRecord[string, float64]{Topic: "typed", Value: math.NaN()}, func(kprod.RecordMetadata, error) {
		t.Error("callback ran for a record that failed to serialize")
	})
	var se *serde.SerializationError
	if !errors.As(err, &se) || se.Side != serde.SideValue {
		t.Fatalf("err = %v, want a value SerializationError", err)
	}
	if kprod.MaybeWritten(err) {
		t.Fatal("a serialization error must not be maybe-written")
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A serializer that returns a *serde.SerializationError itself (the schema registry
// serializers) is reported once, with the side filled in, not wrapped in another.
func TestTypedSerializerOwnSerializationError(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("typed", 1))
	p := newProducer(t, c.Bootstrap(), nil)
	cause := errors.New("value does not match the schema at \"/age\"")
	own := serde.SerializerFunc[string](func(topic string, _ string) ([]byte, error) {
		return nil, &serde.SerializationError{Topic: topic, Err: cause}
	})
	j := kprod.NewTyped(p, own, serde.String())
	err := j.Send(context.Background(), &kprod.TypedRecord[string, string]{Topic: "typed", Key: "k"}, nil)
	var se *serde.SerializationError
	if !errors.As(err, &se) || se.Side != serde.SideKey || se.Topic != "typed" || se.Err != cause {
		t.Fatalf("err = %#v, want the serializer's own SerializationError with side key", err)
	}
	want := `kprod: serializing key for topic "typed": value does not match the schema at "/age"`
	if err.Error() != want {
		t.Fatalf("message %q, want %q", err.Error(), want)
	}
}
