package wire

import (
	"encoding/binary"
	"errors"
)

// Decoding errors are wrapped, with the "kprod: " prefix, by the exported
// function that returns them.
var (
	errTruncated = errors.New("truncated message")
	errBadLength = errors.New("invalid length in message")
	errVarint    = errors.New("malformed varint in message")
)

// reader is a bounds-checked cursor over a received message. The first
// failure sticks in err and every later read returns zero values, so
// decoders check err once per element rather than after every field.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

// remaining returns the number of unread bytes.
func (r *reader) remaining() int { return len(r.b) }

func (r *reader) int8() int8 {
	if len(r.b) < 1 {
		r.fail(errTruncated)
		return 0
	}
	v := int8(r.b[0])
	r.b = r.b[1:]
	return v
}

func (r *reader) int16() int16 {
	if len(r.b) < 2 {
		r.fail(errTruncated)
		return 0
	}
	v := int16(binary.BigEndian.Uint16(r.b))
	r.b = r.b[2:]
	return v
}

func (r *reader) int32() int32 {
	if len(r.b) < 4 {
		r.fail(errTruncated)
		return 0
	}
	v := int32(binary.BigEndian.Uint32(r.b))
	r.b = r.b[4:]
	return v
}

func (r *reader) int64() int64 {
	if len(r.b) < 8 {
		r.fail(errTruncated)
		return 0
	}
	v := int64(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) uvarint() uint32 {
	v, n := ReadUvarint(r.b)
	if n <= 0 {
		r.fail(errVarint)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int32 {
	v, n := ReadVarint(r.b)
	if n <= 0 {
		r.fail(errVarint)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varlong() int64 {
	v, n := ReadVarlong(r.b)
	if n <= 0 {
		r.fail(errVarint)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// span returns the next n bytes as a view, or nil after recording an error.
func (r *reader) span(n int) []byte {
	if n < 0 {
		r.fail(errBadLength)
		return nil
	}
	if n > len(r.b) {
		r.fail(errTruncated)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// nullableString reads an int16- or compact-length string (KIP-482 compact
// lengths are uvarint length+1, 0 meaning null). It returns nil for null and
// a non-nil, possibly empty, view otherwise.
func (r *reader) nullableString(flexible bool) []byte {
	var n int
	if flexible {
		n = int(r.uvarint()) - 1
	} else {
		n = int(r.int16())
	}
	if r.err != nil || n < -1 {
		r.fail(errBadLength)
		return nil
	}
	if n == -1 {
		return nil
	}
	return r.span(n)
}

// string reads a non-nullable string; null is an error.
func (r *reader) string(flexible bool) []byte {
	s := r.nullableString(flexible)
	if s == nil {
		r.fail(errBadLength)
	}
	return s
}

// arrayLen reads an array length and checks it against the bytes left,
// given the smallest encoding of one element, so a hostile count can never
// make a decoder reserve memory the message does not back.
func (r *reader) arrayLen(flexible bool, minElem int) int {
	var n int
	if flexible {
		n = int(r.uvarint()) - 1
	} else {
		n = int(r.int32())
	}
	if r.err != nil {
		return 0
	}
	if n < 0 || n > len(r.b)/minElem {
		// A null array (-1) is never sent where kprod reads arrays.
		r.fail(errBadLength)
		return 0
	}
	return n
}

// skipTags skips a tagged-field section whose tags the caller does not know.
func (r *reader) skipTags() {
	n := r.uvarint()
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.uvarint()
		r.span(int(r.uvarint()))
	}
}
