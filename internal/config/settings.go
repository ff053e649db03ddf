// Package config holds the producer's resolved settings and the Java-compatible
// parsing helpers behind kprod.Config.
//
// kprod.Config is what users write: its zero value means "Kafka's default" and it
// uses typed enums and sentinels where Go's zero would be ambiguous. Settings is what
// the rest of the producer reads: every value concrete, every default applied, every
// cross-field rule already checked. It lives here, not in the root package, so the
// internal packages (accumulator, sender, txn, broker, ...) can depend on it without
// importing kprod.
package config

import (
	"crypto/tls"
	"time"

	"github.com/kprod-io/kprod/internal/tlsconf"
	"github.com/kprod-io/kprod/sasl"
)

// Acks values as sent in ProduceRequest.Acks.
const (
	// AcksAll waits for the full in-sync replica set (Java's acks=all / -1).
	AcksAll int16 = -1
	// AcksNone does not wait for any response (acks=0).
	AcksNone int16 = 0
	// AcksLeader waits for the leader's local write only (acks=1).
	AcksLeader int16 = 1
)

// Codec values use the RecordBatch attributes numbering (bits 0-2), which is also
// Java's CompressionType.id.
const (
	CodecNone   int8 = 0
	CodecGzip   int8 = 1
	CodecSnappy int8 = 2
	CodecLZ4    int8 = 3
	CodecZstd   int8 = 4
)

// Compression level ranges accepted by Java's producer (KIP-390). Gzip also accepts
// GzipDefaultLevel, deflate's "default compression" marker (level 6).
const (
	GzipDefaultLevel = -1
	GzipMinLevel     = 1
	GzipMaxLevel     = 9
	LZ4MinLevel      = 1
	LZ4MaxLevel      = 17
	// ZstdMinLevel is libzstd's ZSTD_minCLevel(): -(1<<17).
	ZstdMinLevel = -131072
	ZstdMaxLevel = 22
)

// Partitioner kinds of the built-in partitioning logic.
const (
	// PartitionerDefault is murmur2 on keyed records and uniform sticky (KIP-794)
	// on unkeyed ones.
	PartitionerDefault int8 = 0
	// PartitionerRoundRobin is Java's RoundRobinPartitioner.
	PartitionerRoundRobin int8 = 1
)

// MaxInFlightForIdempotence is the most in-flight requests per connection an
// idempotent producer may use: brokers keep the state of the last 5 batches per
// producer (ProducerStateEntry.NUM_BATCHES_TO_RETAIN), so more could reorder.
const MaxInFlightForIdempotence = 5

