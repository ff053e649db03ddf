package protobuf

import (
	"bytes"
	"slices"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb"
)

// TestMessageIndexes checks the paths and their bytes, byte for byte, against
// Confluent's encoding: zigzag varints, length first, [0] as the lone byte 0x00.
func TestMessageIndexes(t *testing.T) {
	for _, tc := range []struct {
		md   protoreflect.MessageDescriptor
		idx  []int
		want []byte
	}{
		{(&testpb.Customer{}).ProtoReflect().Descriptor(), []int{0}, []byte{0x00}},
		{(&testpb.Order{}).ProtoReflect().Descriptor(), []int{1}, []byte{0x02, 0x02}},
		{(&testpb.Order_Line{}).ProtoReflect().Descriptor(), []int{1, 0}, []byte{0x04, 0x02, 0x00}},
		{(&testpb.Order_Line_Discount{}).ProtoReflect().Descriptor(), []int{1, 0, 0}, []byte{0x06, 0x02, 0x00, 0x00}},
		{(&testpb.Order_Line_Note{}).ProtoReflect().Descriptor(), []int{1, 0, 1}, []byte{0x06, 0x02, 0x00, 0x02}},
		{(&testpb.Plain{}).ProtoReflect().Descriptor(), []int{0}, []byte{0x00}},
	} {
		idx := messageIndexes(tc.md)
		if !slices.Equal(idx, tc.idx) {
			t.Errorf("%s: path %v, want %v", tc.md.FullName(), idx, tc.idx)
		}
		if got := appendIndexes(nil, idx); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: encoded % x, want % x", tc.md.FullName(), got, tc.want)
		}
		back, rest, err := readIndexes(append(appendIndexes(nil, idx), 0xAA))
		if err != nil || !slices.Equal(back, tc.idx) || !bytes.Equal(rest, []byte{0xAA}) {
			t.Errorf("%s: read back %v rest % x err %v", tc.md.FullName(), back, rest, err)
		}
	}
}

// TestIndexesLarge checks multi-byte varints: index 64 zigzags to 128, two bytes.
func TestIndexesLarge(t *testing.T) {
	got := appendIndexes(nil, []int{0, 64})
	want := []byte{0x04, 0x00, 0x80, 0x01}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoded % x, want % x", got, want)
	}
	// The long form of [0] (0x02 0x00) is still read as [0], as Java reads it.
	if idx, _, err := readIndexes([]byte{0x02, 0x00}); err != nil || !slices.Equal(idx, []int{0}) {
		t.Fatalf("long form of [0]: %v %v", idx, err)
	}
}

func TestReadIndexesRejects(t *testing.T) {
	for _, b := range [][]byte{
		nil,
		{0x01},             // negative length
		{0x04, 0x00},       // two indexes promised, one given
		{0x02, 0x01},       // negative index
		{0xff, 0xff, 0xff}, // truncated varint
	} {
		if _, _, err := readIndexes(b); err == nil {
			t.Errorf("% x: no error", b)
		}
	}
}

// FuzzReadIndexes: any input decodes or fails cleanly, and what decodes re-encodes to
// the same path.
func FuzzReadIndexes(f *testing.F) {
	f.Add([]byte{0x00})
	f.Add([]byte{0x04, 0x02, 0x00})
	f.Add([]byte{0x06, 0x02, 0x00, 0x02, 0x0a})
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x10})
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, rest, err := readIndexes(b)
		if err != nil {
			return
		}
		if len(rest) > len(b) {
			t.Fatal("rest longer than input")
		}
		again, _, err := readIndexes(appendIndexes(nil, idx))
		if err != nil || !slices.Equal(again, idx) {
			t.Fatalf("%v re-read as %v, %v", idx, again, err)
		}
	})
}

// The files Java skips are exactly ProtobufSchema.knownTypes(): not every
// google/protobuf file (plugin.proto is not built in).
func TestKnownTypes(t *testing.T) {
	for path, want := range map[string]bool{
		"google/protobuf/timestamp.proto":       true,
		"google/protobuf/wrappers.proto":        true,
		"google/type/money.proto":               true,
		"confluent/meta.proto":                  true,
		"google/protobuf/compiler/plugin.proto": false,
		"google/type/other.proto":               false,
		"address.proto":                         false,
	} {
		if isKnownType(path) != want {
			t.Errorf("%s: known %v, want %v", path, !want, want)
		}
	}
}
