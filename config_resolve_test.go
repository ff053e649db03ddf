package kprod

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/config"
)

// tooBigInt exceeds Java's INT range on 64-bit platforms.
var tooBigInt = int(beyondInt32)

// beyondInt32 is a variable so that the conversion above compiles on 32-bit platforms.
var beyondInt32 int64 = math.MaxInt32 + 1

// base returns a valid Config with mod applied.
func base(mod func(*Config)) Config {
	c := Config{BootstrapServers: []string{"localhost:9092"}}
	if mod != nil {
		mod(&c)
	}
	return c
}

func TestIdempotenceRules(t *testing.T) {
	tests := []struct {
		name           string
		mod            func(*Config)
		wantIdempotent bool
		wantErrProp    string // "" for no error
	}{
		{"default is on", nil, true, ""},
		{"explicit on", func(c *Config) { c.Idempotence = ToggleOn }, true, ""},
		{"explicit off", func(c *Config) { c.Idempotence = ToggleOff }, false, ""},
		{"implicit + acks=1 turns off", func(c *Config) { c.Acks = AcksLeader }, false, ""},
		{"implicit + acks=0 turns off", func(c *Config) { c.Acks = AcksNone }, false, ""},
		{"implicit + retries=0 turns off", func(c *Config) { c.Retries = NoRetries }, false, ""},
		{"implicit + in flight 5 stays on", func(c *Config) { c.MaxInFlight = 5 }, true, ""},
		{"explicit + acks=1 fails", func(c *Config) { c.Idempotence, c.Acks = ToggleOn, AcksLeader }, false, "acks"},
		{"explicit + acks=0 fails", func(c *Config) { c.Idempotence, c.Acks = ToggleOn, AcksNone }, false, "acks"},
		{"explicit + retries=0 fails", func(c *Config) { c.Idempotence, c.Retries = ToggleOn, NoRetries }, false, "retries"},
		{"explicit + in flight 6 fails", func(c *Config) { c.Idempotence, c.MaxInFlight = ToggleOn, 6 }, false, "max.in.flight.requests.per.connection"},
		// Kafka 4.x: more than 5 in flight fails even when idempotence is only
		// the default (3.x turned it off silently).
		{"implicit + in flight 6 fails", func(c *Config) { c.MaxInFlight = 6 }, false, "max.in.flight.requests.per.connection"},
		{"implicit + acks=1 + in flight 6 fails as in Java 4", func(c *Config) { c.Acks, c.MaxInFlight = AcksLeader, 6 }, false, "max.in.flight.requests.per.connection"},
		{"explicit off + in flight 6", func(c *Config) { c.Idempotence, c.MaxInFlight = ToggleOff, 6 }, false, ""},
		{"explicit off + acks=0 + retries=0", func(c *Config) { c.Idempotence, c.Acks, c.Retries = ToggleOff, AcksNone, NoRetries }, false, ""},
		{"transactional", func(c *Config) { c.TransactionalID = "tx" }, true, ""},
		{"transactional + explicit on", func(c *Config) { c.TransactionalID, c.Idempotence = "tx", ToggleOn }, true, ""},
		{"transactional + explicit off fails", func(c *Config) { c.TransactionalID, c.Idempotence = "tx", ToggleOff }, false, "transactional.id"},
		{"transactional + acks=1 fails", func(c *Config) { c.TransactionalID, c.Acks = "tx", AcksLeader }, false, "transactional.id"},
		{"transactional + retries=0 fails", func(c *Config) { c.TransactionalID, c.Retries = "tx", NoRetries }, false, "transactional.id"},
		{"invalid toggle", func(c *Config) { c.Idempotence = Toggle(5) }, false, "enable.idempotence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base(tt.mod)
			s, err := c.resolve()
			if tt.wantErrProp == "" {
				if err != nil {
					t.Fatalf("resolve: %v", err)
				}
				if s.Idempotent != tt.wantIdempotent {
					t.Errorf("Idempotent = %v, want %v", s.Idempotent, tt.wantIdempotent)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Property != tt.wantErrProp {
				t.Fatalf("error = %v, want one naming %s", err, tt.wantErrProp)
			}
		})
	}
}

func TestIdempotenceRulesFromProperties(t *testing.T) {
	tests := []struct {
		props          map[string]string
		wantIdempotent bool
		wantErrProp    string
	}{
		{map[string]string{"acks": "1"}, false, ""},
		{map[string]string{"acks": "1", "enable.idempotence": "true"}, false, "acks"},
		{map[string]string{"retries": "0"}, false, ""},
		{map[string]string{"retries": "0", "enable.idempotence": "true"}, false, "retries"},
		{map[string]string{"acks": "all", "enable.idempotence": "true"}, true, ""},
		{map[string]string{"transactional.id": "t", "acks": "0"}, false, "transactional.id"},
	}
	for _, tt := range tests {
		tt.props["bootstrap.servers"] = "a:1"
		c, err := ConfigFromProperties(tt.props)
		if err != nil {
			t.Fatalf("%v: %v", tt.props, err)
		}
		s, err := c.resolve()
		var ce *ConfigError
		switch {
		case tt.wantErrProp == "" && err != nil:
			t.Errorf("%v: %v", tt.props, err)
		case tt.wantErrProp == "" && s.Idempotent != tt.wantIdempotent:
			t.Errorf("%v: Idempotent = %v", tt.props, s.Idempotent)
		case tt.wantErrProp != "" && (!errors.As(err, &ce) || ce.Property != tt.wantErrProp):
			t.Errorf("%v: error %v, want %s", tt.props, err, tt.wantErrProp)
		}
	}
}

func TestCrossFieldErrors(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*Config)
		prop   string
		reason string
	}{
		{"no bootstrap", func(c *Config) { c.BootstrapServers = nil }, "bootstrap.servers", "is required"},
		{"bad bootstrap", func(c *Config) { c.BootstrapServers = []string{"nohost"} }, "bootstrap.servers", "host:port"},
		{"duplicate bootstrap", func(c *Config) { c.BootstrapServers = []string{"a:1", " a:1"} }, "bootstrap.servers", "twice"},
		{"explicit delivery below linger+request", func(c *Config) {
			c.DeliveryTimeout, c.Linger, c.RequestTimeout = time.Second, 500*time.Millisecond, time.Second
		}, "delivery.timeout.ms", "linger.ms + request.timeout.ms (1500)"},
		{"explicit zero delivery", func(c *Config) { c.DeliveryTimeout = ZeroDuration }, "delivery.timeout.ms", "at least linger.ms"},
		{"batch size too big", func(c *Config) { c.BatchSize = tooBigInt }, "batch.size", "32-bit"},
		{"buffer memory negative", func(c *Config) { c.BufferMemory = -1 }, "buffer.memory", "positive"},
		{"max request size negative", func(c *Config) { c.MaxRequestSize = -1 }, "max.request.size", "positive"},
		{"in flight negative", func(c *Config) { c.MaxInFlight = -1 }, "max.in.flight.requests.per.connection", "positive"},
		{"retries too big", func(c *Config) { c.Retries = tooBigInt }, "retries", "32-bit"},
		{"gzip level 0 impossible but 10 is bad", func(c *Config) { c.GzipLevel = 10 }, "compression.gzip.level", "1 to 9"},
		{"gzip level -2", func(c *Config) { c.GzipLevel = -2 }, "compression.gzip.level", "-1 (default)"},
		{"lz4 level", func(c *Config) { c.LZ4Level = 18 }, "compression.lz4.level", "at most 17"},
		{"lz4 negative", func(c *Config) { c.LZ4Level = -1 }, "compression.lz4.level", "positive"},
		{"zstd level", func(c *Config) { c.ZstdLevel = 23 }, "compression.zstd.level", "at most 22"},
		{"bad acks enum", func(c *Config) { c.Acks = Acks(7) }, "acks", "AcksAll"},
		{"bad compression enum", func(c *Config) { c.Compression = Compression(9) }, "compression.type", "none, gzip"},
		{"bad partitioner enum", func(c *Config) { c.PartitionerKind = PartitionerKind(4) }, "partitioner.class", "PartitionerDefault"},
		{"bad adaptive toggle", func(c *Config) { c.PartitionerAdaptive = Toggle(-1) }, "partitioner.adaptive.partitioning.enable", "ToggleDefault"},
		{"metadata idle too short", func(c *Config) { c.MetadataMaxIdle = time.Second }, "metadata.max.idle.ms", "at least 5000"},
		{"request timeout beyond int32 ms", func(c *Config) { c.RequestTimeout = 30 * 24 * time.Hour }, "request.timeout.ms", "32-bit"},
		{"transaction timeout beyond int32 ms", func(c *Config) { c.TransactionTimeout = 30 * 24 * time.Hour }, "transaction.timeout.ms", "32-bit"},
		{"blank transactional id", func(c *Config) { c.TransactionalID = "  " }, "transactional.id", "blank"},
		{"unknown serializer", func(c *Config) { c.KeySerializer = "com.example.Ser" }, "key.serializer", "built-in"},
		{"send buffer too big", func(c *Config) { c.SendBufferBytes = tooBigInt }, "send.buffer.bytes", "32-bit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasSuffix(tt.name, "too big") && strconv.IntSize == 32 {
				t.Skip("an int cannot exceed int32 here")
			}
			c := base(tt.mod)
			s, err := c.resolve()
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want *ConfigError", err)
			}
			if ce.Property != tt.prop || !strings.Contains(ce.Reason, tt.reason) {
				t.Errorf("error = %v, want property %s, reason containing %q", err, tt.prop, tt.reason)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Error("error does not match ErrInvalidConfig")
			}
			if !reflect.DeepEqual(s, config.Settings{}) {
				t.Error("resolve returned settings with an error")
			}
			if err := c.Validate(); err == nil {
				t.Error("Validate accepted what resolve rejected")
			}
		})
	}
}

