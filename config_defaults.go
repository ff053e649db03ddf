package kprod

import (
	"errors"
	"math"
	"strings"
	"time"

	"github.com/kprod-io/kprod/internal/config"
)

// ConfigEntry describes one Java producer property that kprod understands.
type ConfigEntry struct {
	// Property is the Java property name, e.g. "linger.ms".
	Property string
	// Field is the Config field the property sets, or "" when it sets none of its
	// own: it is accepted for compatibility and ignored, or (Doc says "Builds SASL")
	// read with sasl.mechanism to build SASL.
	Field string
	// Default is Kafka 4.x's default as Java's documentation prints it: "" for a
	// required or empty value, "null" for none.
	Default string
	// Doc is the property's meaning in one line.
	Doc string
}

// ConfigTable returns every producer property kprod accepts, in documentation
// order, with its Config field and default (a field of Config.SSL is written
// "SSL.Name").
func ConfigTable() []ConfigEntry {
	out := make([]ConfigEntry, len(configTable))
	for i, p := range configTable {
		out[i] = p.ConfigEntry
	}
	return out
}

// property is a row of configTable: the documented entry plus how to parse a Java
// value into Config and how to print a resolved setting back.
type property struct {
	ConfigEntry
	// set parses a trimmed Java value into c, or returns the reason it is invalid;
	// nil for numeric properties, which num parses.
	set func(c *Config, v string) error
	// get prints the resolved value; nil for ignored properties.
	get func(s *config.Settings) string
	// num maps a numeric property onto its field and holds its valid range, which
	// both ConfigFromProperties and Config's validation check; nil otherwise.
	num *numeric
}

// parse sets c from the trimmed Java value v, or returns the reason it is invalid.
func (p *property) parse(c *Config, v string) error {
	if p.num != nil {
		return p.num.parse(c, v)
	}
	return p.set(c, v)
}

