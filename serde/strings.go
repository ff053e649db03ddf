package serde

// String returns the serializer of Java's StringSerializer with its default
// encoding, UTF-8: the string's bytes as they are.
//
// A Go string is a byte sequence and is written unchanged; Java's encoder instead
// replaces an unpaired UTF-16 surrogate with '?', a case a valid Go string cannot
// express. A string holding invalid UTF-8 is therefore written as given, and a Java
// StringDeserializer reads each invalid byte as U+FFFD. Java's key.serializer.encoding
// and value.serializer.encoding settings have no counterpart: write a custom
// Serializer for another charset. The empty string is an empty, non-null encoding;
// use Nullable(String()) for a nullable string.
func String() Serializer[string] { return stringSerializer{} }

type stringSerializer struct{}

func (stringSerializer) Serialize(_ string, v string) ([]byte, error) {
	return []byte(v), nil
}

func (stringSerializer) AppendSerialize(dst []byte, _ string, v string) ([]byte, error) {
	return appendStringNonNull(dst, v), nil
}

// Bytes returns the serializer of Java's ByteArraySerializer: the bytes pass through
// unchanged, and a nil slice stays nil, which is a null key or a tombstone value,
// while a non-nil empty slice is an empty key or value.
//
// Serialize returns v itself, not a copy, as Java does; the producer copies it into
// the record batch before Send returns, so v may be reused after that.
func Bytes() Serializer[[]byte] { return bytesSerializer{} }

type bytesSerializer struct{}

func (bytesSerializer) Serialize(_ string, v []byte) ([]byte, error) {
	return v, nil
}

func (bytesSerializer) AppendSerialize(dst []byte, _ string, v []byte) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return appendNonNull(dst, v), nil
}
