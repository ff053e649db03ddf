package serde_test

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/kprod-io/kprod/serde"
)

func ExampleString() {
	s := serde.String()
	b, _ := s.Serialize("greetings", "héllo")
	fmt.Printf("% x\n", b)

	// The producer serializes into a reused buffer instead, which allocates nothing.
	buf := make([]byte, 0, 64)
	buf, _ = serde.Append(s, buf[:0], "greetings", "héllo")
	fmt.Printf("% x\n", buf)
	// Output:
	// 68 c3 a9 6c 6c 6f
	// 68 c3 a9 6c 6c 6f
}

func ExampleJSON() {
	type Order struct {
		ID     serde.UUID `json:"id"`
		Amount int64      `json:"amount"`
	}
	id, _ := serde.ParseUUID("123e4567-e89b-12d3-a456-426614174000")

	b, err := serde.JSON[Order]().Serialize("orders", Order{ID: id, Amount: 1999})
	fmt.Println(string(b), err)

	// Nullable turns a nil *Order into Kafka's null: a tombstone for the key.
	tombstone, err := serde.Nullable(serde.JSON[Order]()).Serialize("orders", nil)
	fmt.Println(tombstone == nil, err)
	// Output:
	// {"id":"123e4567-e89b-12d3-a456-426614174000","amount":1999} <nil>
	// true <nil>
}

func ExampleInt64() {
	b, _ := serde.Int64().Serialize("counts", 1)
	fmt.Printf("% x\n", b)
	// Output: 00 00 00 00 00 00 00 01
}

func ExampleUUIDSerializer() {
	id, _ := serde.ParseUUID("123E4567-E89B-12D3-A456-426614174000")
	// Like Java's UUIDSerializer: the 36-character text, not 16 raw bytes.
	b, _ := serde.UUIDSerializer().Serialize("users", id)
	fmt.Println(len(b), string(b))
	// Output: 36 123e4567-e89b-12d3-a456-426614174000
}

// Point is a user type with its own compact encoding.
type Point struct{ X, Y int32 }

// pointSerializer writes a Point as two big-endian int32s. It implements
// AppendSerializer too, so the producer serializes Points without allocating.
type pointSerializer struct{}

func (p pointSerializer) Serialize(topic string, v Point) ([]byte, error) {
	return p.AppendSerialize(make([]byte, 0, 8), topic, v)
}

func (pointSerializer) AppendSerialize(dst []byte, _ string, v Point) ([]byte, error) {
	dst = binary.BigEndian.AppendUint32(dst, uint32(v.X))
	return binary.BigEndian.AppendUint32(dst, uint32(v.Y)), nil
}

func Example_customSerializer() {
	var points serde.Serializer[Point] = pointSerializer{}
	b, _ := points.Serialize("points", Point{X: 1, Y: -1})
	fmt.Printf("% x\n", b)

	// A plain function works too, through SerializerFunc; errors it returns reach
	// the caller of Send wrapped in a *serde.SerializationError.
	shout := serde.SerializerFunc[string](func(_ string, v string) ([]byte, error) {
		if v == "" {
			return nil, fmt.Errorf("nothing to shout")
		}
		return []byte(strings.ToUpper(v)), nil
	})
	b, _ = shout.Serialize("shouts", "hey")
	fmt.Println(string(b))
	_, err := shout.Serialize("shouts", "")
	fmt.Println(&serde.SerializationError{Side: serde.SideValue, Topic: "shouts", Err: err})
	// Output:
	// 00 00 00 01 ff ff ff ff
	// HEY
	// kprod: serializing value for topic "shouts": nothing to shout
}
