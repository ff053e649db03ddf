package main

import (
	"fmt"
	"regexp"
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
}

// describe says what the scenario sets, for the report.
func (s scenario) describe() string {
	mode := "idempotent, acks=all"
	if !s.Idempotent {
		mode = "not idempotent, acks=" + s.Acks
	}
	return fmt.Sprintf("%d-byte values, compression %s, %d partition(s), %s, linger %d ms",
		s.ValueSize, s.Compression, s.Partitions, mode, s.LingerMs)
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
	for i := range out {
		out[i].Name = name(out[i])
	}
	return out
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
	return n
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
