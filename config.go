package kprod

import (
	"crypto/tls"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/sasl"
)

// Sentinels for values Kafka allows but Go's zero value cannot express, because zero
// means "Kafka's default" in Config. Each is exactly -1 (-1ns for durations): any
// other negative value is invalid, as the same number is in a properties file.
const (
	// ZeroDuration sets a duration field to Kafka's 0: Linger: ZeroDuration is
	// linger.ms=0, MaxBlock: ZeroDuration makes Send never block (see MaxBlock for the
	// transaction calls), RetryBackoff: ZeroDuration retries at once.
	ZeroDuration time.Duration = -1
	// NoRetries sets Retries to Kafka's retries=0.
	NoRetries = -1
	// NoBatching sets BatchSize to Kafka's batch.size=0: every record travels in a
	// batch of its own.
	NoBatching = -1
	// OSDefaultBuffer sets SendBufferBytes or ReceiveBufferBytes to Kafka's -1: keep
	// the operating system's socket buffer size.
	OSDefaultBuffer = -1
)

// Config configures a producer with the Java producer's properties (Kafka 4.x).
//
// The zero value of every field means Kafka 4.x's default for its property, never
// "off": Config{BootstrapServers: []string{"localhost:9092"}} behaves like a Java
// producer given only bootstrap.servers. ConfigTable lists every property, its field
// and its default. Values Kafka allows that a Go zero value cannot express are chosen
// with one scheme:
//
//   - Durations: ZeroDuration means Kafka's 0, e.g. linger.ms=0.
//   - Retries: NoRetries means retries=0; BatchSize: NoBatching means batch.size=0.
//   - SendBufferBytes and ReceiveBufferBytes: OSDefaultBuffer means Kafka's -1, the
//     operating system's buffer size.
//   - Compression levels: 0 means the codec's default level.
//   - Acks, Compression and PartitionerKind are typed enums whose zero value is
//     Kafka's default (AcksAll, CompressionNone, PartitionerDefault); AcksNone must
//     be written out.
//   - Booleans whose Kafka default is true, or whose explicit setting changes the
//     rules (enable.idempotence), are Toggles: ToggleDefault, ToggleOn, ToggleOff.
//
// Every other value means what the same number means to Java and is valid exactly
// when that number is valid in a properties file, which checks the ranges of Java's
// ProducerConfig: Retries: -5 is as invalid as retries=-5, Acks(2) as acks=2.
// Durations keep Go's precision; Kafka's properties count milliseconds.
// Validate checks each field and the cross-field rules of Java's ProducerConfig and
// KafkaProducer; creating a producer runs the same checks. ConfigFromProperties
// builds a Config from Java property names and Properties prints one back.
type Config struct {
	// BootstrapServers is bootstrap.servers: host:port pairs used to discover the
	// cluster. Required.
	BootstrapServers []string
	// ClientID is client.id, sent with every request for broker logs and quotas.
	// Default "producer-N", or "producer-<TransactionalID>" when transactional.
	ClientID string

	// Profile is delivery.profile, kprod's own: a named delivery mode (ProfileExactlyOnce,
	// ProfileAtMostOnce...) whose properties fill the fields left at their zero value,
	// and whose promise the resulting settings must keep. Default none: Kafka's defaults.
	Profile Profile

	// Acks is acks. Default AcksAll.
	Acks Acks
	// Idempotence is enable.idempotence. Default on, but turned off silently when
	// not set and Acks is not AcksAll or Retries is NoRetries; when ToggleOn, those
	// settings are errors instead. Idempotence requires MaxInFlight <= 5.
	Idempotence Toggle
	// Retries is retries: how often a batch failing with a retriable error is
	// resent, within DeliveryTimeout. Default 2147483647 (until DeliveryTimeout);
	// NoRetries disables retries.
	Retries int
	// DeliveryTimeout is delivery.timeout.ms: the upper bound from Send's return to
	// the record's success or failure. Default 120s. Must be at least
	// Linger + RequestTimeout; when left at default it is raised to that sum.
	DeliveryTimeout time.Duration
	// RequestTimeout is request.timeout.ms: how long to wait for a response before
	// retrying or failing the request. Default 30s.
	RequestTimeout time.Duration
	// RetryBackoff is retry.backoff.ms: the first backoff before retrying a failed
	// request. Default 100ms.
	RetryBackoff time.Duration
	// RetryBackoffMax is retry.backoff.max.ms: the cap of the exponentially growing,
	// jittered retry backoff (KIP-580). Default 1s.
	RetryBackoffMax time.Duration

	// Linger is linger.ms: how long a partition's batch waits for more records
	// before it is sent. Default 5ms (0 before Kafka 4.0).
	Linger time.Duration
	// BatchSize is batch.size: the target size in bytes of a partition's batch.
	// Default 16384.
	BatchSize int
	// BufferMemory is buffer.memory: bytes of records the producer may hold
	// unsent before Send blocks. Default 33554432 (32 MiB). A batch is charged for
	// the buffer it holds, which grows with its records up to BatchSize, not for
	// BatchSize from its first record as Java's BufferPool charges, so many
	// partitions can batch at once.
	BufferMemory int64
	// BufferMemoryPartitionMax is buffer.memory.partition.max, kprod's own: the most
	// bytes of BufferMemory the batches of one partition may hold. A Send to a
	// partition holding them blocks up to MaxBlock (then fails with ErrBufferExhausted)
	// while Sends to other partitions go on, so a partition whose leader stopped
	// answering cannot take all of BufferMemory and stall every Send, as it does in Java
	// (see Fair buffering in the README). At least BatchSize, at most BufferMemory.
	// Default 0: no bound, as in Java.
	BufferMemoryPartitionMax int64
	// MaxBlock is max.block.ms: how long Send may block for metadata or buffer space,
	// and how long each transaction call (InitTransactions, SendOffsetsToTransaction,
	// CommitTransaction, AbortTransaction) may block. Default 60s. ZeroDuration
	// (max.block.ms=0): Send never blocks, and the transaction calls are bounded by their
	// ctx only. That is a deliberate difference from Java, whose calls then time out at
	// once while its background sender carries on with the request for a later call to
	// pick up; kprod runs a transaction call's requests on the caller's goroutine, so a
	// call that timed out at once would never make progress.
	MaxBlock time.Duration
	// MaxRequestSize is max.request.size: the largest request, and so the largest
	// uncompressed record, in bytes. Default 1048576 (1 MiB). The topic's own limit,
	// max.message.bytes, is checked too when known (README "Size limits").
	MaxRequestSize int
	// MaxInFlight is max.in.flight.requests.per.connection: unacknowledged
	// requests per broker connection. Default 5; at most 5 with idempotence.
	MaxInFlight int

	// Compression is compression.type. Default CompressionNone.
	Compression Compression
	// GzipLevel is compression.gzip.level: 1-9, or -1 for deflate's default.
	// Default -1 (0 selects it too).
	GzipLevel int
	// LZ4Level is compression.lz4.level: 1-17. Default 9 (0 selects it).
	LZ4Level int
	// ZstdLevel is compression.zstd.level: -131072 to 22. Default 3 (0 selects it).
	ZstdLevel int

	// PartitionerKind is partitioner.class, restricted to the built-in
	// partitioners. Default PartitionerDefault.
	PartitionerKind PartitionerKind
	// PartitionerIgnoreKeys is partitioner.ignore.keys: spread keyed records like
	// unkeyed ones instead of hashing keys. Default false.
	PartitionerIgnoreKeys bool
	// PartitionerAdaptive is partitioner.adaptive.partitioning.enable: send more
	// unkeyed records to partitions on faster brokers (KIP-794). Default on.
	PartitionerAdaptive Toggle
	// PartitionerAvailabilityTimeout is partitioner.availability.timeout.ms: a
	// partition whose broker made no progress for this long is skipped by the
	// adaptive partitioner. Default 0 (disabled).
	PartitionerAvailabilityTimeout time.Duration

	// TransactionalID is transactional.id: enables transactions and fences older
	// producers with the same id. Requires idempotence. Default none.
	TransactionalID string
	// TransactionTimeout is transaction.timeout.ms: how long the coordinator lets a
	// transaction stay open before aborting it. Default 60s.
	TransactionTimeout time.Duration

	// MetadataMaxAge is metadata.max.age.ms: refresh metadata at least this often,
	// the topics' max.message.bytes with it. Default 5m.
	MetadataMaxAge time.Duration
	// MetadataMaxIdle is metadata.max.idle.ms: forget the metadata of a topic not
	// produced to for this long. Default 5m; at least 5s.
	MetadataMaxIdle time.Duration
	// ConnectionsMaxIdle is connections.max.idle.ms: close connections idle this
	// long. Default 9m.
	ConnectionsMaxIdle time.Duration
	// SocketConnectionSetupTimeout is socket.connection.setup.timeout.ms: the first
	// connection attempt's timeout, growing exponentially on failures. Default 10s.
	SocketConnectionSetupTimeout time.Duration
	// SocketConnectionSetupTimeoutMax is socket.connection.setup.timeout.max.ms:
	// the cap of the connection setup timeout. Default 30s.
	SocketConnectionSetupTimeoutMax time.Duration
	// ReconnectBackoff is reconnect.backoff.ms: the first wait before reconnecting
	// to a broker. Default 50ms.
	ReconnectBackoff time.Duration
	// ReconnectBackoffMax is reconnect.backoff.max.ms: the cap of the exponential
	// reconnect backoff. Default 1s, or ReconnectBackoff when only that is set.
	ReconnectBackoffMax time.Duration
	// SendBufferBytes is send.buffer.bytes: the socket's SO_SNDBUF. Default 131072;
	// OSDefaultBuffer keeps the operating system's size.
	SendBufferBytes int
	// ReceiveBufferBytes is receive.buffer.bytes: the socket's SO_RCVBUF. Default
	// 32768; OSDefaultBuffer keeps the operating system's size.
	ReceiveBufferBytes int

	// MetricsSampleWindow is metrics.sample.window.ms: the length of each window of
	// the windowed metrics (-rate, -avg, -max; see Producer.Metrics). Default 30s;
	// ZeroDuration makes every recording start a new window, as Java's 0 does.
	MetricsSampleWindow time.Duration
	// MetricsNumSamples is metrics.num.samples: how many windows the windowed
	// metrics keep. Default 2.
	MetricsNumSamples int

	// SecurityProtocol is security.protocol. Default SecurityPlaintext.
	SecurityProtocol SecurityProtocol
	// TLS, for SecuritySSL and SecuritySASLSSL, is the TLS configuration used as given,
	// instead of the one SSL describes: leave its ServerName empty, kprod sets it per
	// broker to the host it dials. Setting it with a protocol without TLS is an error.
	// It has no property. Default none (built from SSL).
	TLS *tls.Config
	// SSL holds the ssl.* properties, used for SecuritySSL and SecuritySASLSSL when TLS
	// is nil. See SSLConfig.
	SSL SSLConfig
	// SASL is the SASL mechanism (package kprod/sasl) authenticating every connection
	// when SecurityProtocol is SecuritySASLPlaintext or SecuritySASLSSL, and required
	// then; an error with another protocol. Properties build it from sasl.mechanism and
	// sasl.jaas.config (and the sasl.login.* and sasl.oauthbearer.* properties for
	// OAUTHBEARER). Connections re-authenticate before the broker's session lifetime
	// ends (KIP-368). Default none: Java's default mechanism, GSSAPI, is not supported.
	SASL sasl.Mechanism

	// KeySerializer is key.serializer: the Java class name of a built-in Kafka
	// serializer (e.g. org.apache.kafka.common.serialization.StringSerializer) or
	// of Confluent's registry serializers (io.confluent.kafka.serializers.KafkaAvroSerializer,
	// ...). The producer itself sends bytes and only checks the name; package
	// kprod/serde/byname builds the Go serializer it names. Default none.
	KeySerializer string
	// ValueSerializer is value.serializer, like KeySerializer. Default none.
	ValueSerializer string

	// SpoolDir is spool.dir, kprod's own: a directory where Send writes each record,
	// checksummed, before it returns, and from which records leave once the broker
	// acknowledged them; a new producer on the same directory delivers what a crashed
	// one left (see Spool in the README and RELIABILITY.md). One producer per directory.
	// Refused with TransactionalID. Default none: no spool.
	SpoolDir string
	// SpoolMaxBytes is spool.max.bytes, kprod's own: the spool files' total size; a
	// full spool blocks Send up to MaxBlock, as buffer.memory does. Default 1073741824
	// (1 GiB).
	SpoolMaxBytes int64
	// SpoolSync is spool.sync, kprod's own: when spooled records are fsynced.
	// Default SpoolSyncInterval.
	SpoolSync SpoolSync
	// SpoolSyncInterval is spool.sync.interval.ms, kprod's own: the fsync period of
	// SpoolSyncInterval. Default 1s.
	SpoolSyncInterval time.Duration
}

