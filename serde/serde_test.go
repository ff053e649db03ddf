package serde_test

import (
	"bytes"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/serde"
)

// unhex decodes the expected encodings, written by hand from the Java serializers'
// source (org.apache.kafka.common.serialization), spaces allowed for legibility.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// javaCase is one value and the bytes Java's serializer gives it; null means Java
// returns null.
type javaCase struct {
	name string
	ser  func(dst []byte, appendMode bool) ([]byte, error)
	want string
	null bool
}

// caseOf runs v through s, by Serialize or by AppendSerialize.
func caseOf[T any](name string, s serde.Serializer[T], v T, want string) javaCase {
	return javaCase{
		name: name,
		want: want,
		ser: func(dst []byte, appendMode bool) ([]byte, error) {
			if !appendMode {
				return s.Serialize("t", v)
			}
			as, ok := s.(serde.AppendSerializer[T])
			if !ok {
				return nil, errNoAppend
			}
			return as.AppendSerialize(dst, "t", v)
		},
	}
}

func nullCase[T any](name string, s serde.Serializer[T], v T) javaCase {
	c := caseOf(name, s, v, "")
	c.null = true
	return c
}

type noAppendError struct{}

func (noAppendError) Error() string { return "serializer does not implement AppendSerializer" }

var errNoAppend = noAppendError{}

