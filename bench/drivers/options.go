// Package drivers runs one Kafka producer client against a broker with identical flags,
// payloads and measurement for every client: kprod, franz-go, confluent-kafka-go
// (librdkafka), sarama and segmentio/kafka-go. A run sends -records records (after a
// warm-up that is not measured) from -goroutines goroutines (default one), waits until every record is
// acknowledged, and reports one Result: throughput, the process's CPU time from
// getrusage(RUSAGE_SELF) per record, Go allocations per record and, when -rate > 0,
// send-to-ack latency percentiles at that offered load.
package drivers

import (
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Options are a run's settings; every client reads the same ones.
type Options struct {
	Client      string
	Brokers     string
	Topic       string
	Partitions  int
	Records     int
	Warmup      int
	ValueSize   int
	Payloads    int
	Seed        uint64
	Compression string
	Acks        string
	Idempotent  bool
	LingerMs    int
	BatchBytes  int
	BufferBytes int
	Rate        int
	CPUProfile  string
	MemProfile  string
	// SpoolDir and SpoolSync turn on kprod's spool.dir and spool.sync (kprod only):
	// the spool's cost beside the same run without it.
	SpoolDir  string
	SpoolSync string
	// Keys, when positive, gives record i the key Keys()[i % Keys] (kprod and franz-go
	// only): keyed records spread over every partition by the default partitioner's
	// murmur2 hash, as issue 14's 1,000-partition scenario needs; 0 sends no keys.
	Keys int
	// Goroutines is how many goroutines share the records (kprod and franz-go beyond
	// one; 0 is 1): goroutine g sends records g, g+N, g+2N..., so together they keep the
	// single sender's order of payloads, keys and intended send times.
	Goroutines int
	// TLSCA, when set, connects over TLS trusting the PEM certificates in this file
	// (kprod and franz-go only); the brokers' certificates must name the host dialled.
	TLSCA string
	// Observe turns on every observability feature kprod has (kprod only; see
	// observe.go): the peers' runs beside it stay as usual.
	Observe bool
	// CreateTopic creates Topic with Partitions before the run (an existing topic is
	// fine); tests against an auto-creating broker may turn it off.
	CreateTopic bool
	// Payload, when set, replaces the generated payloads (tests).
	payloads [][]byte
}

// Register adds the driver flags to fs with their defaults.
func (o *Options) Register(fs *flag.FlagSet) {
	fs.StringVar(&o.Client, "client", "kprod", "client: "+strings.Join(Clients(), ", "))
	fs.StringVar(&o.Brokers, "brokers", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	fs.StringVar(&o.Topic, "topic", "bench", "topic to produce to")
	fs.IntVar(&o.Partitions, "partitions", 1, "partitions of the topic (created before the run)")
	fs.IntVar(&o.Records, "records", 1_000_000, "records to send and measure")
	fs.IntVar(&o.Warmup, "warmup", 10_000, "records sent and acknowledged before measuring")
	fs.IntVar(&o.ValueSize, "value-size", 100, "value size in bytes")
	fs.IntVar(&o.Payloads, "payloads", 65536, "distinct JSON-like payloads, pre-generated from -seed")
	fs.Uint64Var(&o.Seed, "seed", 1, "payload generator seed")
	fs.StringVar(&o.Compression, "compression", "none", "none, gzip, snappy, lz4 or zstd (each client's default level)")
	fs.StringVar(&o.Acks, "acks", "all", "all or 1")
	fs.BoolVar(&o.Idempotent, "idempotent", true, "idempotent producer (requires -acks all; kafka-go has none)")
	fs.IntVar(&o.LingerMs, "linger", 5, "linger in milliseconds (linger.ms, kgo ProducerLinger, sarama Flush.Frequency, kafka-go BatchTimeout)")
	fs.IntVar(&o.BatchBytes, "batch-bytes", 1_000_000, "maximum batch size in bytes (batch.size, kgo ProducerBatchMaxBytes, sarama Flush.Bytes, kafka-go BatchBytes)")
	fs.IntVar(&o.BufferBytes, "buffer-bytes", 32<<20, "bytes of unacknowledged records before sending blocks (buffer.memory and equivalents)")
	fs.IntVar(&o.Rate, "rate", 0, "records/s offered, 0 = as fast as possible; > 0 also measures send->ack latency")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured phase to this file")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write a profile of every allocation after the run to this file (it slows the run: not for timing)")
	fs.BoolVar(&o.CreateTopic, "create-topic", true, "create the topic with -partitions before the run")
	fs.StringVar(&o.SpoolDir, "spool-dir", "", "kprod only: spool.dir (emptied before the run)")
	fs.StringVar(&o.SpoolSync, "spool-sync", "interval", "kprod only: spool.sync, always, interval or none")
	fs.IntVar(&o.Keys, "keys", 0, "kprod and franz-go only: distinct record keys, cycled (0: no keys)")
	fs.IntVar(&o.Goroutines, "goroutines", 1, "goroutines sharing the records, each sending its share (beyond 1: kprod and franz-go only)")
	fs.StringVar(&o.TLSCA, "tls-ca", "", "kprod and franz-go only: connect over TLS, trusting the PEM CA certificates in this file")
	fs.BoolVar(&o.Observe, "observe", false, "kprod only: metrics scraped every second, a debug-level logger, per-record Timing read in the callback")
}

// ClientSupports says whether o.Client implements the options only some clients
// have; the runner asks it to skip a client in a scenario it cannot run.
func (o *Options) ClientSupports() error {
	// The two clients the targets compare have every option.
	full := o.Client == "kprod" || o.Client == "franz-go"
	switch {
	case o.SpoolDir != "" && o.Client != "kprod":
		return fmt.Errorf("-spool-dir is kprod's own")
	case o.Observe && o.Client != "kprod":
		return fmt.Errorf("-observe is kprod's own")
	case o.Keys > 0 && !full:
		return fmt.Errorf("-keys is implemented for kprod and franz-go only")
	case o.Goroutines > 1 && !full:
		return fmt.Errorf("-goroutines beyond 1 is implemented for kprod and franz-go only")
	case o.TLSCA != "" && !full:
		return fmt.Errorf("-tls-ca is implemented for kprod and franz-go only")
	case o.Client == "floor" && (o.Compression != "none" || o.Partitions != 1 || o.Keys > 0 || o.Goroutines > 1):
		return fmt.Errorf("the floor is one partition, uncompressed, unkeyed, one sender")
	}
	return nil
}

// Validate checks the options.
func (o *Options) Validate() error {
	if _, ok := registry[o.Client]; !ok {
		return fmt.Errorf("unknown -client %q (have %s)", o.Client, strings.Join(Clients(), ", "))
	}
	if !slices.Contains([]string{"none", "gzip", "snappy", "lz4", "zstd"}, o.Compression) {
		return fmt.Errorf("unknown -compression %q", o.Compression)
	}
	if o.Acks != "all" && o.Acks != "1" {
		return fmt.Errorf("-acks must be all or 1, not %q", o.Acks)
	}
	if err := o.ClientSupports(); err != nil {
		return err
	}
	if o.Idempotent && o.Acks != "all" {
		return fmt.Errorf("-idempotent requires -acks all")
	}
	switch {
	case o.Records <= 0, o.ValueSize <= 0, o.Payloads <= 0, o.Partitions <= 0:
		return fmt.Errorf("-records, -value-size, -payloads and -partitions must be positive")
	case o.Warmup < 0, o.Keys < 0, o.Goroutines < 0, o.LingerMs < 0, o.Rate < 0, o.BatchBytes <= 0, o.BufferBytes <= 0:
		return fmt.Errorf("-warmup, -keys, -goroutines, -linger and -rate must not be negative; -batch-bytes and -buffer-bytes must be positive")
	}
	return nil
}

// Clients lists the registered client names.
func Clients() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// codecIndex maps a compression name to Kafka's codec id.
func codecIndex(name string) int {
	return slices.Index([]string{"none", "gzip", "snappy", "lz4", "zstd"}, name)
}
