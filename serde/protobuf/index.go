package protobuf

import (
	"encoding/binary"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// messageIndexes returns where md sits in its file, as Confluent's message-index
// path: [i] for the file's i-th top-level message, [i, j] for the j-th message
// nested in it, and so on. A record's reader finds the writer's message type by it,
// since one .proto file (one schema id) may define many.
func messageIndexes(md protoreflect.MessageDescriptor) []int {
	var rev []int
	for d := protoreflect.Descriptor(md); ; {
		m, ok := d.(protoreflect.MessageDescriptor)
		if !ok {
			break
		}
		rev = append(rev, m.Index())
		d = m.Parent()
	}
	idx := make([]int, len(rev))
	for i, v := range rev {
		idx[len(rev)-1-i] = v
	}
	return idx
}

// appendIndexes appends the Confluent encoding of a message-index path: its length,
// then each index, all as zigzag varints (Go's signed varint). The path [0], the
// first message of the file and by far the most common, is written as the single
// byte 0x00 (a length of zero), as Confluent's MessageIndexes.toByteArray does; other
// clients that wrote it as 0x02 0x00 could not be read by Java's deserializer
// (confluent-kafka-python #926).
func appendIndexes(dst []byte, idx []int) []byte {
	if len(idx) == 1 && idx[0] == 0 {
		return append(dst, 0)
	}
	dst = binary.AppendVarint(dst, int64(len(idx)))
	for _, i := range idx {
		dst = binary.AppendVarint(dst, int64(i))
	}
	return dst
}