func TestValidateJoinsErrors(t *testing.T) {
	c := Config{BufferMemory: -1, Acks: Acks(9)}
	err := c.Validate()
	for _, want := range []string{"bootstrap.servers", "buffer.memory", "acks"} {
		if !strings.Contains(err.Error(), "kprod: invalid config "+want+"=") {
			t.Errorf("error %q lacks %s", err, want)
		}
	}
}

func TestConfigErrorMessage(t *testing.T) {
	err := error(&ConfigError{Property: "acks", Value: "2", Reason: "must be all, -1, 0 or 1"})
	if got, want := err.Error(), "kprod: invalid config acks=2: must be all, -1, 0 or 1"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrInvalidConfig) || errors.Is(err, errors.New("kprod: invalid config")) {
		t.Error("Is matches wrongly")
	}
}

func TestSentinels(t *testing.T) {
	c := base(func(c *Config) {
		c.Linger, c.MaxBlock, c.RetryBackoff, c.ReconnectBackoff = ZeroDuration, ZeroDuration, ZeroDuration, ZeroDuration
		c.MetadataMaxAge, c.PartitionerAvailabilityTimeout = ZeroDuration, ZeroDuration
		c.Retries, c.Idempotence = NoRetries, ToggleOff
		c.SendBufferBytes, c.ReceiveBufferBytes = OSDefaultBuffer, OSDefaultBuffer
		c.PartitionerAdaptive = ToggleOff
		c.Acks = AcksNone
	})
	s, err := c.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if s.Linger != 0 || s.MaxBlock != 0 || s.RetryBackoff != 0 || s.ReconnectBackoff != 0 ||
		s.MetadataMaxAge != 0 || s.PartitionerAvailabilityTimeout != 0 {
		t.Errorf("durations not zeroed: %+v", s)
	}
	if s.Retries != 0 || s.SendBufferBytes != -1 || s.ReceiveBufferBytes != -1 {
		t.Errorf("ints: retries %d send %d receive %d", s.Retries, s.SendBufferBytes, s.ReceiveBufferBytes)
	}
	if s.PartitionerAdaptive || s.Idempotent || s.Acks != config.AcksNone {
		t.Errorf("toggles/acks: %+v", s)
	}
	// reconnect.backoff.ms set alone pins the max to it (no exponential growth).
	if s.ReconnectBackoffMax != 0 {
		t.Errorf("ReconnectBackoffMax = %v, want 0", s.ReconnectBackoffMax)
	}
}

