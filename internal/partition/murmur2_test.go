package partition

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestMurmur2Vectors(t *testing.T) {
	tests := []struct {
		source string
		key    string
		want   int32
	}{
		// Kafka's UtilsTest.testMurmur2.
		{"UtilsTest", "21", -973932308},
		{"UtilsTest", "foobar", -790332482},
		{"UtilsTest", "a-little-bit-long-string", -985981536},
		{"UtilsTest", "a-little-bit-longer-string", -1486304829},
		{"UtilsTest", "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"UtilsTest", "abc", 479470107},
		// librdkafka's rdmurmur2.c java_murmur2_results, checked there against Java.
		{"librdkafka", "kafka", -798503068},                                  // 0xd067cf64
		{"librdkafka", "giberish123456789", -1890243828},                     // 0x8f552b0c
		{"librdkafka", "1234", -1614185708},                                  // 0x9fc97b14
		{"librdkafka", "234", -406844982},                                    // 0xe7c009ca
		{"librdkafka", "34", -2026295078},                                    // 0x873930da
		{"librdkafka", "4", 1514888353},                                      // 0x5a4b5ca1
		{"librdkafka", "PreAmbleWillBeRemoved,ThePrePartThatIs", 2017611548}, // 0x78424f1c
		{"librdkafka", "reAmbleWillBeRemoved,ThePrePartThatIs", 1247982455},  // 0x4a62b377
		{"librdkafka", "eAmbleWillBeRemoved,ThePrePartThatIs", -521871202},   // 0xe0e4e09e
		{"librdkafka", "AmbleWillBeRemoved,ThePrePartThatIs", 1656271935},    // 0x62b8b43f
		{"librdkafka", "", 275646681},                                        // 0x106e08d9
		// Bytes >= 0x80 must not sign-extend (Java masks with & 0xff); computed
		// on the JVM with the code of Utils.murmur2 (golden_data_test.go has more).
		{"java", "\xff", -311467685},
		{"java", "\x80\x81", 1642145146},
		{"java", "\xff\xfe\xfd", 998637092},
		{"java", "\xff\xff\xff\xff", 644171429},
		{"java", "\x80\x00\x80\x00\x80", -63275332},
		{"java", "The quick brown fox jumps over the lazy dog", 495243318},
	}
	for _, tt := range tests {
		if got := Murmur2([]byte(tt.key)); got != tt.want {
			t.Errorf("%s: Murmur2(%q) = %d (%#x), want %d (%#x)", tt.source, tt.key, got, uint32(got), tt.want, uint32(tt.want))
		}
	}
	if Murmur2(nil) != Murmur2([]byte{}) {
		t.Error("nil and empty keys hash differently")
	}
}

func TestToPositive(t *testing.T) {
	tests := []struct{ in, want int32 }{
		{0, 0},
		{1, 1},
		{math.MaxInt32, math.MaxInt32},
		{-1, math.MaxInt32},
		{math.MinInt32, 0},
		{-2, math.MaxInt32 - 1},
		{-798503068, 1348980580}, // librdkafka's older toPositive("kafka") vector
	}
	for _, tt := range tests {
		if got := ToPositive(tt.in); got != tt.want {
			t.Errorf("ToPositive(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestKeyPartition(t *testing.T) {
	tests := []struct {
		key  string
		n    int32
		want int32
	}{
		{"amqp", math.MaxInt32, 767747138}, // librdkafka: toPositive(murmur2("amqp"))
		{"kafka", math.MaxInt32, 1348980580},
		{"kafka", 1, 0},
		{"abc", 6, 479470107 % 6},
		{"", 1000, 681},
		{"any", 0, UnknownPartition},
		{"any", -3, UnknownPartition},
	}
	for _, tt := range tests {
		if got := KeyPartition([]byte(tt.key), tt.n); got != tt.want {
			t.Errorf("KeyPartition(%q, %d) = %d, want %d", tt.key, tt.n, got, tt.want)
		}
	}
}

// TestKeyPartitionMatchesFranzGo cross-checks against an independent
// implementation, franz-go's Kafka-compatible key partitioner.
func TestKeyPartitionMatchesFranzGo(t *testing.T) {
	kp := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		key := make([]byte, rng.IntN(80))
		for j := range key {
			key[j] = byte(rng.Uint32())
		}
		n := int32(1 + rng.IntN(3000))
		if i%10 == 0 {
			n = math.MaxInt32
		}
		want := int32(kp.Partition(&kgo.Record{Key: key}, int(n)))
		if got := KeyPartition(key, n); got != want {
			t.Fatalf("KeyPartition(%x, %d) = %d, franz-go %d", key, n, got, want)
		}
	}
}

func FuzzKeyPartition(f *testing.F) {
	f.Add([]byte("kafka"), int32(12))
	f.Add([]byte{}, int32(1))
	f.Add([]byte{0xff, 0xfe, 0xfd}, int32(-1))
	kp := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	f.Fuzz(func(t *testing.T, key []byte, n int32) {
		got := KeyPartition(key, n)
		if n <= 0 {
			if got != UnknownPartition {
				t.Fatalf("KeyPartition(_, %d) = %d", n, got)
			}
			return
		}
		if want := int32(kp.Partition(&kgo.Record{Key: key}, int(n))); got != want {
			t.Fatalf("KeyPartition(%x, %d) = %d, franz-go %d", key, n, got, want)
		}
	})
}

func TestKeyPartitionDoesNotAllocate(t *testing.T) {
	key := []byte("0123456789abcdef")
	if a := testing.AllocsPerRun(100, func() { KeyPartition(key, 12) }); a != 0 {
		t.Fatalf("%v allocations", a)
	}
}

var sinkPartition int32

func BenchmarkKeyPartition(b *testing.B) {
	for _, size := range []int{16, 100} {
		key := make([]byte, size)
		for i := range key {
			key[i] = byte(i * 7)
		}
		b.Run(sizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				sinkPartition = KeyPartition(key, 12)
			}
		})
	}
}

func sizeName(n int) string {
	switch n {
	case 16:
		return "16B"
	case 100:
		return "100B"
	}
	return "other"
}
