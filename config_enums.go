package kprod

import (
	"strconv"

	"github.com/kprod-io/kprod/internal/config"
)

// Acks is the acks property: how many replicas must have a record before the broker
// acknowledges it. Its zero value is AcksAll, Kafka's default, so a producer never
// stops waiting for acknowledgements by accident. Use the constants: AcksNone is
// deliberately not a small number, so that a number written for Java's acks (2, -1)
// is an error rather than a silent acks=0.
type Acks int8

const (
	// AcksAll waits for every in-sync replica (acks=all, also written -1). Default.
	AcksAll Acks = 0
	// AcksLeader waits for the partition leader's local write only (acks=1).
	AcksLeader Acks = 1
	// AcksNone does not wait for any response (acks=0): records can be lost
	// silently, offsets are unknown and retries cannot happen.
	AcksNone Acks = 100
)

// String returns the value as Java writes it: "all", "1" or "0".
func (a Acks) String() string {
	switch a {
	case AcksAll:
		return "all"
	case AcksLeader:
		return "1"
	case AcksNone:
		return "0"
	}
	return "Acks(" + strconv.Itoa(int(a)) + ")"
}

// wire returns the ProduceRequest acks value, or false for an undefined Acks.
func (a Acks) wire() (int16, bool) {
	switch a {
	case AcksAll:
		return config.AcksAll, true
	case AcksLeader:
		return config.AcksLeader, true
	case AcksNone:
		return config.AcksNone, true
	}
	return 0, false
}

// Compression is the compression.type property. Its values equal the codec bits of
// the RecordBatch attributes (and Java's CompressionType ids); the zero value is
// CompressionNone, Kafka's default.
type Compression int8

const (
	// CompressionNone sends batches uncompressed. Default.
	CompressionNone Compression = 0
	// CompressionGzip compresses with gzip at GzipLevel.
	CompressionGzip Compression = 1
	// CompressionSnappy compresses with snappy (Xerial framing, as Java writes it).
	CompressionSnappy Compression = 2
	// CompressionLZ4 compresses with LZ4 frames at LZ4Level.
	CompressionLZ4 Compression = 3
	// CompressionZstd compresses with zstd at ZstdLevel (brokers 2.1+, KIP-110).
	CompressionZstd Compression = 4
)

// compressionNames are Java's compression.type names, indexed by Compression.
var compressionNames = [...]string{"none", "gzip", "snappy", "lz4", "zstd"}

// String returns Java's name for the codec: "none", "gzip", "snappy", "lz4", "zstd".
func (c Compression) String() string {
	if c >= 0 && int(c) < len(compressionNames) {
		return compressionNames[c]
	}
	return "Compression(" + strconv.Itoa(int(c)) + ")"
}

// valid reports whether c is one of the defined codecs.
func (c Compression) valid() bool { return c >= 0 && int(c) < len(compressionNames) }

// Toggle is a boolean property whose Go zero value must mean "Kafka's default"
// rather than false: enable.idempotence (where an explicit true also changes which
// settings are errors) and partitioner.adaptive.partitioning.enable.
type Toggle int8

const (
	// ToggleDefault leaves the property at Kafka's default.
	ToggleDefault Toggle = iota
	// ToggleOn sets the property to true explicitly.
	ToggleOn
	// ToggleOff sets the property to false explicitly.
	ToggleOff
)

// String returns "default", "true" or "false".
func (t Toggle) String() string {
	switch t {
	case ToggleDefault:
		return "default"
	case ToggleOn:
		return "true"
	case ToggleOff:
		return "false"
	}
	return "Toggle(" + strconv.Itoa(int(t)) + ")"
}

// valid reports whether t is one of the defined values.
func (t Toggle) valid() bool { return t >= ToggleDefault && t <= ToggleOff }

// on resolves t against the default def.
func (t Toggle) on(def Toggle) bool {
	if t == ToggleDefault {
		t = def
	}
	return t == ToggleOn
}

// PartitionerKind selects one of the built-in partitioners (partitioner.class).
type PartitionerKind int8

const (
	// PartitionerDefault hashes keys with murmur2 over all partitions and spreads
	// unkeyed records with the uniform sticky partitioner (KIP-794). Default.
	PartitionerDefault PartitionerKind = iota
	// PartitionerRoundRobin sends consecutive records to consecutive partitions,
	// keyed or not (Java's RoundRobinPartitioner).
	PartitionerRoundRobin
)

// String returns "default" or "round-robin".
func (p PartitionerKind) String() string {
	switch p {
	case PartitionerDefault:
		return "default"
	case PartitionerRoundRobin:
		return "round-robin"
	}
	return "PartitionerKind(" + strconv.Itoa(int(p)) + ")"
}

// wire returns the internal partitioner constant, or false for an undefined kind.
func (p PartitionerKind) wire() (int8, bool) {
	switch p {
	case PartitionerDefault:
		return config.PartitionerDefault, true
	case PartitionerRoundRobin:
		return config.PartitionerRoundRobin, true
	}
	return 0, false
}
