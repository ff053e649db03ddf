package kprod

import (
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleValues holds a valid, non-default value for every field-setting property.
var sampleValues = map[string]string{
	"bootstrap.servers":                        "a:1,b:2",
	"client.id":                                "app",
	"delivery.profile":                         "exactly-once",
	"acks":                                     "1",
	"enable.idempotence":                       "false",
	"retries":                                  "3",
	"delivery.timeout.ms":                      "90000",
	"request.timeout.ms":                       "15000",
	"retry.backoff.ms":                         "10",
	"retry.backoff.max.ms":                     "500",
	"linger.ms":                                "0",
	"batch.size":                               "1000",
	"buffer.memory":                            "1000000",
	"buffer.memory.partition.max":              "500000",
	"max.block.ms":                             "0",
	"max.request.size":                         "2000000",
	"max.in.flight.requests.per.connection":    "1",
	"compression.type":                         "zstd",
	"compression.gzip.level":                   "9",
	"compression.lz4.level":                    "17",
	"compression.zstd.level":                   "-5",
	"partitioner.class":                        "org.apache.kafka.clients.producer.RoundRobinPartitioner",
	"partitioner.ignore.keys":                  "true",
	"partitioner.adaptive.partitioning.enable": "false",
	"partitioner.availability.timeout.ms":      "2000",
	"transactional.id":                         "tx-1",
	"transaction.timeout.ms":                   "30000",
	"metadata.max.age.ms":                      "0",
	"metadata.max.idle.ms":                     "5000",
	"connections.max.idle.ms":                  "1000",
	"metrics.sample.window.ms":                 "1000",
	"metrics.num.samples":                      "3",
	"socket.connection.setup.timeout.ms":       "1",
	"socket.connection.setup.timeout.max.ms":   "2",
	"reconnect.backoff.ms":                     "0",
	"reconnect.backoff.max.ms":                 "10",
	"send.buffer.bytes":                        "-1",
	"receive.buffer.bytes":                     "65536",
	"key.serializer":                           "org.apache.kafka.common.serialization.StringSerializer",
	"value.serializer":                         "org.apache.kafka.common.serialization.UUIDSerializer",
	"security.protocol":                        "SSL",
	"ssl.protocol":                             "TLSv1.2",
	"ssl.enabled.protocols":                    "TLSv1.2",
	"ssl.cipher.suites":                        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ssl.endpoint.identification.algorithm":    "",
	"ssl.truststore.type":                      "PKCS12",
	"ssl.truststore.location":                  "/etc/kafka/truststore.p12",
	"ssl.truststore.password":                  "secret",
	"ssl.truststore.certificates":              "-----BEGIN CERTIFICATE-----",
	"ssl.keystore.type":                        "PEM",
	"ssl.keystore.location":                    "/etc/kafka/keystore.pem",
	"ssl.keystore.password":                    "secret",
	"ssl.keystore.key":                         "-----BEGIN PRIVATE KEY-----",
	"ssl.keystore.certificate.chain":           "-----BEGIN CERTIFICATE-----",
	"ssl.key.password":                         "secret",
	"sasl.mechanism":                           "PLAIN",
	"spool.dir":                                "/var/spool/app",
	"spool.max.bytes":                          "1000000",
	"spool.sync":                               "always",
	"spool.sync.interval.ms":                   "200",
}

func TestConfigFromPropertiesValues(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		prop, value string
		want        Config
	}{
		{"bootstrap.servers", "a:1", Config{BootstrapServers: []string{"a:1"}}},
		{"bootstrap.servers", " a:1 , [::1]:2,SASL_SSL://c:3", Config{BootstrapServers: []string{"a:1", "[::1]:2", "c:3"}}},
		{"client.id", "  app  ", Config{ClientID: "app"}},
		{"acks", "all", Config{Acks: AcksAll}},
		{"acks", "-1", Config{Acks: AcksAll}},
		{"acks", "1", Config{Acks: AcksLeader}},
		{"acks", "0", Config{Acks: AcksNone}},
		{"acks", " 0 ", Config{Acks: AcksNone}},
		{"enable.idempotence", "true", Config{Idempotence: ToggleOn}},
		{"enable.idempotence", "FALSE", Config{Idempotence: ToggleOff}},
		{"retries", "0", Config{Retries: NoRetries}},
		{"retries", "2147483647", Config{Retries: math.MaxInt32}},
		{"delivery.timeout.ms", "2147483647", Config{DeliveryTimeout: math.MaxInt32 * ms}},
		{"request.timeout.ms", "0", Config{RequestTimeout: ZeroDuration}},
		{"retry.backoff.ms", "0", Config{RetryBackoff: ZeroDuration}},
		{"retry.backoff.max.ms", "+2000", Config{RetryBackoffMax: 2 * time.Second}},
		{"linger.ms", "0", Config{Linger: ZeroDuration}},
		{"linger.ms", "100", Config{Linger: 100 * ms}},
		{"linger.ms", "9223372036854775807", Config{Linger: math.MaxInt64}},
		{"batch.size", "1", Config{BatchSize: 1}},
		{"batch.size", "0", Config{BatchSize: NoBatching}},
		{"buffer.memory", "4294967296", Config{BufferMemory: 1 << 32}},
		{"buffer.memory.partition.max", "1048576", Config{BufferMemoryPartitionMax: 1 << 20}},
		{"buffer.memory.partition.max", "0", Config{}},
		{"max.block.ms", "0", Config{MaxBlock: ZeroDuration}},
		{"max.request.size", "10485760", Config{MaxRequestSize: 10 << 20}},
		{"max.in.flight.requests.per.connection", "10", Config{MaxInFlight: 10}},
		{"compression.type", "none", Config{Compression: CompressionNone}},
		{"compression.type", "gzip", Config{Compression: CompressionGzip}},
		{"compression.type", "snappy", Config{Compression: CompressionSnappy}},
		{"compression.type", "lz4", Config{Compression: CompressionLZ4}},
		{"compression.type", "zstd", Config{Compression: CompressionZstd}},
		{"compression.gzip.level", "-1", Config{GzipLevel: -1}},
		{"compression.gzip.level", "1", Config{GzipLevel: 1}},
		{"compression.lz4.level", "1", Config{LZ4Level: 1}},
		{"spool.dir", "/var/spool/app", Config{SpoolDir: "/var/spool/app"}},
		{"spool.max.bytes", "65536", Config{SpoolMaxBytes: 65536}},
		{"spool.sync", "none", Config{SpoolSync: SpoolSyncNone}},
		{"spool.sync", "interval", Config{SpoolSync: SpoolSyncInterval}},
		{"spool.sync.interval.ms", "50", Config{SpoolSyncInterval: 50 * ms}},
		{"compression.zstd.level", "-131072", Config{ZstdLevel: -131072}},
		{"compression.zstd.level", "22", Config{ZstdLevel: 22}},
		{"compression.zstd.level", "0", Config{}},
		{"partitioner.class", "", Config{}},
		{"partitioner.class", "org.apache.kafka.clients.producer.internals.DefaultPartitioner", Config{}},
		{"partitioner.class", "org.apache.kafka.clients.producer.UniformStickyPartitioner", Config{PartitionerIgnoreKeys: true}},
		{"partitioner.class", "org.apache.kafka.clients.producer.RoundRobinPartitioner", Config{PartitionerKind: PartitionerRoundRobin}},
		{"partitioner.ignore.keys", "True", Config{PartitionerIgnoreKeys: true}},
		{"partitioner.ignore.keys", "false", Config{}},
		{"partitioner.adaptive.partitioning.enable", "false", Config{PartitionerAdaptive: ToggleOff}},
		{"partitioner.adaptive.partitioning.enable", "true", Config{PartitionerAdaptive: ToggleOn}},
		{"partitioner.availability.timeout.ms", "0", Config{PartitionerAvailabilityTimeout: ZeroDuration}},
		{"transactional.id", "orders-tx", Config{TransactionalID: "orders-tx"}},
		{"transaction.timeout.ms", "900000", Config{TransactionTimeout: 15 * time.Minute}},
		{"metadata.max.age.ms", "1000", Config{MetadataMaxAge: time.Second}},
		{"metadata.max.idle.ms", "5000", Config{MetadataMaxIdle: 5 * time.Second}},
		{"connections.max.idle.ms", "0", Config{ConnectionsMaxIdle: ZeroDuration}},
		{"socket.connection.setup.timeout.ms", "500", Config{SocketConnectionSetupTimeout: 500 * ms}},
		{"socket.connection.setup.timeout.max.ms", "500", Config{SocketConnectionSetupTimeoutMax: 500 * ms}},
		{"reconnect.backoff.ms", "0", Config{ReconnectBackoff: ZeroDuration}},
		{"reconnect.backoff.max.ms", "60000", Config{ReconnectBackoffMax: time.Minute}},
		{"send.buffer.bytes", "-1", Config{SendBufferBytes: OSDefaultBuffer}},
		{"receive.buffer.bytes", "1048576", Config{ReceiveBufferBytes: 1 << 20}},
		{"key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer", Config{KeySerializer: "org.apache.kafka.common.serialization.ByteArraySerializer"}},
		{"value.serializer", " org.apache.kafka.common.serialization.StringSerializer ", Config{ValueSerializer: "org.apache.kafka.common.serialization.StringSerializer"}},
		{"key.serializer", "", Config{}},
		// Accepted and ignored.
		{"interceptor.classes", "", Config{}},
		{"interceptor.classes", " , ", Config{}},
		{"security.protocol", "PLAINTEXT", Config{}},
		{"security.protocol", "plaintext", Config{}},
		{"security.protocol", "ssl", Config{SecurityProtocol: SecuritySSL}},
		{"ssl.endpoint.identification.algorithm", "HTTPS", Config{}},
		{"ssl.endpoint.identification.algorithm", "", Config{SSL: SSLConfig{EndpointIdentification: EndpointIdentificationNone}}},
		{"ssl.enabled.protocols", "TLSv1.3, ,TLSv1.2", Config{SSL: SSLConfig{EnabledProtocols: []string{"TLSv1.3", "TLSv1.2"}}}},
		{"ssl.key.password", "pw", Config{SSL: SSLConfig{KeyPassword: "pw"}}},
		{"ssl.keymanager.algorithm", "SunX509", Config{}},
		{"ssl.trustmanager.algorithm", "PKIX", Config{}},
		{"ssl.provider", "", Config{}},
		{"ssl.secure.random.implementation", "", Config{}},
		{"ssl.engine.factory.class", "", Config{}},
		{"security.providers", "", Config{}},
		{"client.dns.lookup", "use_all_dns_ips", Config{}},
		{"client.dns.lookup", "resolve_canonical_bootstrap_servers_only", Config{}},
		{"metadata.recovery.strategy", "REBOOTSTRAP", Config{}},
		{"metadata.recovery.strategy", "none", Config{}},
		{"metadata.recovery.rebootstrap.trigger.ms", "1000", Config{}},
		{"metrics.sample.window.ms", "30000", Config{MetricsSampleWindow: 30 * time.Second}},
		{"metrics.sample.window.ms", "0", Config{MetricsSampleWindow: ZeroDuration}},
		{"metrics.num.samples", "2", Config{MetricsNumSamples: 2}},
		{"metrics.recording.level", "DEBUG", Config{}},
		{"metric.reporters", "org.apache.kafka.common.metrics.JmxReporter", Config{}},
		{"metric.reporters", "", Config{}},
		{"auto.include.jmx.reporter", "false", Config{}},
		{"enable.metrics.push", "false", Config{}},
		{"config.providers", "", Config{}},
		{"transaction.two.phase.commit.enable", "false", Config{}},
		{"ssl.truststore.location", "/etc/ssl/kafka.jks", Config{SSL: SSLConfig{TruststoreLocation: "/etc/ssl/kafka.jks"}}},
		{"sasl.jaas.config", "secret", Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.prop+"="+tt.value, func(t *testing.T) {
			got, err := ConfigFromProperties(map[string]string{tt.prop: tt.value})
			if err != nil {
				t.Fatalf("ConfigFromProperties: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestConfigFromPropertiesInvalid(t *testing.T) {
	tests := []struct{ prop, value, reason string }{
		{"bootstrap.servers", "", "at least one"},
		{"bootstrap.servers", "localhost", "host:port"},
		{"bootstrap.servers", "a:1,,b:2", "host:port"},
		{"bootstrap.servers", "a:1,a:1", "listed twice"},
		{"bootstrap.servers", "a:99999", "port"},
		{"acks", "2", "must be all, -1, 0 or 1"},
		{"acks", "ALL", "must be all"},
		{"acks", "", "must be all"},
		{"enable.idempotence", "yes", "true or false"},
		{"retries", "-1", "at least 0"},
		{"retries", "2147483648", "32-bit"},
		{"delivery.timeout.ms", "2147483648", "32-bit"},
		{"request.timeout.ms", "-5", "at least 0"},
		{"linger.ms", "abc", "not an integer"},
		{"linger.ms", "5ms", "not an integer"},
		{"linger.ms", "", "not an integer"},
		{"linger.ms", "-1", "at least 0"},
		{"batch.size", "-1", "at least 0"},
		{"buffer.memory", "0", "positive"},
		{"max.block.ms", "1.5", "not an integer"},
		{"max.request.size", "0", "positive"},
		{"max.in.flight.requests.per.connection", "0", "positive"},
		{"compression.type", "brotli", "none, gzip"},
		{"compression.type", "GZIP", "none, gzip"},
		{"compression.gzip.level", "0", "-1 (default) or 1 to 9"},
		{"compression.gzip.level", "10", "1 to 9"},
		{"compression.lz4.level", "0", "positive"},
		{"compression.lz4.level", "18", "at most 17"},
		{"compression.zstd.level", "23", "at most 22"},
		{"compression.zstd.level", "-131073", "at least -131072"},
		{"partitioner.class", "com.example.MyPartitioner", "built-in partitioners"},
		{"partitioner.ignore.keys", "1", "true or false"},
		{"partitioner.availability.timeout.ms", "-1", "at least 0"},
		{"transactional.id", "", "must not be empty"},
		{"transaction.timeout.ms", "x", "not an integer"},
		{"metadata.max.idle.ms", "4999", "at least 5000"},
		{"connections.max.idle.ms", "-1", "at least 0"},
		{"send.buffer.bytes", "0", "-1 (operating system default) or positive"},
		{"receive.buffer.bytes", "-2", "-1 (operating system default)"},
		{"key.serializer", "com.example.CustomSerializer", "unknown serializer class"},
		{"key.serializer", "org.apache.kafka.common.serialization.ListSerializer", "unknown serializer class"},
		{"value.serializer", "io.confluent..KafkaAvroSerializer", "fully qualified"},
		{"value.serializer", "StringSerializer", "fully qualified"},
		{"interceptor.classes", "com.example.Audit", "kprod.WithInterceptors"},
		{"security.protocol", "TLS", "must be PLAINTEXT"},
		{"ssl.endpoint.identification.algorithm", "ldaps", `must be "https"`},
		{"ssl.provider", "SunJSSE", "crypto/tls"},
		{"ssl.keymanager.algorithm", "IbmX509", "key manager"},
		{"ssl.trustmanager.algorithm", "SunX509", "PKIX"},
		{"ssl.secure.random.implementation", "SHA1PRNG", "crypto/rand"},
		{"ssl.engine.factory.class", "com.example.Engine", "Config.TLS"},
		{"security.providers", "com.example.Provider", "not supported yet"},
		{"client.dns.lookup", "default", "must be one of"},
		{"metrics.num.samples", "0", "must be positive"},
		{"metric.reporters", "com.example.Reporter,org.apache.kafka.common.metrics.JmxReporter", "cannot run in Go"},
		{"metrics.recording.level", "info", "must be one of"},
		{"auto.include.jmx.reporter", "maybe", "true or false"},
		{"config.providers", "file", "not supported"},
		{"transaction.two.phase.commit.enable", "true", "KIP-939"},
		{"batch.size", "16k", "not an integer"},
		{"buffer.memory", "32MB", "not an integer"},
		{"send.buffer.bytes", "x", "not an integer"},
		{"compression.gzip.level", "max", "not an integer"},
		{"metadata.max.idle.ms", "5s", "not an integer"},
		{"metrics.sample.window.ms", "-1", "at least 0"},
		{"metrics.sample.window.ms", "x", "not an integer"},
		{"transaction.two.phase.commit.enable", "no", "true or false"},
		{"lingerms", "5", "did you mean linger.ms?"},
		{"batch.sise", "5", "did you mean batch.size?"},
		{"group.id", "g", "unknown producer property"},
	}
	for _, tt := range tests {
		t.Run(tt.prop+"="+tt.value, func(t *testing.T) {
			_, err := ConfigFromProperties(map[string]string{tt.prop: tt.value})
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want *ConfigError", err)
			}
			if ce.Property != tt.prop || !strings.Contains(ce.Reason, tt.reason) {
				t.Errorf("error = %v, want property %s and reason containing %q", err, tt.prop, tt.reason)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("errors.Is(%v, ErrInvalidConfig) = false", err)
			}
			if want := "kprod: invalid config " + tt.prop + "="; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message %q, want prefix %q", err, want)
			}
		})
	}
}

func TestConfigFromPropertiesJoinsErrors(t *testing.T) {
	_, err := ConfigFromProperties(map[string]string{"acks": "2", "linger.ms": "abc", "batch.size": "100"})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"acks=2", "linger.ms=abc"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %s", msg, want)
		}
	}
	if strings.Contains(msg, "batch.size") {
		t.Errorf("error %q mentions the valid batch.size", msg)
	}
}

func TestUniformStickyWinsOverIgnoreKeys(t *testing.T) {
	c, err := ConfigFromProperties(map[string]string{
		"partitioner.class":       "org.apache.kafka.clients.producer.UniformStickyPartitioner",
		"partitioner.ignore.keys": "false",
	})
	if err != nil || !c.PartitionerIgnoreKeys || c.PartitionerKind != PartitionerDefault {
		t.Fatalf("got %+v, %v; want default partitioner ignoring keys", c, err)
	}
}

func TestLoadJavaProducerProperties(t *testing.T) {
	path := filepath.Join("testdata", "producer.properties")
	props, err := LoadProperties(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ConfigFromProperties(props)
	if err != nil {
		t.Fatalf("ConfigFromProperties: %v", err)
	}
	want := Config{
		BootstrapServers: []string{"kafka-1.internal:9092", "kafka-2.internal:9092", "kafka-3.internal:9092"},
		ClientID:         "orders-service",
		Compression:      CompressionLZ4,
		Linger:           20 * time.Millisecond,
		BatchSize:        65536,
		BufferMemory:     64 << 20,
		Acks:             AcksAll,
		Idempotence:      ToggleOn,
		Retries:          math.MaxInt32,
		DeliveryTimeout:  2 * time.Minute,
		MaxInFlight:      5,
		KeySerializer:    "org.apache.kafka.common.serialization.StringSerializer",
		ValueSerializer:  "org.apache.kafka.common.serialization.ByteArraySerializer",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	// Every value the file sets comes back unchanged under the same name.
	back := c.Properties()
	for k, v := range props {
		if _, ok := propertyIndex[k]; !ok || propertyIndex[k].get == nil {
			continue
		}
		if got := back[k]; got != strings.Join(strings.Fields(v), "") {
			t.Errorf("Properties()[%s] = %q, file has %q", k, got, v)
		}
	}
}

func TestLoadPropertiesErrors(t *testing.T) {
	_, err := LoadProperties(filepath.Join(t.TempDir(), "missing.properties"))
	if err == nil || !strings.HasPrefix(err.Error(), "kprod: ") {
		t.Errorf("missing file: error = %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.properties")
	if err := os.WriteFile(bad, []byte("a=1\nb=\\u00\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadProperties(bad)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "bad.properties") {
		t.Errorf("bad escape: error = %v", err)
	}
}

func TestParsePropertiesThenConfig(t *testing.T) {
	in := "bootstrap.servers localhost:9092\nacks:1\nlinger.ms = 0\n"
	props, err := ParseProperties(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ConfigFromProperties(props)
	if err != nil {
		t.Fatal(err)
	}
	if c.Acks != AcksLeader || c.Linger != ZeroDuration || c.BootstrapServers[0] != "localhost:9092" {
		t.Errorf("got %+v", c)
	}
}

// TestPropertiesRoundTrip checks Properties and ConfigFromProperties are inverses on
// resolved settings.
func TestPropertiesRoundTrip(t *testing.T) {
	configs := []Config{
		{BootstrapServers: []string{"a:1"}},
		{
			BootstrapServers: []string{"a:1", "b:2"}, ClientID: "c", Acks: AcksNone, Retries: NoRetries,
			Linger: ZeroDuration, MaxBlock: ZeroDuration, Compression: CompressionGzip, GzipLevel: 4,
			PartitionerKind: PartitionerRoundRobin, PartitionerAdaptive: ToggleOff,
			SendBufferBytes: OSDefaultBuffer, ReceiveBufferBytes: OSDefaultBuffer, MaxInFlight: 3,
			ReconnectBackoff: 10 * time.Millisecond, KeySerializer: "org.apache.kafka.common.serialization.LongSerializer",
		},
		{BootstrapServers: []string{"a:1"}, TransactionalID: "tx", TransactionTimeout: time.Second, Idempotence: ToggleOn},
		{BootstrapServers: []string{"a:1"}, SpoolDir: "/s", SpoolMaxBytes: 1 << 20, SpoolSync: SpoolSyncAlways, SpoolSyncInterval: time.Second},
	}
	for i, c := range configs {
		want, err := c.settings()
		if err != nil {
			t.Fatalf("config %d: %v", i, err)
		}
		back, err := ConfigFromProperties(c.Properties())
		if err != nil {
			t.Fatalf("config %d: ConfigFromProperties(Properties()): %v", i, err)
		}
		got, err := back.settings()
		if err != nil {
			t.Fatalf("config %d: round trip invalid: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("config %d round trip:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

func TestPropertiesOfInvalidConfig(t *testing.T) {
	c := Config{Acks: Acks(9), BufferMemory: -3}
	p := c.Properties()
	if p["acks"] != "all" || p["buffer.memory"] != "-3" || p["linger.ms"] != "5" {
		t.Errorf("Properties() = %v", p)
	}
	if _, ok := p["bootstrap.servers"]; ok {
		t.Error("empty bootstrap.servers printed")
	}
	if !maps.EqualFunc(p, c.Properties(), func(a, b string) bool { return a == b }) {
		t.Error("Properties is not deterministic")
	}
}

// Confluent's registry serializers are names the core accepts (kprod/serde/byname
// builds them), so a Java producer.properties naming them reads unchanged.
func TestConfluentSerializerNamesAccepted(t *testing.T) {
	for _, class := range []string{
		"io.confluent.kafka.serializers.KafkaAvroSerializer",
		"io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer",
		"io.confluent.kafka.serializers.protobuf.KafkaProtobufSerializer",
	} {
		c, err := ConfigFromProperties(map[string]string{"value.serializer": class, "key.serializer": class})
		if err != nil || c.ValueSerializer != class || c.KeySerializer != class {
			t.Errorf("%s: %+v, %v", class, c.ValueSerializer, err)
		}
		c = Config{BootstrapServers: []string{"h:9092"}, ValueSerializer: class}
		if err := c.Validate(); err != nil {
			t.Errorf("Validate with %s: %v", class, err)
		}
	}
}
