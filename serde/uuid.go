package serde

import (
	"errors"
	"fmt"
)

// UUID is a 128-bit universally unique identifier, its bytes in network order: the
// first eight are Java's UUID.getMostSignificantBits, big-endian, the last eight its
// getLeastSignificantBits. The zero value is the nil UUID.
type UUID [16]byte

// uuidTextLen is the length of the canonical 8-4-4-4-12 textual form.
const uuidTextLen = 36

// ErrInvalidUUID is the error, matched with errors.Is, that ParseUUID and
// UnmarshalText return for text that is not a UUID in canonical form.
var ErrInvalidUUID = errors.New("kprod: invalid UUID")

// UUIDSerializer returns the serializer of Java's UUIDSerializer, which writes
// uuid.toString() as UTF-8 text (not the 16 raw bytes): the 36-character canonical
// form with lowercase hex digits, e.g. "123e4567-e89b-12d3-a456-426614174000".
// The text is ASCII, so Java's serializer.encoding setting changes nothing for any
// ASCII-compatible charset. It is named after the Java class because UUID is the type.
func UUIDSerializer() Serializer[UUID] { return uuidSerializer{} }

type uuidSerializer struct{}

func (uuidSerializer) Serialize(_ string, v UUID) ([]byte, error) {
	return v.appendText(make([]byte, 0, uuidTextLen)), nil
}

func (uuidSerializer) AppendSerialize(dst []byte, _ string, v UUID) ([]byte, error) {
	return v.appendText(dst), nil
}

// ParseUUID parses the canonical textual form of a UUID, the 36 characters
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx that Java's UUID.toString produces, with hex
// digits in either case. It rejects the shortened forms that Java's UUID.fromString
// still tolerates for compatibility ("1-2-3-4-5"), braces and "urn:uuid:" prefixes;
// the error wraps ErrInvalidUUID.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if len(s) != uuidTextLen {
		return u, fmt.Errorf("%w: length %d, want %d", ErrInvalidUUID, len(s), uuidTextLen)
	}
	j := 0
	for i := 0; i < uuidTextLen; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return UUID{}, fmt.Errorf("%w: %q: want '-' at offset %d", ErrInvalidUUID, s, i)
			}
			i++
			continue
		}
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		if hi > 0xf || lo > 0xf {
			return UUID{}, fmt.Errorf("%w: %q: non-hex digit near offset %d", ErrInvalidUUID, s, i)
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, nil
}

// String returns the canonical textual form of u with lowercase hex digits, as
// Java's UUID.toString does.
func (u UUID) String() string {
	var buf [uuidTextLen]byte
	return string(u.appendText(buf[:0]))
}

// AppendText appends the canonical textual form of u to b; it implements
// encoding.TextAppender and never fails.
func (u UUID) AppendText(b []byte) ([]byte, error) {
	return u.appendText(b), nil
}

// MarshalText returns the canonical textual form of u; it implements
// encoding.TextMarshaler, so encoding/json writes a UUID as a JSON string.
func (u UUID) MarshalText() ([]byte, error) {
	return u.appendText(make([]byte, 0, uuidTextLen)), nil
}

// UnmarshalText parses text as ParseUUID does; it implements encoding.TextUnmarshaler.
func (u *UUID) UnmarshalText(text []byte) error {
	v, err := ParseUUID(string(text))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

const lowerHex = "0123456789abcdef"

func (u UUID) appendText(b []byte) []byte {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, lowerHex[c>>4], lowerHex[c&0xf])
	}
	return b
}

// hexValue maps an ASCII hex digit to its value and every other byte to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := byte(0); i < 10; i++ {
		t['0'+i] = i
	}
	for i := byte(0); i < 6; i++ {
		t['a'+i] = 10 + i
		t['A'+i] = 10 + i
	}
	return t
}()