func TestResolveTimeouts(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*Config)
		check func(s config.Settings) bool
	}{
		{"unset delivery raised to linger+request", func(c *Config) { c.Linger = 100 * time.Second },
			func(s config.Settings) bool { return s.DeliveryTimeout == 130*time.Second }},
		{"explicit delivery equal to the sum is fine", func(c *Config) {
			c.Linger, c.RequestTimeout, c.DeliveryTimeout = time.Second, time.Second, 2*time.Second
		}, func(s config.Settings) bool { return s.DeliveryTimeout == 2*time.Second }},
		{"linger 0 and request 0 allow delivery 0", func(c *Config) {
			c.Linger, c.RequestTimeout, c.DeliveryTimeout = ZeroDuration, ZeroDuration, ZeroDuration
		}, func(s config.Settings) bool { return s.DeliveryTimeout == 0 && s.RequestTimeout == 0 }},
		// KafkaProducer.configureDeliveryTimeout caps linger.ms + request.timeout.ms
		// at Integer.MAX_VALUE.
		{"huge linger raises delivery to the int32 cap", func(c *Config) { c.Linger = math.MaxInt64 },
			func(s config.Settings) bool { return s.DeliveryTimeout == math.MaxInt32*time.Millisecond }},
		{"huge linger allows an explicit delivery at the cap", func(c *Config) {
			c.Linger, c.DeliveryTimeout = math.MaxInt64, math.MaxInt32*time.Millisecond
		}, func(s config.Settings) bool { return s.DeliveryTimeout == math.MaxInt32*time.Millisecond }},
		{"reconnect backoff alone pins max", func(c *Config) { c.ReconnectBackoff = 200 * time.Millisecond },
			func(s config.Settings) bool { return s.ReconnectBackoffMax == 200*time.Millisecond }},
		{"reconnect backoff above max clamps", func(c *Config) { c.ReconnectBackoff, c.ReconnectBackoffMax = 5*time.Second, 2*time.Second },
			func(s config.Settings) bool {
				return s.ReconnectBackoff == 2*time.Second && s.ReconnectBackoffMax == 2*time.Second
			}},
		{"retry backoff above max gives static max", func(c *Config) { c.RetryBackoff = 3 * time.Second },
			func(s config.Settings) bool { return s.RetryBackoff == time.Second && s.RetryBackoffMax == time.Second }},
		{"setup timeout above max clamps", func(c *Config) { c.SocketConnectionSetupTimeout = time.Minute },
			func(s config.Settings) bool { return s.SocketConnectionSetupTimeout == 30*time.Second }},
		{"sub-millisecond linger kept", func(c *Config) { c.Linger = 250 * time.Microsecond },
			func(s config.Settings) bool { return s.Linger == 250*time.Microsecond }},
		{"levels 0 take defaults", func(c *Config) { c.Compression = CompressionZstd },
			func(s config.Settings) bool {
				return s.Codec == config.CodecZstd && s.ZstdLevel == 3 && s.GzipLevel == -1 && s.LZ4Level == 9
			}},
		{"explicit gzip default level", func(c *Config) { c.GzipLevel = -1 },
			func(s config.Settings) bool { return s.GzipLevel == -1 }},
		{"bootstrap normalized", func(c *Config) { c.BootstrapServers = []string{" PLAINTEXT://k:1 ", "[::1]:2"} },
			func(s config.Settings) bool { return reflect.DeepEqual(s.BootstrapServers, []string{"k:1", "[::1]:2"}) }},
		{"round robin", func(c *Config) { c.PartitionerKind = PartitionerRoundRobin },
			func(s config.Settings) bool { return s.Partitioner == config.PartitionerRoundRobin }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base(tt.mod)
			s, err := c.resolve()
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(s) {
				t.Errorf("unexpected settings %+v", s)
			}
		})
	}
}

