package kprod_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/partition"
	"github.com/kprod-io/kprod/internal/testcluster"
)

// joKeyCount is how many keys the Java oracle partitions.
const joKeyCount = 10_250

// joSeparator separates key from value on the console producer's input lines; no key
// contains it.
const joSeparator = '\t'

// joRunes are the characters keys are made of besides printable ASCII: two-, three- and
// four-byte UTF-8, so murmur2 sees multi-byte sequences and every length mod 4.
var joRunes = []rune("éßñøΩжЖक़日本語中文鍵€✓☃😀🔑𝄞🎉")

// TestJavaKeyPartitionOracle has Java's own producer (ConsoleProducer on real Kafka 4.x)
// partition over ten thousand varied keys, learns where each went by reading them back,
// then sends the same keys with kprod: every key must land where Java put it, and where
// partition.KeyPartition says.
func TestJavaKeyPartitionOracle(t *testing.T) {
	c := testcluster.RealVersion(t, 1, "4.")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	keys := joKeys(rand.New(rand.NewPCG(seed, 11)), joKeyCount)
	for _, parts := range []int32{7, 13} {
		t.Run(fmt.Sprintf("partitions-%d", parts), func(t *testing.T) {
			joOracle(t, c, keys, parts)
		})
	}
}

// joKeys makes n keys of 0 to 40 characters: printable ASCII (space included) mixed
// with multi-byte runes, each length equally often.
func joKeys(rng *rand.Rand, n int) []string {
	keys := make([]string, n)
	var b strings.Builder
	for i := range keys {
		b.Reset()
		for range i % 41 {
			if rng.IntN(4) == 0 {
				b.WriteRune(joRunes[rng.IntN(len(joRunes))])
			} else {
				b.WriteByte(byte(' ' + rng.IntN('~'-' '+1)))
			}
		}
		keys[i] = b.String()
	}
	return keys
}

func joOracle(t *testing.T, c *testcluster.Cluster, keys []string, parts int32) {
	topic := rtUniqueTopic(fmt.Sprintf("oracle-%d", parts))
	admin := rtClient(t, c.Bootstrap)
	testcluster.CreateTopic(t, admin, topic, parts, 1, nil)

	// Java: one line per key, "key<TAB>index"; the value says which key it was.
	var in strings.Builder
	for i, k := range keys {
		if strings.ContainsRune(k, joSeparator) || strings.ContainsAny(k, "\r\n") {
			t.Fatalf("key %d %q holds the separator or a line break", i, k)
		}
		fmt.Fprintf(&in, "%s%c%d\n", k, joSeparator, i)
	}
	start := time.Now()
	prop := "--reader-property" // Kafka 4.2 deprecated --property for the reader's settings
	if !joAtLeast(c.Version, 4, 2) {
		prop = "--property"
	}
	if _, stderr, err := c.Java(in.String(), "ConsoleProducer", "--bootstrap-server", c.BootstrapServers(),
		"--topic", topic, prop, "parse.key=true", prop, "key.separator="+string(joSeparator)); err != nil {
		t.Fatalf("ConsoleProducer: %v (stderr: %s)", err, stderr)
	}
	t.Logf("Java produced %d keys in %v", len(keys), time.Since(start).Round(time.Millisecond))

	javaPart := make([]int32, len(keys))
	for i := range javaPart {
		javaPart[i] = -1
	}
	for _, r := range rtConsume(t, c.Bootstrap, topic, len(keys), 2*time.Minute) {
		i, err := strconv.Atoi(string(r.Value))
		if err != nil || i < 0 || i >= len(keys) {
			t.Fatalf("Java wrote an unexpected value %q", r.Value)
		}
		if javaPart[i] >= 0 {
			t.Fatalf("Java wrote key %d twice", i)
		}
		// Java must have sent the key's UTF-8 bytes, empty (not null) for "".
		if r.Key == nil || string(r.Key) != keys[i] {
			t.Fatalf("Java wrote key %d as %s, want %q", i, rtShow(r.Key), keys[i])
		}
		javaPart[i] = r.Partition
	}
	for i, p := range javaPart {
		if p < 0 {
			t.Fatalf("key %d %q was not read back from Java's writes", i, keys[i])
		}
	}

	// kprod: the same keys to the same topic.
	p := rtProducer(t, c.Bootstrap, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kprodPart := make([]int32, len(keys))
	var mu sync.Mutex
	var wg sync.WaitGroup
	start = time.Now()
	for i, k := range keys {
		wg.Add(1)
		err := p.Send(ctx, &kprod.Record{Topic: topic, Key: []byte(k), Value: []byte("kprod-" + strconv.Itoa(i))},
			func(md kprod.RecordMetadata, err error) {
				defer wg.Done()
				if err != nil {
					t.Errorf("key %d: %v", i, err)
				}
				mu.Lock()
				kprodPart[i] = md.Partition
				mu.Unlock()
			})
		if err != nil {
			t.Fatalf("Send key %d: %v", i, err)
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("kprod produced %d keys in %v", len(keys), time.Since(start).Round(time.Millisecond))

	mismatches := 0
	perPartition := make([]int, parts)
	for i, k := range keys {
		direct := partition.KeyPartition([]byte(k), parts)
		if kprodPart[i] != javaPart[i] || direct != javaPart[i] {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("key %d %q (% x): Java chose partition %d, kprod %d, KeyPartition %d",
					i, k, []byte(k), javaPart[i], kprodPart[i], direct)
			}
		}
		perPartition[javaPart[i]]++
	}
	if mismatches > 0 {
		t.Fatalf("%d of %d keys partitioned differently from Java", mismatches, len(keys))
	}
	for n, count := range perPartition {
		if count == 0 {
			t.Errorf("Java put no key in partition %d: the keys are not varied enough", n)
		}
	}

	// What kprod's metadata said is where the records are.
	for _, r := range rtConsume(t, c.Bootstrap, topic, 2*len(keys), 2*time.Minute) {
		v, ok := strings.CutPrefix(string(r.Value), "kprod-")
		if !ok {
			continue
		}
		i, _ := strconv.Atoi(v)
		if r.Partition != kprodPart[i] || string(r.Key) != keys[i] {
			t.Fatalf("kprod's key %d read from partition %d as %s, metadata said %d", i, r.Partition, rtShow(r.Key), kprodPart[i])
		}
	}
	t.Logf("%d keys, %d partitions: kprod, KeyPartition and Java agree on every one (spread %v)",
		len(keys), parts, perPartition)
}

// joAtLeast reports whether version is at least major.minor.
func joAtLeast(version string, major, minor int) bool {
	var ma, mi int
	fmt.Sscanf(version, "%d.%d", &ma, &mi)
	return ma > major || ma == major && mi >= minor
}