// Settings is the fully resolved producer configuration. Every field holds the value
// to use; no field has a "default" or sentinel meaning, except SendBufferBytes and
// ReceiveBufferBytes whose -1 keeps the operating system's socket buffer size.
type Settings struct {
	// BootstrapServers are validated host:port pairs, no duplicates.
	BootstrapServers []string
	// ClientID is client.id, or Java's generated "producer-N" / "producer-<txn id>".
	ClientID string

	// Profile is delivery.profile (kprod's own), "" for none. The profile's values are
	// already in the other fields; it is kept to be printed back.
	Profile string

	// Acks is AcksAll, AcksNone or AcksLeader.
	Acks int16
	// Idempotent is enable.idempotence after Java's rules: on by default, turned
	// off silently when not set explicitly and acks != all or retries == 0.
	Idempotent bool
	// TransactionalID is transactional.id; empty for a non-transactional producer.
	TransactionalID string
	// TransactionTimeout is transaction.timeout.ms; it fits an int32 of milliseconds.
	TransactionTimeout time.Duration

	// Retries is how many times a failed batch may be retried, 0..MaxInt32.
	Retries int
	// DeliveryTimeout bounds a record's life from Send's return to its
	// completion; at least Linger + RequestTimeout.
	DeliveryTimeout time.Duration
	// RequestTimeout bounds one request; it fits an int32 of milliseconds.
	RequestTimeout time.Duration
	// RetryBackoff is the first retry's backoff; never above RetryBackoffMax
	// (Java's ExponentialBackoff uses a static RetryBackoffMax then).
	RetryBackoff time.Duration
	// RetryBackoffMax caps the exponential retry backoff (KIP-580).
	RetryBackoffMax time.Duration

	// Linger is how long a batch waits for more records; 0 sends at once.
	Linger time.Duration
	// BatchSize is the target batch size in bytes; 0 sends every record alone.
	BatchSize int
	// BufferMemory is the record buffer budget in bytes, positive.
	BufferMemory int64
	// BufferMemoryPartitionMax is buffer.memory.partition.max (kprod's own): the most
	// bytes of BufferMemory one partition may hold, 0 for no bound.
	BufferMemoryPartitionMax int64
	// MaxBlock bounds how long Send blocks for metadata and buffer space.
	MaxBlock time.Duration
	// MaxRequestSize caps one request (and one uncompressed batch) in bytes.
	MaxRequestSize int
	// MaxInFlight is max.in.flight.requests.per.connection, at least 1 (at most
	// MaxInFlightForIdempotence when Idempotent).
	MaxInFlight int

	// Codec is one of the Codec constants.
	Codec int8
	// GzipLevel is GzipDefaultLevel or GzipMinLevel..GzipMaxLevel.
	GzipLevel int
	// LZ4Level is LZ4MinLevel..LZ4MaxLevel.
	LZ4Level int
	// ZstdLevel is ZstdMinLevel..ZstdMaxLevel (0 means libzstd's default, 3).
	ZstdLevel int

	// Partitioner is PartitionerDefault or PartitionerRoundRobin.
	Partitioner int8
	// PartitionerIgnoreKeys makes the default partitioner treat every record as
	// unkeyed (uniform sticky).
	PartitionerIgnoreKeys bool
	// PartitionerAdaptive weights the sticky choice away from slow brokers (KIP-794).
	PartitionerAdaptive bool
	// PartitionerAvailabilityTimeout marks a partition unavailable after this long
	// without progress; 0 disables the check.
	PartitionerAvailabilityTimeout time.Duration

	// MetadataMaxAge forces a metadata refresh after this long.
	MetadataMaxAge time.Duration
	// MetadataMaxIdle forgets a topic not produced to for this long (>= 5s).
	MetadataMaxIdle time.Duration
	// ConnectionsMaxIdle closes connections idle for this long.
	ConnectionsMaxIdle time.Duration
	// MetricsSampleWindow and MetricsNumSamples shape the windowed metrics
	// (metrics.sample.window.ms, metrics.num.samples).
	MetricsSampleWindow time.Duration
	MetricsNumSamples   int
	// SocketConnectionSetupTimeout is the first connection attempt's timeout;
	// never above SocketConnectionSetupTimeoutMax.
	SocketConnectionSetupTimeout time.Duration
	// SocketConnectionSetupTimeoutMax caps the exponentially growing setup timeout.
	SocketConnectionSetupTimeoutMax time.Duration
	// ReconnectBackoff is the first reconnect backoff; never above ReconnectBackoffMax.
	ReconnectBackoff time.Duration
	// ReconnectBackoffMax caps the exponential reconnect backoff.
	ReconnectBackoffMax time.Duration
	// SendBufferBytes is SO_SNDBUF; -1 keeps the operating system's default.
	SendBufferBytes int
	// ReceiveBufferBytes is SO_RCVBUF; -1 keeps the operating system's default.
	ReceiveBufferBytes int

	// SecurityProtocol is security.protocol by Java's name: PLAINTEXT, SSL,
	// SASL_PLAINTEXT or SASL_SSL.
	SecurityProtocol string
	// SSL holds the ssl.* settings with Java's defaults filled in (what Properties
	// prints); they are used only when TLS was built from them.
	SSL tlsconf.Settings
	// TLS is the client TLS configuration for SSL and SASL_SSL, nil otherwise: the
	// one given in code, or the one built from SSL. Connections clone it per broker.
	TLS *tls.Config
	// TLSNotes say which listed protocols and cipher suites are ignored (as Java
	// ignores them); the producer logs them.
	TLSNotes []string
	// SASL authenticates every connection on SASL_PLAINTEXT and SASL_SSL; nil
	// otherwise.
	SASL sasl.Mechanism

	// KeySerializer and ValueSerializer are the Java class names given in a
	// properties file (key.serializer / value.serializer), empty when unset; the
	// typed layer maps them onto Go serializers.
	KeySerializer   string
	ValueSerializer string

	// SpoolDir is spool.dir (kprod's own), "" for no spool; SpoolMaxBytes,
	// SpoolSync (a SpoolSync constant) and SpoolSyncInterval its size limit and fsync
	// policy.
	SpoolDir          string
	SpoolMaxBytes     int64
	SpoolSync         int8
	SpoolSyncInterval time.Duration
}

// Spool sync policies, as spool.sync names them.
const (
	SpoolSyncInterval int8 = iota
	SpoolSyncAlways
	SpoolSyncNone
)