// ErrInvalidConfig matches every configuration error with errors.Is.
var ErrInvalidConfig = errors.New("kprod: invalid config")

// ConfigError reports an invalid property value. It matches ErrInvalidConfig.
type ConfigError struct {
	// Property is the Java property name, e.g. "linger.ms".
	Property string
	// Value is the offending value as Java would write it.
	Value string
	// Reason says what is wrong and, where it helps, what to do.
	Reason string
}

// Error returns "kprod: invalid config property=value: reason".
func (e *ConfigError) Error() string {
	return "kprod: invalid config " + e.Property + "=" + e.Value + ": " + e.Reason
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Validate checks c as creating a producer would: each value's range and Java's
// cross-field rules, and, for a protocol with TLS, the ssl.* settings including the
// stores they name (which it reads). The error joins one *ConfigError per problem.
func (c *Config) Validate() error {
	_, err := c.settings()
	return err
}

// producerSeq numbers generated client ids like Java's PRODUCER_CLIENT_ID_SEQUENCE.
var producerSeq atomic.Int64

// resolve returns the concrete settings a producer runs with, or the joined
// *ConfigErrors. It assigns the generated client id, so call it once per producer.
func (c *Config) resolve() (config.Settings, error) {
	s, err := c.settings()
	if err != nil {
		return config.Settings{}, err
	}
	if s.ClientID == "" {
		if s.TransactionalID != "" {
			s.ClientID = "producer-" + s.TransactionalID
		} else {
			s.ClientID = "producer-" + strconv.FormatInt(producerSeq.Add(1), 10)
		}
	}
	return s, nil
}

// settings applies the defaults and checks every rule, building the TLS
// configuration (reading the stores) when the protocol uses TLS.
func (c *Config) settings() (config.Settings, error) { return c.check(true) }

// check is settings; without loadTLS it reads no store. It returns the best-effort
// settings even with an error, for Properties; ClientID stays as configured.
func (c *Config) check(loadTLS bool) (config.Settings, error) {
	if errJavaDefaults != nil {
		return config.Settings{}, errJavaDefaults
	}
	if errProfiles != nil {
		return config.Settings{}, errProfiles
	}
	profile := c.Profile
	c = c.withProfile()
	d := &javaDefaults
	var errs []error
	bad := func(prop, value, reason string) {
		errs = append(errs, &ConfigError{Property: prop, Value: value, Reason: reason})
	}
	s := config.Settings{
		ClientID:        c.ClientID,
		TransactionalID: c.TransactionalID,
		KeySerializer:   c.KeySerializer,
		ValueSerializer: c.ValueSerializer,

		DeliveryTimeout:                 duration(c.DeliveryTimeout, d.DeliveryTimeout),
		RequestTimeout:                  duration(c.RequestTimeout, d.RequestTimeout),
		RetryBackoff:                    duration(c.RetryBackoff, d.RetryBackoff),
		RetryBackoffMax:                 duration(c.RetryBackoffMax, d.RetryBackoffMax),
		Linger:                          duration(c.Linger, d.Linger),
		MaxBlock:                        duration(c.MaxBlock, d.MaxBlock),
		PartitionerAvailabilityTimeout:  duration(c.PartitionerAvailabilityTimeout, d.PartitionerAvailabilityTimeout),
		TransactionTimeout:              duration(c.TransactionTimeout, d.TransactionTimeout),
		MetadataMaxAge:                  duration(c.MetadataMaxAge, d.MetadataMaxAge),
		MetadataMaxIdle:                 duration(c.MetadataMaxIdle, d.MetadataMaxIdle),
		ConnectionsMaxIdle:              duration(c.ConnectionsMaxIdle, d.ConnectionsMaxIdle),
		SocketConnectionSetupTimeout:    duration(c.SocketConnectionSetupTimeout, d.SocketConnectionSetupTimeout),
		SocketConnectionSetupTimeoutMax: duration(c.SocketConnectionSetupTimeoutMax, d.SocketConnectionSetupTimeoutMax),
		ReconnectBackoff:                duration(c.ReconnectBackoff, d.ReconnectBackoff),
		ReconnectBackoffMax:             duration(c.ReconnectBackoffMax, d.ReconnectBackoffMax),
		MetricsSampleWindow:             duration(c.MetricsSampleWindow, d.MetricsSampleWindow),

		PartitionerIgnoreKeys: c.PartitionerIgnoreKeys,
		PartitionerAdaptive:   c.PartitionerAdaptive.on(d.PartitionerAdaptive),
	}

	s.BootstrapServers, errs = checkServers(c.BootstrapServers, errs)

	invalid := checkNumbers(c, bad)
	var ok bool
	if s.Acks, ok = c.Acks.wire(); !ok {
		bad("acks", c.Acks.String(), "must be AcksAll, AcksLeader or AcksNone")
		s.Acks = config.AcksAll
	}
	s.Retries = max(pickInt(c.Retries, d.Retries), 0)       // NoRetries: retries=0
	s.BatchSize = max(pickInt(c.BatchSize, d.BatchSize), 0) // NoBatching: batch.size=0
	s.BufferMemory = c.BufferMemory
	if s.BufferMemory == 0 {
		s.BufferMemory = d.BufferMemory
	}
	s.MaxRequestSize = pickInt(c.MaxRequestSize, d.MaxRequestSize)
	s.MaxInFlight = pickInt(c.MaxInFlight, d.MaxInFlight)
	s.SendBufferBytes = pickInt(c.SendBufferBytes, d.SendBufferBytes)
	s.ReceiveBufferBytes = pickInt(c.ReceiveBufferBytes, d.ReceiveBufferBytes)
	s.MetricsNumSamples = pickInt(c.MetricsNumSamples, d.MetricsNumSamples)

	if s.Codec = int8(c.Compression); !c.Compression.valid() {
		bad("compression.type", c.Compression.String(), "must be none, gzip, snappy, lz4 or zstd")
		s.Codec = config.CodecNone
	}
	s.GzipLevel = pickInt(c.GzipLevel, d.GzipLevel)
	s.LZ4Level = pickInt(c.LZ4Level, d.LZ4Level)
	s.ZstdLevel = pickInt(c.ZstdLevel, d.ZstdLevel)

	if s.Partitioner, ok = c.PartitionerKind.wire(); !ok {
		bad("partitioner.class", c.PartitionerKind.String(), "must be PartitionerDefault or PartitionerRoundRobin")
	}
	if !c.PartitionerAdaptive.valid() {
		bad("partitioner.adaptive.partitioning.enable", c.PartitionerAdaptive.String(), "must be ToggleDefault, ToggleOn or ToggleOff")
	}
	for _, k := range [...]struct{ prop, class string }{
		{"key.serializer", c.KeySerializer}, {"value.serializer", c.ValueSerializer},
	} {
		if reason := checkSerializer(k.class); reason != "" {
			bad(k.prop, k.class, reason)
		}
	}
	if c.TransactionalID != "" && config.Trim(c.TransactionalID) == "" {
		bad("transactional.id", c.TransactionalID, "must not be blank")
	}

	errs = checkTimeouts(c, &s, invalid, errs)
	errs = checkIdempotence(c, d, &s, invalid, errs)
	errs = checkSecurity(c, &s, loadTLS, errs)
	errs = checkSpool(c, d, &s, errs)
	errs = checkPartitionMax(c, &s, invalid, errs)
	s.Profile = string(profile)
	errs = checkProfile(profile, &s, errs)
	return s, errors.Join(errs...)
}

// checkServers validates and normalizes bootstrap.servers.
func checkServers(servers []string, errs []error) ([]string, []error) {
	if len(servers) == 0 {
		return nil, append(errs, &ConfigError{Property: "bootstrap.servers", Reason: "is required: list at least one host:port"})
	}
	out := make([]string, 0, len(servers))
	seen := make(map[string]bool, len(servers))
	for _, srv := range servers {
		hp, err := config.NormalizeServer(config.Trim(srv))
		switch {
		case err != nil:
			errs = append(errs, &ConfigError{Property: "bootstrap.servers", Value: srv, Reason: err.Error()})
		case seen[hp]:
			errs = append(errs, &ConfigError{Property: "bootstrap.servers", Value: srv, Reason: "is listed twice"})
		default:
			seen[hp] = true
			out = append(out, hp)
		}
	}
	return out, errs
}

// checkTimeouts applies Java's rules between durations: delivery.timeout.ms >=
// linger.ms + request.timeout.ms, that sum capped at Integer.MAX_VALUE
// (KafkaProducer.configureDeliveryTimeout), and the clamping of each exponential
// backoff's start to its cap (ExponentialBackoff). Properties found invalid on their
// own (invalid) take no part.
func checkTimeouts(c *Config, s *config.Settings, invalid map[string]bool, errs []error) []error {
	const maxInt32ms = time.Duration(math.MaxInt32) * time.Millisecond
	floor := min(s.Linger, maxInt32ms) + min(s.RequestTimeout, maxInt32ms)
	floor = min(floor, maxInt32ms)
	if s.DeliveryTimeout < floor && !invalid["delivery.timeout.ms"] && !invalid["linger.ms"] && !invalid["request.timeout.ms"] {
		if c.DeliveryTimeout != 0 {
			errs = append(errs, &ConfigError{Property: "delivery.timeout.ms", Value: millis(s.DeliveryTimeout),
				Reason: "must be at least linger.ms + request.timeout.ms (" + millis(floor) + ")"})
		} else {
			// Java raises an unset delivery timeout instead of failing, so that a
			// larger linger or request timeout alone stays valid.
			s.DeliveryTimeout = floor
		}
	}
	if c.ReconnectBackoff != 0 && c.ReconnectBackoffMax == 0 {
		// CommonClientConfigs.postProcessReconnectBackoffConfigs: setting only
		// reconnect.backoff.ms disables the exponential growth.
		s.ReconnectBackoffMax = s.ReconnectBackoff
	}
	s.RetryBackoff = min(s.RetryBackoff, s.RetryBackoffMax)
	s.ReconnectBackoff = min(s.ReconnectBackoff, s.ReconnectBackoffMax)
	s.SocketConnectionSetupTimeout = min(s.SocketConnectionSetupTimeout, s.SocketConnectionSetupTimeoutMax)
	return errs
}

// checkIdempotence applies ProducerConfig.postProcessAndValidateIdempotenceConfigs
// of Kafka 4.x. Idempotence is on by default (KIP-679). Left at default, acks != all
// or retries == 0 turn it off silently; set explicitly, they are errors. More than 5
// requests in flight is an error whenever idempotence is on before those rules apply
// (Kafka 3.x turned idempotence off instead and warned that 4.0 would fail).
// transactional.id requires idempotence. Properties found invalid on their own
// (invalid) are not reported again.
func checkIdempotence(c *Config, d *Config, s *config.Settings, invalid map[string]bool, errs []error) []error {
	bad := func(prop, value, reason string) {
		errs = append(errs, &ConfigError{Property: prop, Value: value, Reason: reason})
	}
	if !c.Idempotence.valid() {
		bad("enable.idempotence", c.Idempotence.String(), "must be ToggleDefault, ToggleOn or ToggleOff")
	}
	explicit := c.Idempotence == ToggleOn
	on := c.Idempotence.on(d.Idempotence)
	why := ""
	if on {
		if s.Retries == 0 {
			if explicit && !invalid["retries"] {
				bad("retries", "0", "must be greater than 0 with enable.idempotence=true")
			}
			why = "retries=0"
		}
		if s.Acks != config.AcksAll {
			if explicit {
				bad("acks", c.Acks.String(), "must be all with enable.idempotence=true")
			}
			why = "acks=" + c.Acks.String()
		}
		if s.MaxInFlight > config.MaxInFlightForIdempotence && !invalid["max.in.flight.requests.per.connection"] {
			bad("max.in.flight.requests.per.connection", strconv.Itoa(s.MaxInFlight),
				"must be at most 5 while idempotence is enabled (Kafka's default); set enable.idempotence=false to allow more")
		}
		if why != "" {
			on = false
		}
	}
	s.Idempotent = on
	if s.TransactionalID != "" && !on {
		reason := "requires idempotence, but enable.idempotence=false"
		if why != "" {
			reason = "requires idempotence, which " + why + " turned off"
		}
		bad("transactional.id", s.TransactionalID, reason)
	}
	return errs
}

// duration resolves a duration field: 0 takes the default, negative means Kafka's 0.
func duration(v, def time.Duration) time.Duration {
	if v == 0 {
		v = def
	}
	return max(v, 0)
}

// pickInt resolves an integer field whose zero means the default.
func pickInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// checkSerializer returns why class is not a serializer class kprod can map, or "".
// The core only knows the names (Kafka's built-ins and Confluent's registry
// serializers); package kprod/serde/byname maps them to Go serializers, so the
// registry serializers stay out of the core's imports.
func checkSerializer(class string) string {
	if class == "" || builtinSerializers[class] || confluentSerializers[class] {
		return ""
	}
	if !javaClassName(class) {
		return "must be a fully qualified Java class name, e.g. " + serializationPackage + "StringSerializer"
	}
	return "unknown serializer class: kprod maps Kafka's built-in serializers (" + serializationPackage +
		"*Serializer) and Confluent's KafkaAvroSerializer, KafkaJsonSchemaSerializer and KafkaProtobufSerializer (package kprod/serde/byname); set a Go serializer in code"
}

// javaClassName reports whether s is a fully qualified Java class name: dotted
// identifiers (with $ for nested classes), at least one package part.
func javaClassName(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for i, r := range p {
			ok := r == '_' || r == '$' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))
			if !ok {
				return false
			}
		}
	}
	return true
}

// millis prints a duration as Java's millisecond count.
func millis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