func TestClientID(t *testing.T) {
	c := base(nil)
	s1, _ := c.resolve()
	s2, _ := c.resolve()
	if !strings.HasPrefix(s1.ClientID, "producer-") || s1.ClientID == s2.ClientID {
		t.Errorf("generated ids %q, %q", s1.ClientID, s2.ClientID)
	}
	tx := base(func(c *Config) { c.TransactionalID = "orders" })
	if s, _ := tx.resolve(); s.ClientID != "producer-orders" {
		t.Errorf("transactional id gives %q", s.ClientID)
	}
	named := base(func(c *Config) { c.ClientID, c.TransactionalID = "me", "orders" })
	if s, _ := named.resolve(); s.ClientID != "me" {
		t.Errorf("explicit id gives %q", s.ClientID)
	}
	if _, ok := c.Properties()["client.id"]; ok {
		t.Error("Properties printed a generated client.id")
	}
}

func TestResolveDoesNotMutate(t *testing.T) {
	c := base(func(c *Config) { c.BootstrapServers = []string{"PLAINTEXT://a:1"}; c.ReconnectBackoff = time.Second })
	before := c
	before.BootstrapServers = append([]string(nil), c.BootstrapServers...)
	if _, err := c.resolve(); err != nil {
		t.Fatal(err)
	}
	_ = c.Properties()
	if !reflect.DeepEqual(c, before) {
		t.Errorf("resolve changed the config: %+v", c)
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{AcksAll.String(), "all"}, {AcksLeader.String(), "1"}, {AcksNone.String(), "0"}, {Acks(5).String(), "Acks(5)"},
		{CompressionNone.String(), "none"}, {CompressionGzip.String(), "gzip"}, {CompressionSnappy.String(), "snappy"},
		{CompressionLZ4.String(), "lz4"}, {CompressionZstd.String(), "zstd"}, {Compression(-1).String(), "Compression(-1)"},
		{ToggleDefault.String(), "default"}, {ToggleOn.String(), "true"}, {ToggleOff.String(), "false"}, {Toggle(3).String(), "Toggle(3)"},
		{PartitionerDefault.String(), "default"}, {PartitionerRoundRobin.String(), "round-robin"}, {PartitionerKind(2).String(), "PartitionerKind(2)"},
	} {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
	// The Compression values are the RecordBatch codec ids.
	for c, id := range map[Compression]int8{CompressionNone: config.CodecNone, CompressionGzip: config.CodecGzip,
		CompressionSnappy: config.CodecSnappy, CompressionLZ4: config.CodecLZ4, CompressionZstd: config.CodecZstd} {
		if int8(c) != id {
			t.Errorf("%v = %d, codec id %d", c, c, id)
		}
	}
}