func javaCases(t *testing.T) []javaCase {
	one := int32(1)
	empty := ""
	u, err := serde.ParseUUID("123e4567-e89b-12d3-a456-426614174000")
	if err != nil {
		t.Fatal(err)
	}
	return []javaCase{
		// StringSerializer: data.getBytes("UTF8").
		caseOf("string/empty", serde.String(), "", ""),
		caseOf("string/ascii", serde.String(), "hello", "68 65 6c 6c 6f"),
		caseOf("string/2-byte", serde.String(), "héllo", "68 c3a9 6c 6c 6f"),
		caseOf("string/3-byte", serde.String(), "€", "e2 82 ac"),
		caseOf("string/surrogate-pair", serde.String(), "😀", "f0 9f 98 80"),
		caseOf("string/nul", serde.String(), "a\x00b", "61 00 62"),

		// ByteArraySerializer: returns data itself.
		nullCase("bytes/nil", serde.Bytes(), nil),
		caseOf("bytes/empty", serde.Bytes(), []byte{}, ""),
		caseOf("bytes/some", serde.Bytes(), []byte{0, 1, 0xff}, "00 01 ff"),

		// ShortSerializer: (byte)(data >>> 8), data.byteValue().
		caseOf("int16/0", serde.Int16(), 0, "00 00"),
		caseOf("int16/1", serde.Int16(), 1, "00 01"),
		caseOf("int16/-1", serde.Int16(), -1, "ff ff"),
		caseOf("int16/0x1234", serde.Int16(), 0x1234, "12 34"),
		caseOf("int16/max", serde.Int16(), math.MaxInt16, "7f ff"),
		caseOf("int16/min", serde.Int16(), math.MinInt16, "80 00"),

		// IntegerSerializer: four bytes, most significant first.
		caseOf("int32/0", serde.Int32(), 0, "00 00 00 00"),
		caseOf("int32/1", serde.Int32(), 1, "00 00 00 01"),
		caseOf("int32/-1", serde.Int32(), -1, "ff ff ff ff"),
		caseOf("int32/0x01020304", serde.Int32(), 0x01020304, "01 02 03 04"),
		caseOf("int32/max", serde.Int32(), math.MaxInt32, "7f ff ff ff"),
		caseOf("int32/min", serde.Int32(), math.MinInt32, "80 00 00 00"),

		// LongSerializer: eight bytes, most significant first.
		caseOf("int64/1", serde.Int64(), 1, "00 00 00 00 00 00 00 01"),
		caseOf("int64/-1", serde.Int64(), -1, "ff ff ff ff ff ff ff ff"),
		caseOf("int64/0x0102030405060708", serde.Int64(), 0x0102030405060708, "01 02 03 04 05 06 07 08"),
		caseOf("int64/max", serde.Int64(), math.MaxInt64, "7f ff ff ff ff ff ff ff"),
		caseOf("int64/min", serde.Int64(), math.MinInt64, "80 00 00 00 00 00 00 00"),

		// FloatSerializer: Float.floatToRawIntBits, big-endian.
		caseOf("float32/0", serde.Float32(), 0, "00 00 00 00"),
		caseOf("float32/-0", serde.Float32(), float32(math.Copysign(0, -1)), "80 00 00 00"),
		caseOf("float32/1", serde.Float32(), 1, "3f 80 00 00"),
		caseOf("float32/-2.5", serde.Float32(), -2.5, "c0 20 00 00"),
		caseOf("float32/0.1", serde.Float32(), 0.1, "3d cc cc cd"),
		caseOf("float32/+inf", serde.Float32(), float32(math.Inf(1)), "7f 80 00 00"),
		caseOf("float32/-inf", serde.Float32(), float32(math.Inf(-1)), "ff 80 00 00"),
		caseOf("float32/smallest-subnormal", serde.Float32(), math.SmallestNonzeroFloat32, "00 00 00 01"),
		// Raw bits: a NaN's payload and sign survive.
		caseOf("float32/nan-payload", serde.Float32(), math.Float32frombits(0x7fc00001), "7f c0 00 01"),
		caseOf("float32/negative-nan", serde.Float32(), math.Float32frombits(0xffc00000), "ff c0 00 00"),

		// DoubleSerializer: Double.doubleToLongBits, big-endian.
		caseOf("float64/0", serde.Float64(), 0, "00 00 00 00 00 00 00 00"),
		caseOf("float64/-0", serde.Float64(), math.Copysign(0, -1), "80 00 00 00 00 00 00 00"),
		caseOf("float64/1", serde.Float64(), 1, "3f f0 00 00 00 00 00 00"),
		caseOf("float64/-2.5", serde.Float64(), -2.5, "c0 04 00 00 00 00 00 00"),
		caseOf("float64/0.1", serde.Float64(), 0.1, "3f b9 99 99 99 99 99 9a"),
		caseOf("float64/+inf", serde.Float64(), math.Inf(1), "7f f0 00 00 00 00 00 00"),
		caseOf("float64/max", serde.Float64(), math.MaxFloat64, "7f ef ff ff ff ff ff ff"),
		// doubleToLongBits collapses every NaN to 0x7ff8000000000000.
		caseOf("float64/go-nan", serde.Float64(), math.NaN(), "7f f8 00 00 00 00 00 00"),
		caseOf("float64/negative-nan", serde.Float64(), math.Float64frombits(0xfff8000000000000), "7f f8 00 00 00 00 00 00"),
		caseOf("float64/signalling-nan", serde.Float64(), math.Float64frombits(0x7ff0000000000001), "7f f8 00 00 00 00 00 00"),

		// BooleanSerializer: TRUE = 0x01, FALSE = 0x00.
		caseOf("bool/true", serde.Bool(), true, "01"),
		caseOf("bool/false", serde.Bool(), false, "00"),

		// UUIDSerializer: data.toString().getBytes("UTF8"), 36 lowercase characters.
		caseOf("uuid/example", serde.UUIDSerializer(), u, hex.EncodeToString([]byte("123e4567-e89b-12d3-a456-426614174000"))),
		caseOf("uuid/nil", serde.UUIDSerializer(), serde.UUID{}, hex.EncodeToString([]byte("00000000-0000-0000-0000-000000000000"))),
		caseOf("uuid/max", serde.UUIDSerializer(), serde.UUID{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff, 8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}, hex.EncodeToString([]byte("ffffffff-ffff-ffff-ffff-ffffffffffff"))),

		// VoidSerializer: always null.
		nullCase("void", serde.Void(), struct{}{}),

		// Java's serializers return null for null; Nullable is how Go says null.
		nullCase("nullable-int32/nil", serde.Nullable(serde.Int32()), nil),
		caseOf("nullable-int32/1", serde.Nullable(serde.Int32()), &one, "00 00 00 01"),
		nullCase("nullable-string/nil", serde.Nullable(serde.String()), nil),
		caseOf("nullable-string/empty", serde.Nullable(serde.String()), &empty, ""),
		nullCase("nullable-void", serde.Nullable(serde.Void()), &struct{}{}),

		// JSON: encoding/json's Marshal.
		caseOf("json/struct", serde.JSON[struct {
			A int    `json:"a"`
			B string `json:"b"`
		}](), struct {
			A int    `json:"a"`
			B string `json:"b"`
		}{1, "x"}, hex.EncodeToString([]byte(`{"a":1,"b":"x"}`))),
		caseOf("json/nil-map-is-json-null", serde.JSON[map[string]int](), nil, hex.EncodeToString([]byte("null"))),
		caseOf("json/uuid-as-text", serde.JSON[serde.UUID](), u, hex.EncodeToString([]byte(`"123e4567-e89b-12d3-a456-426614174000"`))),
		caseOf("json/html-escaped", serde.JSON[string](), "<&>", hex.EncodeToString([]byte(`"\u003c\u0026\u003e"`))),
	}
}

