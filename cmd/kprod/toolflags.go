package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strconv"

	"github.com/kprod-io/kprod"
)

// Kafka 4.x kafka-console-producer's per-setting options (ConsoleProducer), each the
// shorthand of one producer property. They take precedence over --producer-property and
// the config file, as Java's CommandLineUtils.maybeMergeOptions makes them. Unlike
// Java's tool, an option left out leaves the producer's own default (Java's tool imposes
// its old defaults then: linger.ms=1000, request.timeout.ms=1500, retries=3, ...), so
// `kprod produce` behaves as the library does unless asked otherwise.
var consoleSettingFlags = []struct {
	flag, property, help string
}{
	{"timeout", "linger.ms", "linger.ms: how long a record may wait to fill a batch"},
	{"request-required-acks", "acks", "acks: -1 (all), 0 or 1"},
	{"request-timeout-ms", "request.timeout.ms", "request.timeout.ms"},
	{"message-send-max-retries", "retries", "retries"},
	{"retry-backoff-ms", "retry.backoff.ms", "retry.backoff.ms"},
	{"socket-buffer-size", "send.buffer.bytes", "send.buffer.bytes: the TCP send buffer"},
	{"max-memory-bytes", "buffer.memory", "buffer.memory: total bytes buffered for sending"},
	{"batch-size", "batch.size", "batch.size"},
	// After batch-size: Java merges it last, so it wins when both are given.
	{"max-partition-memory-bytes", "batch.size", "(deprecated in Kafka) batch.size; wins over --batch-size"},
	{"metadata-expiry-ms", "metadata.max.age.ms", "metadata.max.age.ms"},
	{"max-block-ms", "max.block.ms", "max.block.ms: how long Send may block for metadata or buffer space"},
}

func init() {
	for _, f := range consoleSettingFlags {
		produceFlags = append(produceFlags, flagSpec{name: f.flag, help: f.help})
	}
	produceFlags = append(produceFlags,
		flagSpec{name: "compression-codec", optional: true, help: "compression.type: none, gzip, snappy, lz4 or zstd; gzip when given without a value"},
		flagSpec{name: "reader-config", help: "reader properties file; --property and --reader-property take precedence"},
		flagSpec{name: "version", bool: true, help: "print kprod's version"})
	perfFlags = append(perfFlags, flagSpec{name: "version", bool: true, help: "print kprod's version"})
}

// consoleSettingProps returns the producer properties the per-setting options set, as
// k=v arguments to append after --producer-property (so they win).
func consoleSettingProps(a parsed) []string {
	var kvs []string
	for _, f := range consoleSettingFlags {
		if a.has(f.flag) {
			kvs = append(kvs, f.property+"="+a.str(f.flag, ""))
		}
	}
	if a.has("compression-codec") {
		codec := a.str("compression-codec", "")
		if codec == "" {
			codec = "gzip" // ConsoleProducer.compressionCodec: the option alone means gzip
		}
		kvs = append(kvs, "compression.type="+codec)
	}
	return kvs
}

// readerConfig returns the properties of --reader-config's file as k=v arguments, to
// go before --property's (which take precedence).
func readerConfig(a parsed) ([]string, error) {
	path := a.str("reader-config", "")
	if path == "" {
		return nil, nil
	}
	m, err := kprod.LoadProperties(path)
	if err != nil {
		return nil, fmt.Errorf("--reader-config: %w", err)
	}
	kvs := make([]string, 0, len(m))
	for k, v := range m {
		kvs = append(kvs, k+"="+v)
	}
	return kvs, nil
}

