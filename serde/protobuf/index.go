package protobuf

import (
	"encoding/binary"
	"errors"

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

// errBadIndexes reports a message-index path that cannot be decoded.
var errBadIndexes = errors.New("protobuf: malformed message-index path")

// readIndexes decodes a message-index path at the start of b, returning it and the
// bytes after it (the message). A length of zero is the path [0]. It never
// allocates more than b could encode, so hostile input cannot make it grow.
func readIndexes(b []byte) ([]int, []byte, error) {
	n, k := binary.Varint(b)
	if k <= 0 || n < 0 || n > int64(len(b)-k) {
		return nil, nil, errBadIndexes
	}
	b = b[k:]
	if n == 0 {
		return []int{0}, b, nil
	}
	idx := make([]int, 0, n)
	for range n {
		v, k := binary.Varint(b)
		if k <= 0 || v < 0 || v > int64(^uint32(0)>>1) {
			return nil, nil, errBadIndexes
		}
		idx = append(idx, int(v))
		b = b[k:]
	}
	return idx, b, nil
}
