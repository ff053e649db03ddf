package serdes

import (
	"syscall"
	"testing"
	"time"
)

// measure runs f in b.Loop and reports, besides Go's wall-clock ns/op, the
// process's CPU time (user+system, every thread: the GC's too) per op as
// cpu-ns/op. On a shared machine a busy neighbour stretches ns/op while this
// process waits for a core; cpu-ns/op counts only the time it ran, as the
// drivers' "CPU ns/record" does.
func measure(b *testing.B, f func()) {
	b.ReportAllocs()
	n := 0
	start := cpuTime(b)
	for b.Loop() {
		f()
		n++
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(n), "cpu-ns/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAvro is one Customer record per op, its schema id cached, through
// each Avro serializer. "append" writes into one reused buffer (kprod's typed
// producer does so); "new" returns a fresh slice per record, as Serialize and
// sr.Serde.Encode do. The map rows start from a prebuilt map, so only encoding
// is measured.
func BenchmarkAvro(b *testing.B) {
	s := newSet(b)
	c, m, native := Sample(), SampleMap(), GoavroNative()
	buf := make([]byte, 0, 256)
	var err error
	run := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			measure(b, f)
			if err != nil {
				b.Fatal(err)
			}
		})
	}
	run("kprod-struct/append", func() { buf, err = s.KprodStruct.AppendSerialize(buf[:0], Topic, c) })
	run("kprod-map/append", func() { buf, err = s.KprodMap.AppendSerialize(buf[:0], Topic, m) })
	run("franz-sr-hamba/append", func() { buf, err = s.FranzHamba.AppendEncode(buf[:0], c) })
	run("goavro-map/append", func() { buf, err = AppendGoavro(s.Goavro, buf[:0], s.AvroID, native) })

	run("kprod-struct/new", func() { buf, err = s.KprodStruct.Serialize(Topic, c) })
	run("kprod-map/new", func() { buf, err = s.KprodMap.Serialize(Topic, m) })
	run("franz-sr-hamba/new", func() { buf, err = s.FranzHamba.Encode(c) })
	run("goavro-map/new", func() { buf, err = AppendGoavro(s.Goavro, nil, s.AvroID, native) })
}

// BenchmarkJSON is the same record through kprod's JSON Schema serializer
// (without json.fail.invalid.schema, Java's default) and through franz-go's
// sr.Serde with encoding/json: both are encoding/json behind the header.
func BenchmarkJSON(b *testing.B) {
	s := newSet(b)
	c := Sample()
	buf := make([]byte, 0, 256)
	var err error
	run := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			measure(b, f)
			if err != nil {
				b.Fatal(err)
			}
		})
	}
	run("kprod-jsonschema/append", func() { buf, err = s.KprodJSON.AppendSerialize(buf[:0], Topic, c) })
	run("franz-sr-json/append", func() { buf, err = s.FranzJSON.AppendEncode(buf[:0], c) })
	run("kprod-jsonschema/new", func() { buf, err = s.KprodJSON.Serialize(Topic, c) })
	run("franz-sr-json/new", func() { buf, err = s.FranzJSON.Encode(c) })
}
