package main

import (
	"fmt"
	"regexp"

	"github.com/kprod-io/kprod/bench/drivers"
)

// scenario is one cell of the matrix: every client runs it with the same settings.
type scenario struct {
	Name        string
	ValueSize   int
	Compression string
	Partitions  int
	Acks        string
	Idempotent  bool
	LingerMs    int
	// Goroutines senders share the records; 0 is one and unnamed, any other count is
	// named (-g1 in the sweep). Beyond one, only kprod and franz-go run it.
	Goroutines int `json:",omitempty"`
	// Keys distinct record keys, cycled, spread records by key hash (kprod, franz-go).
	Keys int `json:",omitempty"`
	// BatchBytes overrides the runner's -batch-bytes for every client when set.
	BatchBytes int `json:",omitempty"`
	// TLS connects over TLS (kprod, franz-go): the sink's self-signed certificate, or
	// real Kafka's -real-tls listener.
	TLS bool `json:",omitempty"`
	// Observe runs kprod with -observe (its metrics and Timing read as a user would);
	// the peers run as usual beside it.
	Observe bool `json:",omitempty"`
}

// keys is how many keys the keyed scenarios cycle: enough that the default
// partitioners' murmur2 spreads records over every partition, 1,000 included.
const keys = 65536

// describe says what the scenario sets, for the report.
func (s scenario) describe() string {
	mode := "idempotent, acks=all"
	if !s.Idempotent {
		mode = "not idempotent, acks=" + s.Acks
	}
	d := fmt.Sprintf("%d-byte values, compression %s, %d partition(s), %s, linger %d ms",
		s.ValueSize, s.Compression, s.Partitions, mode, s.LingerMs)
	if s.Keys > 0 {
		d += fmt.Sprintf(", keyed (%d keys, cycled)", s.Keys)
	}
	if s.Goroutines > 0 {
		d += fmt.Sprintf(", %d sending goroutine(s) sharing the records", s.Goroutines)
	}
	if s.BatchBytes > 0 {
		d += fmt.Sprintf(", batch.size %d bytes", s.BatchBytes)
	}
	if s.TLS {
		d += ", over TLS"
	}
	if s.Observe {
		d += ", kprod with -observe (metrics scraped every second, a debug-level logger, each record's Timing read in its callback), the peers as usual"
	}
	return d
}

// options are the driver options a client needs for s; ClientSupports on them says
// whether the client can run s.
func (s scenario) options(client string) drivers.Options {
	o := drivers.Options{Client: client, Keys: s.Keys, Goroutines: s.Goroutines, Observe: s.Observe && client == "kprod",
		Compression: s.Compression, Partitions: s.Partitions}
	if s.TLS {
		o.TLSCA = "ca.pem" // a placeholder: only whether it is set matters here
	}
	return o
}

// runs says whether client can run s; a client that cannot is skipped, not failed.
func (s scenario) runs(client string) error {
	if client == "java" {
		// ProducerPerformance sends no keys from one thread: those scenarios would not
		// be the same workload. It runs TLS (its ssl.* properties) and the rest.
		if s.Keys > 0 || s.Goroutines > 1 {
			return fmt.Errorf("ProducerPerformance has no keys nor several senders")
		}
		return nil
	}
	o := s.options(client)
	return o.ClientSupports()
}

// skipped lists the clients of clients that cannot run s, with why.
func (s scenario) skipped(clients []string) []string {
	var out []string
	for _, c := range clients {
		if err := s.runs(c); err != nil {
			out = append(out, c+" ("+err.Error()+")")
		}
	}
	return out
}

// matrix is the scenario list of issue 5: 100-byte and 1 KiB values with every codec
// (idempotent, acks=all, linger 5 ms, 1 partition), then 16 partitions, then acks=1,
// then linger 0.
func matrix() []scenario {
	var out []scenario
	base := scenario{Partitions: 1, Acks: "all", Idempotent: true, LingerMs: 5}
	for _, size := range []int{100, 1024} {
		for _, codec := range []string{"none", "lz4", "zstd", "snappy", "gzip"} {
			s := base
			s.ValueSize, s.Compression = size, codec
			out = append(out, s)
		}
	}
	for _, size := range []int{100, 1024} {
		s := base
		s.ValueSize, s.Compression, s.Partitions = size, "none", 16
		out = append(out, s)
	}
	for _, codec := range []string{"none", "lz4"} {
		s := base
		s.ValueSize, s.Compression, s.Acks, s.Idempotent = 100, codec, "1", false
		out = append(out, s)
	}
	// linger.ms=0 (Java's default before Kafka 4.0): with linger 5 ms every client's
	// latency is the linger wait plus timer rounding, the same for all; with 0 it shows
	// what the client itself adds.
	l0 := base
	l0.ValueSize, l0.Compression, l0.LingerMs = 100, "none", 0
	out = append(out, l0)
	out = append(out, usersRun(base)...)
	for i := range out {
		out[i].Name = name(out[i])
	}
	return out
}

// usersRun is issue 14's "what users run", beside issue 5's matrix: concurrent keyed
// senders (the sweep of 1, 2, 8 and 32 goroutines; 8 is "concurrent"), 1,000 keyed
// partitions at Kafka's default batch.size and at 1 MB, TLS, and kprod observed.
func usersRun(base scenario) []scenario {
	var out []scenario
	for _, g := range []int{1, 2, 8, 32} {
		s := base
		s.ValueSize, s.Compression, s.Partitions, s.Keys, s.Goroutines = 100, "none", 16, keys, g
		out = append(out, s)
	}
	for _, batch := range []int{16 << 10, 1_000_000} {
		s := base
		s.ValueSize, s.Compression, s.Partitions, s.Keys, s.BatchBytes = 100, "none", 1000, keys, batch
		out = append(out, s)
	}
	for _, size := range []int{100, 1024} {
		s := base
		s.ValueSize, s.Compression, s.TLS = size, "none", true
		out = append(out, s)
	}
	o := base
	o.ValueSize, o.Compression, o.Observe = 100, "none", true
	return append(out, o)
}

func name(s scenario) string {
	mode := "idem"
	if !s.Idempotent {
		mode = "acks" + s.Acks
	}
	n := fmt.Sprintf("v%d-%s-p%d-%s", s.ValueSize, s.Compression, s.Partitions, mode)
	if s.LingerMs != 5 {
		n += fmt.Sprintf("-linger%d", s.LingerMs)
	}
	if s.Keys > 0 {
		n += "-keyed"
	}
	if s.Goroutines > 0 {
		n += fmt.Sprintf("-g%d", s.Goroutines)
	}
	if s.BatchBytes > 0 {
		n += "-batch" + sizeName(s.BatchBytes)
	}
	if s.TLS {
		n += "-tls"
	}
	if s.Observe {
		n += "-observe"
	}
	return n
}

// sizeName writes a byte count short: 16384 as 16k, 1000000 as 1m.
func sizeName(n int) string {
	switch {
	case n%(1<<10) == 0 && n < 1<<20:
		return fmt.Sprintf("%dk", n>>10)
	case n%1_000_000 == 0:
		return fmt.Sprintf("%dm", n/1_000_000)
	}
	return fmt.Sprint(n)
}

// filter keeps the scenarios whose name matches re.
func filter(all []scenario, re string) ([]scenario, error) {
	if re == "" {
		return all, nil
	}
	r, err := regexp.Compile(re)
	if err != nil {
		return nil, fmt.Errorf("-scenarios: %w", err)
	}
	var out []scenario
	for _, s := range all {
		if r.MatchString(s.Name) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-scenarios %q matches none of the %d scenarios", re, len(all))
	}
	return out, nil
}