// configTable is the single source of the defaults: resolution starts from
// javaDefaults, which is this table's Default column parsed by each row's set.
//
// Numeric rows carry Java 4.4's ConfigDef ranges, which ConfigFromProperties and
// Config's validation both check. Where Java's range admits a value that cannot work,
// kprod refuses it up front: buffer.memory=0 and max.request.size=0 (every record
// would be too large), send/receive.buffer.bytes=0 (the socket refuses it), and
// negative transaction.timeout.ms (the coordinator refuses it), connections.max.idle.ms
// and socket.connection.setup.timeout(.max).ms, which Java leaves unchecked.
var configTable = []property{
	{ConfigEntry{"bootstrap.servers", "BootstrapServers", "", "Comma-separated host:port pairs used to discover the cluster; required."},
		setServers, func(s *config.Settings) string { return strings.Join(s.BootstrapServers, ",") }, nil},
	{ConfigEntry{"client.id", "ClientID", "", `Name sent with every request; "" means "producer-N" (or "producer-<transactional.id>").`},
		setString(func(c *Config) *string { return &c.ClientID }), func(s *config.Settings) string { return s.ClientID }, nil},
	{ConfigEntry{"delivery.profile", "Profile", "null", "kprod's own: a delivery mode (at-most-once, at-least-once, exactly-once, exactly-once-transactional, high-throughput, low-latency) filling the properties not set and checking its promise."},
		setProfile, func(s *config.Settings) string { return s.Profile }, nil},
	{ConfigEntry{"acks", "Acks", "all", "Replicas that must have a record before it is acknowledged: all (-1), 1 (leader) or 0 (none)."},
		setAcks, func(s *config.Settings) string { return acksName(s.Acks) }, nil},
	{ConfigEntry{"enable.idempotence", "Idempotence", "true", "Exactly one copy per record per partition, in order, using producer ids and sequence numbers."},
		setToggle(func(c *Config) *Toggle { return &c.Idempotence }), func(s *config.Settings) string { return formatBool(s.Idempotent) }, nil},
	{ConfigEntry{"retries", "Retries", "2147483647", "Resends of a batch failing with a retriable error, bounded by delivery.timeout.ms."},
		nil, func(s *config.Settings) string { return formatInt(s.Retries) }, intField(32, between(0, math.MaxInt32), true, func(c *Config) *int { return &c.Retries })},
	{ConfigEntry{"delivery.timeout.ms", "DeliveryTimeout", "120000", "Upper bound from send to success or failure; at least linger.ms + request.timeout.ms."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.DeliveryTimeout }), millisField(32, between(0, math.MaxInt32), func(c *Config) *time.Duration { return &c.DeliveryTimeout })},
	{ConfigEntry{"request.timeout.ms", "RequestTimeout", "30000", "How long to wait for a response before retrying or failing the request."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.RequestTimeout }), millisField(32, between(0, math.MaxInt32), func(c *Config) *time.Duration { return &c.RequestTimeout })},
	{ConfigEntry{"retry.backoff.ms", "RetryBackoff", "100", "First wait before retrying a failed request."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.RetryBackoff }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.RetryBackoff })},
	{ConfigEntry{"retry.backoff.max.ms", "RetryBackoffMax", "1000", "Cap of the exponential, jittered retry backoff (KIP-580)."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.RetryBackoffMax }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.RetryBackoffMax })},
	{ConfigEntry{"linger.ms", "Linger", "5", "How long a partition's batch waits for more records before it is sent (0 before Kafka 4.0)."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.Linger }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.Linger })},
	{ConfigEntry{"batch.size", "BatchSize", "16384", "Target size in bytes of one partition's batch."},
		nil, func(s *config.Settings) string { return formatInt(s.BatchSize) }, intField(32, atLeast(0), true, func(c *Config) *int { return &c.BatchSize })},
	{ConfigEntry{"buffer.memory", "BufferMemory", "33554432", "Bytes of unsent records the producer may hold before send blocks."},
		nil, func(s *config.Settings) string { return formatInt(s.BufferMemory) }, intField(64, atLeast(1), false, func(c *Config) *int64 { return &c.BufferMemory })},
	{ConfigEntry{"buffer.memory.partition.max", "BufferMemoryPartitionMax", "0", "kprod's own: most bytes of buffer.memory one partition may hold, so a stalled leader's partitions cannot block sends to the others; 0: no bound (Java's behaviour)."},
		nil, func(s *config.Settings) string { return formatInt(s.BufferMemoryPartitionMax) }, intField(64, atLeast(0), false, func(c *Config) *int64 { return &c.BufferMemoryPartitionMax })},
	{ConfigEntry{"max.block.ms", "MaxBlock", "60000", "How long send and the transaction calls may block for metadata or buffer space."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.MaxBlock }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.MaxBlock })},
	{ConfigEntry{"max.request.size", "MaxRequestSize", "1048576", "Largest request in bytes, and so the largest uncompressed record."},
		nil, func(s *config.Settings) string { return formatInt(s.MaxRequestSize) }, intField(32, atLeast(1), false, func(c *Config) *int { return &c.MaxRequestSize })},
	{ConfigEntry{"max.in.flight.requests.per.connection", "MaxInFlight", "5", "Unacknowledged requests per broker connection; at most 5 with idempotence."},
		nil, func(s *config.Settings) string { return formatInt(s.MaxInFlight) }, intField(32, atLeast(1), false, func(c *Config) *int { return &c.MaxInFlight })},
	{ConfigEntry{"compression.type", "Compression", "none", "Batch compression: none, gzip, snappy, lz4 or zstd."},
		setCompression, func(s *config.Settings) string { return Compression(s.Codec).String() }, nil},
	{ConfigEntry{"compression.gzip.level", "GzipLevel", "-1", "Gzip level: 1-9, or -1 for deflate's default (6)."},
		nil, func(s *config.Settings) string { return formatInt(s.GzipLevel) }, intField(32, gzipLevel, false, func(c *Config) *int { return &c.GzipLevel })},
	{ConfigEntry{"compression.lz4.level", "LZ4Level", "9", "LZ4 level: 1-17."},
		nil, func(s *config.Settings) string { return formatInt(s.LZ4Level) }, intField(32, between(config.LZ4MinLevel, config.LZ4MaxLevel), false, func(c *Config) *int { return &c.LZ4Level })},
	{ConfigEntry{"compression.zstd.level", "ZstdLevel", "3", "Zstd level: -131072 to 22."},
		nil, func(s *config.Settings) string { return formatInt(s.ZstdLevel) }, intField(32, between(config.ZstdMinLevel, config.ZstdMaxLevel), false, func(c *Config) *int { return &c.ZstdLevel })},
	{ConfigEntry{"partitioner.class", "PartitionerKind", "null", "Built-in partitioner: null (default: murmur2 keys, sticky otherwise) or RoundRobinPartitioner."},
		setPartitioner, getPartitioner, nil},
	{ConfigEntry{"partitioner.ignore.keys", "PartitionerIgnoreKeys", "false", "Spread keyed records like unkeyed ones instead of hashing their keys."},
		setBool(func(c *Config) *bool { return &c.PartitionerIgnoreKeys }), func(s *config.Settings) string { return formatBool(s.PartitionerIgnoreKeys) }, nil},
	{ConfigEntry{"partitioner.adaptive.partitioning.enable", "PartitionerAdaptive", "true", "Send more unkeyed records to partitions on faster brokers (KIP-794)."},
		setToggle(func(c *Config) *Toggle { return &c.PartitionerAdaptive }), func(s *config.Settings) string { return formatBool(s.PartitionerAdaptive) }, nil},
	{ConfigEntry{"partitioner.availability.timeout.ms", "PartitionerAvailabilityTimeout", "0", "Skip a partition whose broker made no progress this long; 0 disables."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.PartitionerAvailabilityTimeout }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.PartitionerAvailabilityTimeout })},
	{ConfigEntry{"transactional.id", "TransactionalID", "null", "Enables transactions and fences older producers with the same id; requires idempotence."},
		setTransactionalID, func(s *config.Settings) string { return s.TransactionalID }, nil},
	{ConfigEntry{"transaction.timeout.ms", "TransactionTimeout", "60000", "How long the coordinator lets a transaction stay open before aborting it."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.TransactionTimeout }), millisField(32, between(0, math.MaxInt32), func(c *Config) *time.Duration { return &c.TransactionTimeout })},
	{ConfigEntry{"metadata.max.age.ms", "MetadataMaxAge", "300000", "Refresh metadata at least this often."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.MetadataMaxAge }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.MetadataMaxAge })},
	{ConfigEntry{"metadata.max.idle.ms", "MetadataMaxIdle", "300000", "Forget the metadata of a topic not produced to this long; at least 5000."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.MetadataMaxIdle }), millisField(64, atLeast(5000), func(c *Config) *time.Duration { return &c.MetadataMaxIdle })},
	{ConfigEntry{"connections.max.idle.ms", "ConnectionsMaxIdle", "540000", "Close connections idle this long."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.ConnectionsMaxIdle }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.ConnectionsMaxIdle })},
	{ConfigEntry{"socket.connection.setup.timeout.ms", "SocketConnectionSetupTimeout", "10000", "First connection attempt's timeout, growing exponentially on failures."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.SocketConnectionSetupTimeout }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.SocketConnectionSetupTimeout })},
	{ConfigEntry{"socket.connection.setup.timeout.max.ms", "SocketConnectionSetupTimeoutMax", "30000", "Cap of the connection setup timeout."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.SocketConnectionSetupTimeoutMax }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.SocketConnectionSetupTimeoutMax })},
	{ConfigEntry{"reconnect.backoff.ms", "ReconnectBackoff", "50", "First wait before reconnecting to a broker."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.ReconnectBackoff }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.ReconnectBackoff })},
	{ConfigEntry{"reconnect.backoff.max.ms", "ReconnectBackoffMax", "1000", "Cap of the exponential reconnect backoff (reconnect.backoff.ms if only that is set)."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.ReconnectBackoffMax }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.ReconnectBackoffMax })},
	{ConfigEntry{"send.buffer.bytes", "SendBufferBytes", "131072", "Socket send buffer (SO_SNDBUF); -1 keeps the operating system's size."},
		nil, func(s *config.Settings) string { return formatInt(s.SendBufferBytes) }, intField(32, socketBuffer, false, func(c *Config) *int { return &c.SendBufferBytes })},
	{ConfigEntry{"receive.buffer.bytes", "ReceiveBufferBytes", "32768", "Socket receive buffer (SO_RCVBUF); -1 keeps the operating system's size."},
		nil, func(s *config.Settings) string { return formatInt(s.ReceiveBufferBytes) }, intField(32, socketBuffer, false, func(c *Config) *int { return &c.ReceiveBufferBytes })},
	{ConfigEntry{"key.serializer", "KeySerializer", "", "Java class name of a Kafka built-in or Confluent registry serializer for keys; package kprod/serde/byname builds it."},
		setSerializer(func(c *Config) *string { return &c.KeySerializer }), func(s *config.Settings) string { return s.KeySerializer }, nil},
	{ConfigEntry{"value.serializer", "ValueSerializer", "", "Java class name of a Kafka built-in or Confluent registry serializer for values; package kprod/serde/byname builds it."},
		setSerializer(func(c *Config) *string { return &c.ValueSerializer }), func(s *config.Settings) string { return s.ValueSerializer }, nil},
	{ConfigEntry{"spool.dir", "SpoolDir", "null", "kprod's own: directory of the durable local spool; Send returns once the record is written there, and records leave it when acknowledged."},
		setSpoolDir, func(s *config.Settings) string { return s.SpoolDir }, nil},
	{ConfigEntry{"spool.max.bytes", "SpoolMaxBytes", "1073741824", "kprod's own: size limit of the spool files; a full spool blocks send up to max.block.ms."},
		nil, func(s *config.Settings) string { return formatInt(s.SpoolMaxBytes) }, intField(64, atLeast(1), false, func(c *Config) *int64 { return &c.SpoolMaxBytes })},
	{ConfigEntry{"spool.sync", "SpoolSync", "interval", "kprod's own: when spooled records are fsynced: always (before send returns), interval (every spool.sync.interval.ms) or none."},
		setSpoolSync, func(s *config.Settings) string { return SpoolSync(s.SpoolSync).String() }, nil},
	{ConfigEntry{"spool.sync.interval.ms", "SpoolSyncInterval", "1000", "kprod's own: fsync period of spool.sync=interval."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.SpoolSyncInterval }), millisField(64, atLeast(1), func(c *Config) *time.Duration { return &c.SpoolSyncInterval })},

	{ConfigEntry{"security.protocol", "SecurityProtocol", "PLAINTEXT", "PLAINTEXT, SSL (TLS, with a client certificate for mTLS), SASL_PLAINTEXT or SASL_SSL (SASL authentication)."},
		setSecurityProtocol, func(s *config.Settings) string { return s.SecurityProtocol }, nil},
	{ConfigEntry{"ssl.protocol", "SSL.Protocol", "TLSv1.3", "TLSv1.3 or TLS allow TLS 1.2 and 1.3; TLSv1.2 caps at TLS 1.2."},
		setString(func(c *Config) *string { return &c.SSL.Protocol }), func(s *config.Settings) string { return s.SSL.Protocol }, nil},
	{ConfigEntry{"ssl.enabled.protocols", "SSL.EnabledProtocols", "TLSv1.2,TLSv1.3", "TLS versions to allow; TLSv1.1 and older are ignored, as Java's default security policy does."},
		setList(func(c *Config) *[]string { return &c.SSL.EnabledProtocols }), func(s *config.Settings) string { return strings.Join(s.SSL.EnabledProtocols, ",") }, nil},
	{ConfigEntry{"ssl.cipher.suites", "SSL.CipherSuites", "null", "TLS 1.2 suites by IANA name; Go cannot restrict TLS 1.3's three suites: list all or none (none disables TLS 1.3)."},
		setList(func(c *Config) *[]string { return &c.SSL.CipherSuites }), func(s *config.Settings) string { return strings.Join(s.SSL.CipherSuites, ",") }, nil},
	{ConfigEntry{"ssl.endpoint.identification.algorithm", "SSL.EndpointIdentification", "https", `https checks the broker's host name against its certificate; "" checks only the chain.`},
		setEndpointIdentification, func(s *config.Settings) string { return s.SSL.EndpointIdentification }, nil},
	{ConfigEntry{"ssl.truststore.type", "SSL.TruststoreType", "JKS", "JKS, PKCS12 or PEM (either of JKS and PKCS12 reads both, as in Java)."},
		setString(func(c *Config) *string { return &c.SSL.TruststoreType }), func(s *config.Settings) string { return s.SSL.TruststoreType }, nil},
	{ConfigEntry{"ssl.truststore.location", "SSL.TruststoreLocation", "null", "File of the trusted CA certificates; none trusts the system's roots."},
		setString(func(c *Config) *string { return &c.SSL.TruststoreLocation }), func(s *config.Settings) string { return s.SSL.TruststoreLocation }, nil},
	{ConfigEntry{"ssl.truststore.password", "SSL.TruststorePassword", "null", "Password of a JKS or PKCS12 truststore; never for PEM."},
		setPassword(func(c *Config) *Password { return &c.SSL.TruststorePassword }), getPassword(func(s *config.Settings) string { return s.SSL.TruststorePassword }), nil},
	{ConfigEntry{"ssl.truststore.certificates", "SSL.TruststoreCertificates", "null", "Trusted certificates as inline PEM, with ssl.truststore.type=PEM."},
		setString(func(c *Config) *string { return &c.SSL.TruststoreCertificates }), func(s *config.Settings) string { return s.SSL.TruststoreCertificates }, nil},
	{ConfigEntry{"ssl.keystore.type", "SSL.KeystoreType", "JKS", "JKS, PKCS12 or PEM (a PEM file holds the private key, then the certificate chain)."},
		setString(func(c *Config) *string { return &c.SSL.KeystoreType }), func(s *config.Settings) string { return s.SSL.KeystoreType }, nil},
	{ConfigEntry{"ssl.keystore.location", "SSL.KeystoreLocation", "null", "File of the client certificate and key, for brokers requiring one (mTLS)."},
		setString(func(c *Config) *string { return &c.SSL.KeystoreLocation }), func(s *config.Settings) string { return s.SSL.KeystoreLocation }, nil},
	{ConfigEntry{"ssl.keystore.password", "SSL.KeystorePassword", "null", "Password of a JKS or PKCS12 keystore; never for PEM."},
		setPassword(func(c *Config) *Password { return &c.SSL.KeystorePassword }), getPassword(func(s *config.Settings) string { return s.SSL.KeystorePassword }), nil},
	{ConfigEntry{"ssl.keystore.key", "SSL.KeystoreKey", "null", "Client private key as inline PEM (PKCS#8, encrypted with PBES1 or PBES2 given ssl.key.password), with ssl.keystore.type=PEM."},
		setPassword(func(c *Config) *Password { return &c.SSL.KeystoreKey }), getPassword(func(s *config.Settings) string { return s.SSL.KeystoreKey }), nil},
	{ConfigEntry{"ssl.keystore.certificate.chain", "SSL.KeystoreCertificateChain", "null", "Client certificate chain as inline PEM, with ssl.keystore.key."},
		setString(func(c *Config) *string { return &c.SSL.KeystoreCertificateChain }), func(s *config.Settings) string { return s.SSL.KeystoreCertificateChain }, nil},
	{ConfigEntry{"ssl.key.password", "SSL.KeyPassword", "null", "Password of an encrypted PEM key, or of a JKS key entry (default: the keystore password)."},
		setPassword(func(c *Config) *Password { return &c.SSL.KeyPassword }), getPassword(func(s *config.Settings) string { return s.SSL.KeyPassword }), nil},

	// Accepted for compatibility; they set nothing.
	{ConfigEntry{"ssl.provider", "", "null", "Must be unset: Java security providers do not apply (kprod uses Go's crypto/tls)."},
		setJavaOnly("ssl.provider"), nil, nil},
	{ConfigEntry{"ssl.keymanager.algorithm", "", "SunX509", "Must be Java's default key manager (SunX509, or NewSunX509 / PKIX)."},
		setJavaOnly("ssl.keymanager.algorithm"), nil, nil},
	{ConfigEntry{"ssl.trustmanager.algorithm", "", "PKIX", "Must be Java's default trust manager, PKIX."},
		setJavaOnly("ssl.trustmanager.algorithm"), nil, nil},
	{ConfigEntry{"ssl.secure.random.implementation", "", "null", "Must be unset: kprod uses Go's crypto/rand."},
		setJavaOnly("ssl.secure.random.implementation"), nil, nil},
	{ConfigEntry{"ssl.engine.factory.class", "", "null", "Must be unset: a Java SslEngineFactory cannot run in Go; set Config.TLS instead."},
		setJavaOnly("ssl.engine.factory.class"), nil, nil},
	{ConfigEntry{"interceptor.classes", "", "", "Must be empty: Go interceptors are set in code."},
		setInterceptors, nil, nil},
	{ConfigEntry{"security.providers", "", "null", "Must be empty: Java security providers do not apply."},
		setEmptyList("Java security providers are not supported yet"), nil, nil},
	{ConfigEntry{"client.dns.lookup", "", "use_all_dns_ips", "Ignored: kprod dials each bootstrap address as Go's resolver returns it."},
		setOneOf(false, "use_all_dns_ips", "resolve_canonical_bootstrap_servers_only"), nil, nil},
	{ConfigEntry{"metadata.recovery.strategy", "", "rebootstrap", "Ignored: accepted as none or rebootstrap (KIP-899)."},
		setOneOf(true, "none", "rebootstrap"), nil, nil},
	{ConfigEntry{"metadata.recovery.rebootstrap.trigger.ms", "", "300000", "Ignored: accepted when a valid duration (KIP-1102)."},
		ignoreInt(64, 0), nil, nil},
	{ConfigEntry{"metrics.sample.window.ms", "MetricsSampleWindow", "30000", "Length of each window of the windowed metrics (-rate, -avg, -max)."},
		nil, getMS(func(s *config.Settings) time.Duration { return s.MetricsSampleWindow }), millisField(64, atLeast(0), func(c *Config) *time.Duration { return &c.MetricsSampleWindow })},
	{ConfigEntry{"metrics.num.samples", "MetricsNumSamples", "2", "Number of windows the windowed metrics keep."},
		nil, func(s *config.Settings) string { return formatInt(s.MetricsNumSamples) }, intField(32, atLeast(1), false, func(c *Config) *int { return &c.MetricsNumSamples })},
	{ConfigEntry{"metrics.recording.level", "", "INFO", "Accepted (INFO, DEBUG or TRACE): every kprod metric is INFO level, so each level records them all."},
		setOneOf(false, "INFO", "DEBUG", "TRACE"), nil, nil},
	{ConfigEntry{"metric.reporters", "", "org.apache.kafka.common.metrics.JmxReporter", "Must be empty or JmxReporter: there is no JMX; read Producer.Metrics or use an exporter module."},
		setMetricReporters, nil, nil},
	{ConfigEntry{"auto.include.jmx.reporter", "", "true", "Ignored: Java JMX reporter switch (removed in Kafka 4.0)."},
		ignoreBool, nil, nil},
	{ConfigEntry{"enable.metrics.push", "", "true", "Ignored: kprod does not push client metrics (KIP-714)."},
		ignoreBool, nil, nil},
	{ConfigEntry{"config.providers", "", "", "Must be empty: Java ConfigProviders do not apply."},
		setEmptyList("Java config providers are not supported; resolve ${...} values before loading"), nil, nil},
	{ConfigEntry{"transaction.two.phase.commit.enable", "", "false", "Must be false: two-phase commit (KIP-939) is not supported yet."},
		setFalse("two-phase commit (KIP-939) is not supported yet"), nil, nil},

	// SASL (config_sasl.go): with security.protocol SASL_*, sasl.mechanism and
	// sasl.jaas.config build SASL; the rest tune OAUTHBEARER or are Kerberos's or the
	// broker's. Ignored on other protocols, as in Java.
	{ConfigEntry{"sasl.mechanism", "SASL", "GSSAPI", "SASL mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER, with sasl.jaas.config; GSSAPI (Kerberos) is not supported."},
		setSASLMechanism, getSASLMechanism, nil},
	{ConfigEntry{"sasl.jaas.config", "", "null", "Builds SASL: one login module (PlainLoginModule, ScramLoginModule or OAuthBearerLoginModule) and its options, parsed as Java does; secret, never printed."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.client.callback.handler.class", "", "null", "Must be empty: give a sasl.Mechanism in Config.SASL instead."},
		setEmpty("Java callback handlers cannot run in Go; give a sasl.Mechanism in Config.SASL"), nil, nil},
	{ConfigEntry{"sasl.login.callback.handler.class", "", "null", "Builds SASL: empty, or OAuthBearerLoginCallbackHandler for tokens from sasl.oauthbearer.token.endpoint.url (KIP-768)."},
		setClass("kprod maps only "+oauthLoginHandler+" (KIP-768 client credentials); give a sasl.Mechanism or sasl.TokenSource in Config.SASL", oauthLoginHandler, oauthLoginHandler3), nil, nil},
	{ConfigEntry{"sasl.login.class", "", "null", "Must be empty: give a sasl.Mechanism in Config.SASL instead."},
		setEmpty("Java login classes cannot run in Go; give a sasl.Mechanism in Config.SASL"), nil, nil},
	{ConfigEntry{"sasl.login.connect.timeout.ms", "", "null", "Builds SASL: connect timeout of token endpoint requests (KIP-768); null: none."},
		ignoreInt(32, 0), nil, nil},
	{ConfigEntry{"sasl.login.read.timeout.ms", "", "null", "Builds SASL: read timeout of token endpoint requests (KIP-768); null: none."},
		ignoreInt(32, 0), nil, nil},
	{ConfigEntry{"sasl.login.retry.backoff.ms", "", "100", "Builds SASL: first wait before retrying a token endpoint request."},
		ignoreInt(64, 0), nil, nil},
	{ConfigEntry{"sasl.login.retry.backoff.max.ms", "", "10000", "Builds SASL: how long token endpoint requests are retried, the backoff doubling."},
		ignoreInt(64, 0), nil, nil},
	{ConfigEntry{"sasl.login.refresh.window.factor", "", "0.8", "Builds SASL: refresh an OAuth token after this fraction of its lifetime, 0.5 to 1.0."},
		ignoreDouble(0.5, 1.0), nil, nil},
	{ConfigEntry{"sasl.login.refresh.window.jitter", "", "0.05", "Builds SASL: random fraction of the lifetime, up to this, added to the window, 0 to 0.25."},
		ignoreDouble(0, 0.25), nil, nil},
	{ConfigEntry{"sasl.login.refresh.min.period.seconds", "", "60", "Builds SASL: least time between OAuth token refreshes, 0 to 900."},
		ignoreIntRange(16, 0, 900), nil, nil},
	{ConfigEntry{"sasl.login.refresh.buffer.seconds", "", "300", "Builds SASL: refresh an OAuth token at least this long before it expires, 0 to 3600."},
		ignoreIntRange(16, 0, 3600), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.token.endpoint.url", "", "null", "Builds SASL: the OAuth token endpoint for the client credentials grant (KIP-768)."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.client.credentials.client.id", "", "null", "Builds SASL: OAuth client id; wins over the JAAS option clientId."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.client.credentials.client.secret", "", "null", "Builds SASL: OAuth client secret; wins over the JAAS option clientSecret; never printed."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.scope", "", "null", "Builds SASL: scope asked of the token endpoint; wins over the JAAS option scope."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.scope.claim.name", "", "scope", "Builds SASL: the token's scope claim."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.sub.claim.name", "", "sub", "Builds SASL: the token's subject claim, which must be present."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.header.urlencode", "", "false", "Builds SASL: URL-encode the client id and secret in the token request (KIP-1025)."},
		ignoreBool, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.jwt.retriever.class", "", oauthPackage + "DefaultJwtRetriever", "Must be DefaultJwtRetriever or ClientCredentialsJwtRetriever: tokens come from the token endpoint."},
		setClass("kprod maps only DefaultJwtRetriever and ClientCredentialsJwtRetriever; give a sasl.TokenSource in Config.SASL",
			oauthPackage+"DefaultJwtRetriever", oauthPackage+"ClientCredentialsJwtRetriever"), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.jwt.validator.class", "", oauthPackage + "DefaultJwtValidator", "Must be DefaultJwtValidator or ClientJwtValidator: the client reads the token's exp and subject."},
		setClass("kprod maps only DefaultJwtValidator and ClientJwtValidator", oauthPackage+"DefaultJwtValidator", oauthPackage+"ClientJwtValidator"), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.file", "", "null", "Must be empty: the jwt-bearer grant (KIP-1139) is not supported."},
		setEmpty("the jwt-bearer grant (KIP-1139) is not supported; give a sasl.TokenSource in Config.SASL"), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.private.key.file", "", "null", "Must be empty: the jwt-bearer grant (KIP-1139) is not supported."},
		setEmpty("the jwt-bearer grant (KIP-1139) is not supported; give a sasl.TokenSource in Config.SASL"), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.template.file", "", "null", "Must be empty: the jwt-bearer grant (KIP-1139) is not supported."},
		setEmpty("the jwt-bearer grant (KIP-1139) is not supported; give a sasl.TokenSource in Config.SASL"), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.private.key.passphrase", "", "null", "Ignored: jwt-bearer grant (KIP-1139) setting."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.algorithm", "", "RS256", "Ignored: jwt-bearer grant (KIP-1139) setting, ES256 or RS256."},
		setOneOf(true, "ES256", "RS256"), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.claim.aud", "", "null", "Ignored: jwt-bearer grant (KIP-1139) setting."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.claim.iss", "", "null", "Ignored: jwt-bearer grant (KIP-1139) setting."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.claim.sub", "", "null", "Ignored: jwt-bearer grant (KIP-1139) setting."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.claim.exp.seconds", "", "300", "Ignored: jwt-bearer grant (KIP-1139) setting, 0 to 86400."},
		ignoreIntRange(32, 0, 86400), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.claim.nbf.seconds", "", "60", "Ignored: jwt-bearer grant (KIP-1139) setting, 0 to 3600."},
		ignoreIntRange(32, 0, 3600), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.assertion.claim.jti.include", "", "false", "Ignored: jwt-bearer grant (KIP-1139) setting."},
		ignoreBool, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.expected.audience", "", "", "Ignored: the broker validates tokens."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.expected.issuer", "", "null", "Ignored: the broker validates tokens."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.allow.unverified.audience", "", "false", "Ignored: the broker validates tokens."},
		ignoreBool, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.allow.unverified.issuer", "", "false", "Ignored: the broker validates tokens."},
		ignoreBool, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.clock.skew.seconds", "", "30", "Ignored: the broker validates tokens."},
		ignoreInt(32, math.MinInt32), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.jwks.endpoint.url", "", "null", "Ignored: the broker validates tokens."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.oauthbearer.jwks.endpoint.refresh.ms", "", "3600000", "Ignored: the broker validates tokens."},
		ignoreInt(64, math.MinInt64), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", "", "100", "Ignored: the broker validates tokens."},
		ignoreInt(64, math.MinInt64), nil, nil},
	{ConfigEntry{"sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms", "", "10000", "Ignored: the broker validates tokens."},
		ignoreInt(64, math.MinInt64), nil, nil},
	{ConfigEntry{"sasl.kerberos.service.name", "", "null", "Ignored: Kerberos (GSSAPI) is not supported."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.kerberos.kinit.cmd", "", "/usr/bin/kinit", "Ignored: Kerberos (GSSAPI) is not supported."},
		ignoreString, nil, nil},
	{ConfigEntry{"sasl.kerberos.min.time.before.relogin", "", "60000", "Ignored: Kerberos (GSSAPI) is not supported."},
		ignoreInt(64, math.MinInt64), nil, nil},
	{ConfigEntry{"sasl.kerberos.ticket.renew.jitter", "", "0.05", "Ignored: Kerberos (GSSAPI) is not supported."},
		ignoreDouble(math.Inf(-1), math.Inf(1)), nil, nil},
	{ConfigEntry{"sasl.kerberos.ticket.renew.window.factor", "", "0.8", "Ignored: Kerberos (GSSAPI) is not supported."},
		ignoreDouble(math.Inf(-1), math.Inf(1)), nil, nil},
}

// propertyIndex finds a configTable row by property name.
var propertyIndex = func() map[string]*property {
	m := make(map[string]*property, len(configTable))
	for i := range configTable {
		m[configTable[i].Property] = &configTable[i]
	}
	return m
}()

// javaDefaults is configTable's Default column parsed into a Config; resolution
// takes every unset field from it. errJavaDefaults is non-nil only if the table is
// broken, which a test rules out.
var javaDefaults, errJavaDefaults = parseDefaults()

// parseDefaults parses the Default column of every field-setting row.
func parseDefaults() (Config, error) {
	var c Config
	for _, p := range configTable {
		if p.Field == "" || p.Default == "" || p.Default == "null" {
			continue
		}
		if err := p.parse(&c, p.Default); err != nil {
			return Config{}, errors.New("kprod: internal error: default " + p.Property + "=" + p.Default + ": " + err.Error())
		}
	}
	return c, nil
}
