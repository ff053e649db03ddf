package protobuf

// readIndexes is the reader's side of the message-index path, as Confluent's
// deserializers parse it; the serializer never reads one, so it lives with the tests
// as their oracle (and fuzz target) for appendIndexes.

import (
	"encoding/binary"
	"errors"
)

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