// perfRecords makes the keys and values of kafka-producer-perf-test's records (Kafka
// 4.x ProducerPerformance): a value of --record-size random uppercase letters, a random
// line of --payload-file, or with --payload-monotonic the record's index in decimal;
// a key per --key-distribution: none (null), range (the index modulo --record-key-range)
// or random (uniform in [0, --record-key-range)). --random-seed seeds the draws (0 by
// default, so runs repeat, as Java's); the draws are not Java's SplittableRandom's.
type perfRecords struct {
	rnd       *rand.Rand
	payloads  [][]byte // nil with --payload-monotonic
	monotonic bool
	keys      string // none, range, random
	keyRange  int64
	keyBuf    []byte
	valBuf    []byte
}

func newPerfRecords(a parsed) (*perfRecords, error) {
	seed, err := strconv.ParseUint(a.str("random-seed", "0"), 10, 64)
	if err != nil {
		return nil, errors.New("--random-seed must be a non-negative number")
	}
	g := &perfRecords{rnd: rand.New(rand.NewPCG(seed, 0x6b70726f64)), keys: a.str("key-distribution", "none")}
	switch g.keys {
	case "none":
	case "range", "random":
		g.keyRange, err = strconv.ParseInt(a.str("record-key-range", ""), 10, 64)
		if err != nil || g.keyRange <= 0 {
			return nil, fmt.Errorf("--key-distribution %s needs --record-key-range, a positive number", g.keys)
		}
	default:
		return nil, fmt.Errorf("--key-distribution must be none, range or random, not %q", g.keys)
	}
	given := 0
	for _, f := range []string{"record-size", "payload-file", "payload-monotonic"} {
		if a.has(f) {
			given++
		}
	}
	if given != 1 {
		return nil, errors.New("exactly one of --record-size, --payload-file and --payload-monotonic is required")
	}
	if a.has("payload-monotonic") {
		g.monotonic = true
		return g, nil
	}
	g.payloads, err = perfPayloads(a, g.rnd)
	return g, err
}

// fill sets the key and value of record i. Keys and monotonic values are formatted into
// buffers reused from record to record: the producer copies them before Send returns.
func (g *perfRecords) fill(i int64, key, value *[]byte) {
	switch {
	case g.monotonic:
		g.valBuf = strconv.AppendInt(g.valBuf[:0], i, 10)
		*value = g.valBuf
	case len(g.payloads) > 1: // Java draws a random payload of the file for every record
		*value = g.payloads[g.rnd.IntN(len(g.payloads))]
	default:
		*value = g.payloads[0]
	}
	switch g.keys {
	case "range":
		g.keyBuf = strconv.AppendInt(g.keyBuf[:0], i%g.keyRange, 10)
		*key = g.keyBuf
	case "random":
		g.keyBuf = strconv.AppendInt(g.keyBuf[:0], g.rnd.Int64N(g.keyRange), 10)
		*key = g.keyBuf
	}
}

// perfTiming reads --warmup-records and --reporting-interval (ms, default 5000).
func perfTiming(a parsed, numRecords int64) (warmup, intervalMs int64, err error) {
	warmup, err = strconv.ParseInt(a.str("warmup-records", "0"), 10, 64)
	if err != nil || warmup < 0 {
		return 0, 0, errors.New("--warmup-records must be a non-negative number")
	}
	if warmup > 0 && warmup >= numRecords {
		return 0, 0, errors.New("--warmup-records must be strictly fewer than --num-records")
	}
	intervalMs, err = strconv.ParseInt(a.str("reporting-interval", "5000"), 10, 64)
	if err != nil || intervalMs <= 0 {
		return 0, 0, errors.New("--reporting-interval must be a positive number of milliseconds")
	}
	return warmup, intervalMs, nil
}

// versionText is what --version prints: kprod's module version (go install
// ...@version sets it; "(devel)" in a checkout) and the commit it was built from, as
// Kafka's tools print Kafka's version.
func versionText() string {
	v, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" && len(st.Value) >= 12 {
				rev = st.Value[:12]
			}
		}
	}
	if rev != "" {
		return fmt.Sprintf("kprod %s (commit %s)\n", v, rev)
	}
	return fmt.Sprintf("kprod %s\n", v)
}