// checkResult checks got against c: nil for null, else exactly the expected bytes,
// and never nil for a non-null encoding, since nil would turn an empty value into
// a tombstone.
func checkResult(t *testing.T, c javaCase, got []byte) {
	t.Helper()
	if c.null {
		if got != nil {
			t.Fatalf("got %x, want nil (null)", got)
		}
		return
	}
	if got == nil {
		t.Fatalf("got nil (null), want %s", c.want)
	}
	if want := unhex(t, c.want); !bytes.Equal(got, want) {
		t.Fatalf("got  % x\nwant % x", got, want)
	}
}

func TestSerializeMatchesJava(t *testing.T) {
	for _, c := range javaCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.ser(nil, false)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, c, got)
		})
	}
}

// TestAppendSerializeMatchesSerialize checks that every built-in implements
// AppendSerializer, encodes as Serialize does, keeps dst's prefix, and signals null
// with nil whatever dst is.
func TestAppendSerializeMatchesSerialize(t *testing.T) {
	dsts := map[string][]byte{
		"nil":          nil,
		"empty":        []byte{},
		"spare-cap":    make([]byte, 0, 64),
		"prefix":       []byte("prefix"),
		"prefix-spare": append(make([]byte, 0, 64), "prefix"...),
	}
	for _, c := range javaCases(t) {
		for dname, dst := range dsts {
			t.Run(c.name+"/"+dname, func(t *testing.T) {
				orig := append([]byte(nil), dst...)
				got, err := c.ser(dst, true)
				if err != nil {
					t.Fatal(err)
				}
				if c.null {
					checkResult(t, c, got)
					return
				}
				if got == nil {
					t.Fatal("got nil (null) for a non-null encoding")
				}
				if !bytes.Equal(got[:len(orig)], orig) {
					t.Fatalf("prefix clobbered: got % x, want % x", got[:len(orig)], orig)
				}
				checkResult(t, c, got[len(orig):])
			})
		}
	}
}

// funcOnly hides any AppendSerializer so Append takes its fallback path.
func funcOnly[T any](s serde.Serializer[T]) serde.Serializer[T] {
	return serde.SerializerFunc[T](s.Serialize)
}

func TestAppendFallback(t *testing.T) {
	tests := []struct {
		name string
		run  func(dst []byte) ([]byte, error)
		want []byte
	}{
		{"string", func(dst []byte) ([]byte, error) {
			return serde.Append(funcOnly(serde.String()), dst, "t", "ab")
		}, []byte("ab")},
		{"empty-is-not-null", func(dst []byte) ([]byte, error) {
			return serde.Append(funcOnly(serde.String()), dst, "t", "")
		}, []byte{}},
		{"null", func(dst []byte) ([]byte, error) {
			return serde.Append(funcOnly(serde.Bytes()), dst, "t", nil)
		}, nil},
		{"nullable-over-func", func(dst []byte) ([]byte, error) {
			v := int16(2)
			return serde.Append(serde.Nullable(funcOnly(serde.Int16())), dst, "t", &v)
		}, []byte{0, 2}},
	}
	for _, tt := range tests {
		for _, prefix := range [][]byte{nil, []byte("p")} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.run(append([]byte(nil), prefix...))
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == nil {
					if got != nil {
						t.Fatalf("got %q, want nil (null)", got)
					}
					return
				}
				if got == nil {
					t.Fatal("got nil (null) for a non-null encoding")
				}
				if want := append(append([]byte(nil), prefix...), tt.want...); !bytes.Equal(got, want) {
					t.Fatalf("got %q, want %q", got, want)
				}
			})
		}
	}
}

