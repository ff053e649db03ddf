package kprod_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/sasl"
)

// The agreement test: a Config and a properties file are two spellings of the same
// producer settings, so the same value must be valid in both or invalid in both, and
// an invalid one must fail NewProducer with a *ConfigError naming the same Java
// property. Ranges follow Java's ProducerConfig (Kafka 4.4): ConfigDef's atLeast(0) for
// counts and milliseconds, INT properties within 32 bits, the compression levels'
// validators, metadata.max.idle.ms >= 5000, and KafkaProducer's idempotence and
// delivery.timeout.ms rules.

// agreeSetting is one property as a properties value and as the Config field value
// meaning the same (the field is found through ConfigTable).
type agreeSetting struct {
	prop  string
	value string
	field any
}

// agreeCase is a setting, with the settings it needs besides bootstrap.servers.
type agreeCase struct {
	agreeSetting
	also []agreeSetting
	// want is what Properties prints for prop when the case is valid: "" means value,
	// unset that it prints nothing.
	want string
}

func agree(prop, value string, field any, also ...agreeSetting) agreeCase {
	return agreeCase{agreeSetting: agreeSetting{prop, value, field}, also: also}
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// bigInt is Java's "2147483648" as an int field on 64-bit platforms; on 32-bit ones,
// where no int can hold it, the cases using it are skipped (and it is MaxInt32, so
// that this compiles there).
var bigInt = int(int64(math.MaxInt32) + int64(strconv.IntSize/64))

const bigInt32 = "2147483648"

// unset is agreeCase.want for a value that Properties leaves out.
const unset = "(unset)"

// SASL settings: a property whose field is nil has no Config field of its own (it
// builds SASL with sasl.mechanism) and is set in the properties only.
var (
	saslPlaintext  = agreeSetting{"security.protocol", "SASL_PLAINTEXT", kprod.SecuritySASLPlaintext}
	plainMechanism = agreeSetting{"sasl.mechanism", "PLAIN", sasl.Plain("u", "p")}
	plainJAAS      = agreeSetting{"sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`, nil}
)

// msProps are the millisecond properties of LONG type with Java's atLeast(0).
var msProps = []string{"retry.backoff.ms", "retry.backoff.max.ms", "linger.ms", "max.block.ms",
	"partitioner.availability.timeout.ms", "metadata.max.age.ms", "connections.max.idle.ms",
	"socket.connection.setup.timeout.ms", "socket.connection.setup.timeout.max.ms",
	"reconnect.backoff.ms", "reconnect.backoff.max.ms", "metrics.sample.window.ms"}

// msIntProps are the millisecond properties of INT type.
var msIntProps = []string{"delivery.timeout.ms", "request.timeout.ms", "transaction.timeout.ms"}

func invalidCases() []agreeCase {
	idem := agreeSetting{"enable.idempotence", "true", kprod.ToggleOn}
	cases := []agreeCase{
		agree("bootstrap.servers", "localhost", []string{"localhost"}),
		agree("bootstrap.servers", "a:0", []string{"a:0"}),
		agree("bootstrap.servers", "a:65536", []string{"a:65536"}),
		agree("bootstrap.servers", "a:1,a:1", []string{"a:1", "a:1"}),
		agree("delivery.profile", "exactly-twice", kprod.Profile("exactly-twice")),
		agree("retries", "3", 3, agreeSetting{"delivery.profile", "at-most-once", kprod.ProfileAtMostOnce}),
		agree("acks", "1", kprod.AcksLeader, agreeSetting{"delivery.profile", "exactly-once", kprod.ProfileExactlyOnce}),
		agree("transactional.id", "", nil, agreeSetting{"delivery.profile", "exactly-once-transactional", kprod.ProfileTransactional}),
		agree("spool.dir", "/s", "/s", agreeSetting{"transactional.id", "t", "t"}),
		agree("spool.dir", " ", " "),
		agree("spool.max.bytes", "-1", int64(-1)),
		agree("spool.sync", "sometimes", kprod.SpoolSync(7)),
		agree("spool.sync.interval.ms", "0", kprod.ZeroDuration),
		agree("acks", "2", kprod.Acks(2)),
		agree("acks", "-2", kprod.Acks(-2)),
		agree("acks", "1", kprod.AcksLeader, idem),
		agree("acks", "0", kprod.AcksNone, idem),
		agree("enable.idempotence", "3", kprod.Toggle(3)),
		agree("retries", "-5", -5),
		agree("retries", "-2", -2),
		agree("retries", bigInt32, bigInt),
		agree("retries", "0", kprod.NoRetries, idem),
		agree("max.in.flight.requests.per.connection", "-1", -1),
		agree("max.in.flight.requests.per.connection", bigInt32, bigInt),
		// Kafka 4: more than 5 in flight fails whenever idempotence is on, explicitly
		// or by default, even when acks=1 would turn the default off.
		agree("max.in.flight.requests.per.connection", "6", 6),
		agree("max.in.flight.requests.per.connection", "6", 6, idem),
		agree("max.in.flight.requests.per.connection", "6", 6, agreeSetting{"acks", "1", kprod.AcksLeader}),
		agree("transactional.id", "t", "t", agreeSetting{"enable.idempotence", "false", kprod.ToggleOff}),
		agree("transactional.id", "t", "t", agreeSetting{"acks", "0", kprod.AcksNone}),
		agree("transactional.id", "t", "t", agreeSetting{"retries", "0", kprod.NoRetries}),
		agree("transactional.id", "  ", "  "),
		agree("delivery.timeout.ms", "30004", ms(30004)), // below linger.ms + request.timeout.ms
		agree("delivery.timeout.ms", "0", kprod.ZeroDuration),
		agree("batch.size", "-5", -5),
		agree("batch.size", "-2", -2),
		agree("batch.size", bigInt32, bigInt),
		agree("buffer.memory", "-5", int64(-5)),
		agree("buffer.memory", "-1", int64(-1)),
		agree("buffer.memory.partition.max", "-1", int64(-1)),
		agree("buffer.memory.partition.max", "16383", int64(16383)),       // below batch.size
		agree("buffer.memory.partition.max", "33554433", int64(33554433)), // above buffer.memory
		agree("buffer.memory.partition.max", "1999", int64(1999), agreeSetting{"batch.size", "2000", 2000}),
		agree("buffer.memory.partition.max", "65537", int64(65537), agreeSetting{"buffer.memory", "65536", int64(65536)}),
		agree("max.request.size", "-5", -5),
		agree("max.request.size", bigInt32, bigInt),
		agree("compression.type", "9", kprod.Compression(9)),
		agree("compression.type", "-1", kprod.Compression(-1)),
		agree("compression.gzip.level", "10", 10),
		agree("compression.gzip.level", "-2", -2),
		agree("compression.lz4.level", "18", 18),
		agree("compression.lz4.level", "-1", -1),
		agree("compression.zstd.level", "23", 23),
		agree("compression.zstd.level", "-131073", -131073),
		agree("partitioner.class", "2", kprod.PartitionerKind(2)),
		agree("partitioner.adaptive.partitioning.enable", "3", kprod.Toggle(3)),
		agree("metadata.max.idle.ms", "4999", ms(4999)),
		agree("metrics.num.samples", "-1", -1),
		agree("metrics.num.samples", bigInt32, bigInt),
		agree("send.buffer.bytes", "-2", -2),
		agree("send.buffer.bytes", bigInt32, bigInt),
		agree("receive.buffer.bytes", "-5", -5),
		agree("key.serializer", "com.example.Ser", "com.example.Ser"),
		agree("value.serializer", "StringSerializer", "StringSerializer"),
		// SASL without a mechanism is Java's default, GSSAPI: Kerberos, refused.
		agree("sasl.mechanism", "GSSAPI", nil, saslPlaintext),
		agree("sasl.mechanism", "GSSAPI", nil, agreeSetting{"security.protocol", "SASL_SSL", kprod.SecuritySASLSSL}),
		agree("sasl.mechanism", "AWS_MSK_IAM", nil, saslPlaintext),
	}
	cases = append(cases, securityInvalidCases()...)
	for _, prop := range append(append([]string{}, msProps...), msIntProps...) {
		// -1 ms is not ZeroDuration (-1 ns): only the sentinel means 0.
		cases = append(cases, agree(prop, "-5", ms(-5)), agree(prop, "-1", ms(-1)))
	}
	for _, prop := range msIntProps {
		cases = append(cases, agree(prop, bigInt32, ms(1<<31)))
	}
	return cases
}

func validCases() []agreeCase {
	off := agreeSetting{"enable.idempotence", "false", kprod.ToggleOff}
	withWant := func(c agreeCase, want string) agreeCase { c.want = want; return c }
	cases := []agreeCase{
		agree("security.protocol", "SASL_PLAINTEXT", kprod.SecuritySASLPlaintext, plainMechanism, plainJAAS),
		agree("security.protocol", "SASL_SSL", kprod.SecuritySASLSSL, plainMechanism, plainJAAS),
		withWant(agree("security.protocol", "sasl_plaintext", kprod.SecuritySASLPlaintext, plainMechanism, plainJAAS), "SASL_PLAINTEXT"),
		agree("sasl.mechanism", "PLAIN", sasl.Plain("u", "p"), saslPlaintext, plainJAAS),
		agree("sasl.mechanism", "SCRAM-SHA-512", sasl.ScramSHA512("u", "p"), saslPlaintext,
			agreeSetting{"sasl.jaas.config", `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`, nil}),
		agree("sasl.mechanism", "OAUTHBEARER", sasl.OAuthBearer(sasl.UnsecuredToken(sasl.UnsecuredTokenConfig{StringClaims: map[string]string{"sub": "u"}})),
			saslPlaintext, agreeSetting{"sasl.jaas.config", `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="u";`, nil}),
		agree("bootstrap.servers", "a:1", []string{"a:1"}),
		withWant(agree("bootstrap.servers", "a:65535, PLAINTEXT://b:2", []string{"a:65535", "PLAINTEXT://b:2"}), "a:65535,b:2"),
		agree("client.id", "x", "x"),
		agree("delivery.profile", "at-most-once", kprod.ProfileAtMostOnce),
		agree("delivery.profile", "high-throughput", kprod.ProfileHighThroughput),
		agree("delivery.profile", "exactly-once-transactional", kprod.ProfileTransactional,
			agreeSetting{"transactional.id", "t1", "t1"}),
		agree("linger.ms", "50", ms(50), agreeSetting{"delivery.profile", "low-latency", kprod.ProfileLowLatency}),
		agree("spool.dir", "/var/spool/kprod", "/var/spool/kprod"),
		agree("spool.max.bytes", "1", int64(1)),
		agree("spool.sync", "always", kprod.SpoolSyncAlways),
		agree("spool.sync", "interval", kprod.SpoolSyncInterval),
		agree("spool.sync", "none", kprod.SpoolSyncNone),
		agree("spool.sync.interval.ms", "1", ms(1)),
		agree("acks", "all", kprod.AcksAll),
		withWant(agree("acks", "-1", kprod.AcksAll), "all"),
		agree("acks", "1", kprod.AcksLeader),
		agree("acks", "0", kprod.AcksNone),
		agree("enable.idempotence", "true", kprod.ToggleOn),
		agree("enable.idempotence", "false", kprod.ToggleOff),
		agree("retries", "0", kprod.NoRetries),
		agree("retries", "1", 1),
		agree("retries", "2147483647", math.MaxInt32),
		agree("delivery.timeout.ms", "30005", ms(30005)),
		agree("delivery.timeout.ms", "2147483647", ms(math.MaxInt32)),
		agree("delivery.timeout.ms", "0", kprod.ZeroDuration,
			agreeSetting{"linger.ms", "0", kprod.ZeroDuration}, agreeSetting{"request.timeout.ms", "0", kprod.ZeroDuration}),
		agree("request.timeout.ms", "0", kprod.ZeroDuration),
		agree("request.timeout.ms", "2147483647", ms(math.MaxInt32)),
		agree("transaction.timeout.ms", "0", kprod.ZeroDuration),
		agree("transaction.timeout.ms", "2147483647", ms(math.MaxInt32)),
		agree("batch.size", "0", kprod.NoBatching),
		agree("buffer.memory.partition.max", "0", int64(0)),
		agree("buffer.memory.partition.max", "16384", int64(16384)),
		agree("buffer.memory.partition.max", "33554432", int64(33554432)),
		agree("buffer.memory.partition.max", "1000", int64(1000), agreeSetting{"batch.size", "1000", 1000}, agreeSetting{"buffer.memory", "1000000", int64(1000000)}),
		agree("batch.size", "2147483647", math.MaxInt32),
		agree("buffer.memory", "1", int64(1)),
		agree("buffer.memory", "9223372036854775807", int64(math.MaxInt64)),
		agree("max.request.size", "1", 1),
		agree("max.request.size", "2147483647", math.MaxInt32),
		agree("max.in.flight.requests.per.connection", "1", 1),
		agree("max.in.flight.requests.per.connection", "5", 5),
		agree("max.in.flight.requests.per.connection", "2147483647", math.MaxInt32, off),
		agree("compression.type", "none", kprod.CompressionNone),
		agree("compression.type", "gzip", kprod.CompressionGzip),
		agree("compression.type", "snappy", kprod.CompressionSnappy),
		agree("compression.type", "lz4", kprod.CompressionLZ4),
		agree("compression.type", "zstd", kprod.CompressionZstd),
		agree("compression.gzip.level", "-1", -1),
		agree("compression.gzip.level", "1", 1),
		agree("compression.gzip.level", "9", 9),
		agree("compression.lz4.level", "1", 1),
		agree("compression.lz4.level", "17", 17),
		agree("compression.zstd.level", "-131072", -131072),
		agree("compression.zstd.level", "22", 22),
		withWant(agree("compression.zstd.level", "0", 0), "3"), // zstd's 0 is its default, 3
		agree("partitioner.class", "org.apache.kafka.clients.producer.RoundRobinPartitioner", kprod.PartitionerRoundRobin),
		withWant(agree("partitioner.class", "org.apache.kafka.clients.producer.internals.DefaultPartitioner", kprod.PartitionerDefault), unset),
		agree("partitioner.ignore.keys", "true", true),
		agree("partitioner.ignore.keys", "false", false),
		agree("partitioner.adaptive.partitioning.enable", "false", kprod.ToggleOff),
		agree("partitioner.adaptive.partitioning.enable", "true", kprod.ToggleOn),
		agree("transactional.id", "t", "t"),
		agree("metadata.max.idle.ms", "5000", ms(5000)),
		agree("metrics.num.samples", "1", 1),
		agree("metrics.num.samples", "2147483647", math.MaxInt32),
		agree("metadata.max.idle.ms", "9223372036854", ms(9223372036854)),
		agree("send.buffer.bytes", "-1", kprod.OSDefaultBuffer),
		agree("send.buffer.bytes", "1", 1),
		agree("send.buffer.bytes", "2147483647", math.MaxInt32),
		agree("receive.buffer.bytes", "-1", kprod.OSDefaultBuffer),
		agree("receive.buffer.bytes", "2147483647", math.MaxInt32),
		agree("key.serializer", "org.apache.kafka.common.serialization.StringSerializer", "org.apache.kafka.common.serialization.StringSerializer"),
		agree("value.serializer", "org.apache.kafka.common.serialization.UUIDSerializer", "org.apache.kafka.common.serialization.UUIDSerializer"),
	}
	cases = append(cases, securityValidCases()...)
	for _, prop := range msProps {
		cases = append(cases, agree(prop, "0", kprod.ZeroDuration), agree(prop, "1", ms(1)))
	}
	// The largest LONG saturates a time.Duration (about 292 years) in both spellings.
	cases = append(cases, withWant(agree("linger.ms", "9223372036854775807", time.Duration(math.MaxInt64)), "9223372036854"))
	return cases
}

// agreeFields maps each property to its Config field, from ConfigTable.
func agreeFields(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, e := range kprod.ConfigTable() {
		if e.Field != "" {
			out[e.Property] = e.Field
		}
	}
	return out
}

// both builds the case through properties and through the struct.
func (c agreeCase) both(t *testing.T, fields map[string]string) (props map[string]string, cfg kprod.Config) {
	t.Helper()
	props = map[string]string{}
	cfg = kprod.Config{}
	for _, s := range append([]agreeSetting{c.agreeSetting}, c.also...) {
		props[s.prop] = s.value
		if s.field == nil {
			continue // properties only, or the field's zero value
		}
		f := reflect.ValueOf(&cfg).Elem()
		for _, name := range strings.Split(fields[s.prop], ".") { // "SSL.KeyPassword"
			if f.IsValid() {
				f = f.FieldByName(name)
			}
		}
		if !f.IsValid() {
			t.Fatalf("%s has no Config field", s.prop)
		}
		f.Set(reflect.ValueOf(s.field).Convert(f.Type()))
	}
	if _, ok := props["bootstrap.servers"]; !ok {
		props["bootstrap.servers"] = "127.0.0.1:1"
		cfg.BootstrapServers = []string{"127.0.0.1:1"}
	}
	return props, cfg
}

func (c agreeCase) name() string {
	short := func(v string) string { // inline PEM values
		if len(v) > 24 {
			return v[:21] + "..."
		}
		return v
	}
	n := c.prop + "=" + short(c.value)
	for _, s := range c.also {
		n += "," + s.prop + "=" + short(s.value)
	}
	return n
}

// TestConfigStructAndPropertiesAgree feeds each invalid value through a Config and
// through properties: both must fail NewProducer naming the property. Each valid
// boundary value must pass both and resolve to the same settings.
func TestConfigStructAndPropertiesAgree(t *testing.T) {
	fields := agreeFields(t)
	invalidSeen, validSeen := map[string]bool{}, map[string]bool{}

	for _, c := range invalidCases() {
		invalidSeen[c.prop] = true
		t.Run("invalid/"+c.name(), func(t *testing.T) {
			if c.field == bigInt && strconv.IntSize == 32 {
				t.Skip("an int cannot exceed int32 here")
			}
			props, cfg := c.both(t, fields)
			fromProps, perr := kprod.ConfigFromProperties(props)
			if perr == nil {
				perr = newProducerErr(fromProps) // cross-field rules
			}
			serr := newProducerErr(cfg)
			for path, err := range map[string]error{"properties": perr, "Config": serr} {
				var ce *kprod.ConfigError
				if !errors.As(err, &ce) || !errors.Is(err, kprod.ErrInvalidConfig) {
					t.Errorf("%s: error %v, want a *ConfigError", path, err)
					continue
				}
				if names := configProps(err); !slices.Contains(names, c.prop) {
					t.Errorf("%s: error names %v, want %s (%v)", path, names, c.prop, err)
				}
			}
		})
	}

	for _, c := range validCases() {
		validSeen[c.prop] = true
		t.Run("valid/"+c.name(), func(t *testing.T) {
			props, cfg := c.both(t, fields)
			fromProps, err := kprod.ConfigFromProperties(props)
			if err != nil {
				t.Fatalf("properties: %v", err)
			}
			if err := newProducerErr(fromProps); err != nil {
				t.Fatalf("properties: NewProducer: %v", err)
			}
			if err := newProducerErr(cfg); err != nil {
				t.Fatalf("Config: NewProducer: %v", err)
			}
			got, want := cfg.Properties(), fromProps.Properties()
			if !maps.Equal(got, want) {
				t.Errorf("resolved settings differ:\nConfig     %v\nproperties %v", got, want)
			}
			wantValue := c.value
			switch c.want {
			case "":
			case unset:
				wantValue = ""
			default:
				wantValue = c.want
			}
			if got[c.prop] != wantValue {
				t.Errorf("%s resolved to %q, want %q", c.prop, got[c.prop], wantValue)
			}
		})
	}

	// Every property with a field has valid cases, and invalid ones unless no Config
	// value can be invalid (Java accepts any client.id; a bool holds only booleans).
	noInvalid := map[string]bool{"client.id": true, "partitioner.ignore.keys": true}
	for prop := range fields {
		if !validSeen[prop] {
			t.Errorf("no valid case for %s", prop)
		}
		if !invalidSeen[prop] && !noInvalid[prop] {
			t.Errorf("no invalid case for %s", prop)
		}
	}
}

// newProducerErr creates and closes a producer, returning NewProducer's error. Its
// warnings (no broker listens at 127.0.0.1:1) are discarded.
func newProducerErr(cfg kprod.Config) error {
	p, err := kprod.NewProducer(cfg, kprod.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nothing was sent: close at once
	p.Close(ctx)
	return nil
}
