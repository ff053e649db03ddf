package drivers

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kprod-io/kprod/bench/sink"
)

func startSink(t *testing.T) *sink.Server {
	t.Helper()
	return startSinkWith(t, sink.Config{Verify: true, Logf: t.Logf})
}

func startSinkWith(t *testing.T, cfg sink.Config) *sink.Server {
	t.Helper()
	s, err := sink.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tiny(client, brokers, topic string) Options {
	return Options{Client: client, Brokers: brokers, Topic: topic, Partitions: 1, Records: 3000, Warmup: 200,
		ValueSize: 100, Payloads: 500, Seed: 1, Compression: "none", Acks: "all", Idempotent: true, LingerMs: 1,
		BatchBytes: 64 << 10, BufferBytes: 8 << 20, CreateTopic: true}
}

// TestEveryDriver runs every client through a tiny throughput run, a compressed run on
// 3 partitions with acks=1, and a latency run, and checks that the verifying sink
// received exactly warm-up + measured records, all well formed.
func TestEveryDriver(t *testing.T) {
	if len(Clients()) < 4 {
		t.Fatalf("clients %v: want at least kprod, franz-go, sarama, kafka-go", Clients())
	}
	s := startSink(t)
	variants := []struct {
		name string
		set  func(*Options)
	}{
		{"throughput", func(*Options) {}},
		{"lz4-acks1-p3", func(o *Options) { o.Compression, o.Acks, o.Idempotent, o.Partitions = "lz4", "1", false, 3 }},
		{"latency", func(o *Options) { o.Rate, o.Records = 20000, 2000 }},
	}
	for _, client := range Clients() {
		for _, v := range variants {
			t.Run(client+"/"+v.name, func(t *testing.T) {
				o := tiny(client, s.Addr(), fmt.Sprintf("%s-%s", client, v.name))
				v.set(&o)
				if client == "floor" && v.name == "lz4-acks1-p3" { // one partition, uncompressed
					if err := o.Validate(); err == nil {
						t.Fatal("the floor accepted lz4 on 3 partitions")
					}
					return
				}
				_, st := runCounted(t, s, o)
				if o.Compression != "none" {
					checkCodec(t, client, o.Compression, st)
				}
			})
		}
	}
}

// runCounted runs o and checks its result, its latency percentiles when paced, and
// that the sink received exactly warm-up + measured records, well formed, in a topic
// of o.Partitions partitions.
func runCounted(t *testing.T, s *sink.Server, o Options) (Result, sink.TopicStats) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 || res.Records != int64(o.Records) || res.RecordsPerSec <= 0 || res.CPUNsPerRecord <= 0 || res.PeakRSSMiB <= 0 {
		t.Fatalf("result %+v", res)
	}
	if o.Rate > 0 && (res.LatencyP50Us <= 0 || res.LatencyP99Us < res.LatencyP50Us || res.LatencyP999Us < res.LatencyP99Us) {
		t.Fatalf("latency percentiles %v %v %v", res.LatencyP50Us, res.LatencyP99Us, res.LatencyP999Us)
	}
	st, _ := s.Topic(o.Topic)
	want := int64(o.Records + o.Warmup)
	if st.Records != want || st.ValueBytes != want*int64(o.ValueSize) || st.Errors != 0 {
		t.Fatalf("sink received %+v, want %d records of %d bytes", st, want, o.ValueSize)
	}
	if st.Partitions != o.Partitions {
		t.Fatalf("topic has %d partitions, want %d", st.Partitions, o.Partitions)
	}
	return res, st
}

// TestCodecs runs every client with every codec through the verifying sink and checks
// that every batch arrived compressed with it: a client may silently fall back to no
// compression when the broker does not advertise what it looks for (librdkafka's lz4).
func TestCodecs(t *testing.T) {
	s := startSink(t)
	for _, client := range Clients() {
		if client == "floor" { // uncompressed only: TestClientSupports sees it refuse codecs
			continue
		}
		for _, codec := range []string{"gzip", "snappy", "lz4", "zstd"} {
			t.Run(client+"/"+codec, func(t *testing.T) {
				o := tiny(client, s.Addr(), "codec-"+client+"-"+codec)
				o.Compression, o.Records, o.Warmup = codec, 1000, 100
				if _, err := Run(context.Background(), o); err != nil {
					t.Fatal(err)
				}
				st, _ := s.Topic(o.Topic)
				if st.Records != int64(o.Records+o.Warmup) || st.Errors != 0 {
					t.Fatalf("sink %+v", st)
				}
				checkCodec(t, client, codec, st)
				if st.WireBytes >= st.ValueBytes {
					t.Fatalf("%d wire bytes for %d value bytes: not compressed", st.WireBytes, st.ValueBytes)
				}
			})
		}
	}
}

// checkCodec wants every batch compressed with codec. kprod always compresses, as Java
// does, even when that does not shrink a batch. Peers may send a batch as is when
// compressing it did not make it smaller (librdkafka's "compression didn't help",
// franz-go likewise), which happens to a batch of one or two 100-byte records. Such
// batches must still carry under 10% of the records, so a client that ignored the
// setting still fails.
func checkCodec(t *testing.T, client, codec string, st sink.TopicStats) {
	t.Helper()
	if st.Codecs[codec] == st.Batches {
		return
	}
	plain := st.CodecRecords["none"]
	if client != "kprod" && st.Codecs[codec]+st.Codecs["none"] == st.Batches && plain*10 < st.Records {
		t.Logf("%s sent %d of %d batches (%d of %d records) uncompressed", client, st.Codecs["none"], st.Batches, plain, st.Records)
		return
	}
	t.Fatalf("sink saw codecs %v (records %v), want every batch %s", st.Codecs, st.CodecRecords, codec)
}

func TestPayloads(t *testing.T) {
	for _, size := range []int{100, 1024} {
		a, b := Payloads(2000, size, 7), Payloads(2000, size, 7)
		seen := map[string]bool{}
		for i := range a {
			if len(a[i]) != size || !bytes.Equal(a[i], b[i]) {
				t.Fatalf("payload %d: %d bytes, deterministic %v", i, len(a[i]), bytes.Equal(a[i], b[i]))
			}
			if a[i][0] != '{' || a[i][size-1] != '}' || bytes.IndexByte(a[i], '\n') >= 0 {
				t.Fatalf("payload %d not a one-line JSON-like value: %q", i, a[i])
			}
			seen[string(a[i])] = true
		}
		if len(seen) != len(a) {
			t.Fatalf("%d distinct of %d", len(seen), len(a))
		}
		if c := Payloads(10, size, 8); bytes.Equal(c[0], a[0]) {
			t.Fatal("seed ignored")
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		set  func(*Options)
	}{
		{"client", func(o *Options) { o.Client = "nope" }},
		{"codec", func(o *Options) { o.Compression = "brotli" }},
		{"acks", func(o *Options) { o.Acks = "0" }},
		{"idempotent acks=1", func(o *Options) { o.Acks = "1" }},
		{"records", func(o *Options) { o.Records = 0 }},
		{"rate", func(o *Options) { o.Rate = -1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tiny("kprod", "x", "t")
			tc.set(&o)
			if o.Validate() == nil {
				t.Fatal("accepted")
			}
		})
	}
	o := tiny("kprod", "x", "t")
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
}