func TestAppendFallbackPropagatesError(t *testing.T) {
	failing := serde.SerializerFunc[int](func(string, int) ([]byte, error) {
		return []byte("ignored"), errNoAppend
	})
	if _, err := serde.Append[int](failing, nil, "t", 1); err != errNoAppend {
		t.Fatalf("err = %v, want %v", err, errNoAppend)
	}
}

func TestBytesSerializeDoesNotCopy(t *testing.T) {
	v := []byte("abc")
	got, _ := serde.Bytes().Serialize("t", v)
	if &got[0] != &v[0] {
		t.Fatal("Bytes().Serialize copied its input; Java's ByteArraySerializer returns it as is")
	}
}

// TestAppendSerializeAllocs checks that the producer's path, Append into a reused
// buffer through the Serializer interface, allocates nothing for every built-in but
// JSON. Serializers are built once, outside the measured calls, as the producer does.
func TestAppendSerializeAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	i32 := int32(7)
	u := serde.UUID{1, 2, 3}
	raw := []byte("hello, world")
	nullableInt32 := serde.Nullable(serde.Int32())
	checks := map[string]func(){
		"string":   func() { buf, _ = serde.Append(serde.String(), buf[:0], "t", "hello, world") },
		"bytes":    func() { buf, _ = serde.Append(serde.Bytes(), buf[:0], "t", raw) },
		"int16":    func() { buf, _ = serde.Append(serde.Int16(), buf[:0], "t", 7) },
		"int32":    func() { buf, _ = serde.Append(serde.Int32(), buf[:0], "t", 7) },
		"int64":    func() { buf, _ = serde.Append(serde.Int64(), buf[:0], "t", 7) },
		"float32":  func() { buf, _ = serde.Append(serde.Float32(), buf[:0], "t", 7) },
		"float64":  func() { buf, _ = serde.Append(serde.Float64(), buf[:0], "t", 7) },
		"bool":     func() { buf, _ = serde.Append(serde.Bool(), buf[:0], "t", true) },
		"uuid":     func() { buf, _ = serde.Append(serde.UUIDSerializer(), buf[:0], "t", u) },
		"void":     func() { _, _ = serde.Append(serde.Void(), buf[:0], "t", struct{}{}) },
		"nullable": func() { buf, _ = serde.Append(nullableInt32, buf[:0], "t", &i32) },
	}
	for name, f := range checks {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocs per Append, want 0", name, n)
		}
	}
}

func benchAppend[T any](b *testing.B, s serde.Serializer[T], v T) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = serde.Append(s, buf[:0], "topic", v)
	}
}

func BenchmarkAppendSerializeString(b *testing.B) {
	benchAppend(b, serde.String(), "order-00000000000000000042")
}

func BenchmarkAppendSerializeInt64(b *testing.B) {
	benchAppend(b, serde.Int64(), int64(42))
}

func BenchmarkAppendSerializeBytes(b *testing.B) {
	benchAppend(b, serde.Bytes(), bytes.Repeat([]byte("x"), 100))
}

func BenchmarkAppendSerializeUUID(b *testing.B) {
	benchAppend(b, serde.UUIDSerializer(), serde.UUID{1, 2, 3, 4})
}

func BenchmarkAppendSerializeJSON(b *testing.B) {
	type event struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Price int64  `json:"price"`
	}
	benchAppend(b, serde.JSON[event](), event{ID: 42, Name: "widget", Price: 1999})
}
