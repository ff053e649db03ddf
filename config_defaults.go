package kprod

import (
	"errors"
	"math"
	"strings"
	"time"

	"kprod/internal/config"
)

// ConfigEntry describes one Java producer property that kprod understands.
type ConfigEntry struct {
	// Property is the Java property name, e.g. "linger.ms".
	Property string
	// Field is the Config field the property sets, or "" when the property is
	// accepted for compatibility and ignored.
	Field string
	// Default is Kafka 4.x's default as Java's documentation prints it: "" for a
	// required or empty value, "null" for none.
	Default string
	// Doc is the property's meaning in one line.
	Doc string
}

// ConfigTable returns every producer property kprod accepts, in documentation
// order, with its Config field and default (a field of Config.SSL is written
// "SSL.Name"). Properties named sasl.* are accepted and ignored too while SASL is not
// supported.
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
	{ConfigEntry{"key.serializer", "KeySerializer", "", "Java class name of a built-in Kafka serializer for keys, mapped to a Go serializer."},
		setSerializer(func(c *Config) *string { return &c.KeySerializer }), func(s *config.Settings) string { return s.KeySerializer }, nil},
	{ConfigEntry{"value.serializer", "ValueSerializer", "", "Java class name of a built-in Kafka serializer for values, mapped to a Go serializer."},
		setSerializer(func(c *Config) *string { return &c.ValueSerializer }), func(s *config.Settings) string { return s.ValueSerializer }, nil},

	{ConfigEntry{"security.protocol", "SecurityProtocol", "PLAINTEXT", "PLAINTEXT or SSL (TLS, with a client certificate for mTLS); SASL_PLAINTEXT and SASL_SSL are not supported yet."},
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
	{ConfigEntry{"metrics.sample.window.ms", "", "30000", "Ignored: Java metrics sampling window."},
		ignoreInt(64, 0), nil, nil},
	{ConfigEntry{"metrics.num.samples", "", "2", "Ignored: Java metrics sample count."},
		ignoreInt(32, 1), nil, nil},
	{ConfigEntry{"metrics.recording.level", "", "INFO", "Ignored: Java metrics recording level (INFO, DEBUG or TRACE)."},
		setOneOf(false, "INFO", "DEBUG", "TRACE"), nil, nil},
	{ConfigEntry{"metric.reporters", "", "org.apache.kafka.common.metrics.JmxReporter", "Ignored: Java metrics reporter classes."},
		func(*Config, string) error { return nil }, nil, nil},
	{ConfigEntry{"auto.include.jmx.reporter", "", "true", "Ignored: Java JMX reporter switch (removed in Kafka 4.0)."},
		ignoreBool, nil, nil},
	{ConfigEntry{"enable.metrics.push", "", "true", "Ignored: kprod does not push client metrics (KIP-714)."},
		ignoreBool, nil, nil},
	{ConfigEntry{"config.providers", "", "", "Must be empty: Java ConfigProviders do not apply."},
		setEmptyList("Java config providers are not supported; resolve ${...} values before loading"), nil, nil},
	{ConfigEntry{"transaction.two.phase.commit.enable", "", "false", "Must be false: two-phase commit (KIP-939) is not supported yet."},
		setFalse("two-phase commit (KIP-939) is not supported yet"), nil, nil},
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
