package kprod_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
)

// TestProfilesResolveToTheirProperties: each profile, given alone, resolves to the
// properties ProfileSettings lists for it, printed back with delivery.profile.
func TestProfilesResolveToTheirProperties(t *testing.T) {
	for _, ps := range kprod.ProfileSettings() {
		t.Run(string(ps.Profile), func(t *testing.T) {
			cfg := kprod.Config{BootstrapServers: []string{"127.0.0.1:1"}, Profile: ps.Profile}
			if ps.Profile == kprod.ProfileTransactional {
				cfg.TransactionalID = "t"
			}
			if err := newProducerErr(cfg); err != nil {
				t.Fatal(err)
			}
			got := cfg.Properties()
			if got["delivery.profile"] != string(ps.Profile) {
				t.Errorf("delivery.profile printed %q", got["delivery.profile"])
			}
			for _, kv := range ps.Properties {
				if got[kv[0]] != kv[1] {
					t.Errorf("%s = %q, the profile sets %q", kv[0], got[kv[0]], kv[1])
				}
			}
			// The same through properties.
			props := map[string]string{"bootstrap.servers": "127.0.0.1:1", "delivery.profile": string(ps.Profile)}
			if cfg.TransactionalID != "" {
				props["transactional.id"] = "t"
			}
			fromProps, err := kprod.ConfigFromProperties(props)
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range ps.Properties {
				if v := fromProps.Properties()[kv[0]]; v != kv[1] {
					t.Errorf("properties: %s = %q, the profile sets %q", kv[0], v, kv[1])
				}
			}
		})
	}
}

// TestProfileAdjusted: a field set next to a profile wins over the profile's value, and
// the fields the profile does not set keep Kafka's defaults.
func TestProfileAdjusted(t *testing.T) {
	cfg := kprod.Config{BootstrapServers: []string{"127.0.0.1:1"}, Profile: kprod.ProfileHighThroughput,
		Linger: 50 * time.Millisecond, Compression: kprod.CompressionZstd}
	if err := newProducerErr(cfg); err != nil {
		t.Fatal(err)
	}
	got := cfg.Properties()
	for k, want := range map[string]string{"linger.ms": "50", "compression.type": "zstd", "batch.size": "131072",
		"request.timeout.ms": "30000", "acks": "all"} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	fromProps, err := kprod.ConfigFromProperties(map[string]string{"bootstrap.servers": "127.0.0.1:1",
		"delivery.profile": "high-throughput", "linger.ms": "50", "compression.type": "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	if p := fromProps.Properties(); p["linger.ms"] != "50" || p["compression.type"] != "zstd" {
		t.Errorf("properties path: linger.ms=%s compression.type=%s", p["linger.ms"], p["compression.type"])
	}
}

// TestProfilePromiseBroken: an adjustment that gives up the profile's promise fails
// creation with a *ConfigError naming the property and the profile, in a Config and in
// properties alike.
func TestProfilePromiseBroken(t *testing.T) {
	cases := []struct {
		name  string
		cfg   kprod.Config
		props map[string]string
		prop  string
	}{
		{"at-most-once retries", kprod.Config{Profile: kprod.ProfileAtMostOnce, Retries: 3},
			map[string]string{"delivery.profile": "at-most-once", "retries": "3"}, "retries"},
		{"at-least-once acks=1", kprod.Config{Profile: kprod.ProfileAtLeastOnce, Acks: kprod.AcksLeader},
			map[string]string{"delivery.profile": "at-least-once", "acks": "1"}, "acks"},
		{"at-least-once retries=0", kprod.Config{Profile: kprod.ProfileAtLeastOnce, Retries: kprod.NoRetries},
			map[string]string{"delivery.profile": "at-least-once", "retries": "0"}, "retries"},
		{"exactly-once idempotence off", kprod.Config{Profile: kprod.ProfileExactlyOnce, Idempotence: kprod.ToggleOff},
			map[string]string{"delivery.profile": "exactly-once", "enable.idempotence": "false"}, "enable.idempotence"},
		{"low-latency acks=0", kprod.Config{Profile: kprod.ProfileLowLatency, Acks: kprod.AcksNone},
			map[string]string{"delivery.profile": "low-latency", "acks": "0"}, "acks"},
		{"transactional without id", kprod.Config{Profile: kprod.ProfileTransactional},
			map[string]string{"delivery.profile": "exactly-once-transactional"}, "transactional.id"},
		{"unknown profile", kprod.Config{Profile: "exactly-twice"},
			map[string]string{"delivery.profile": "exactly-twice"}, "delivery.profile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.BootstrapServers = []string{"127.0.0.1:1"}
			c.props["bootstrap.servers"] = "127.0.0.1:1"
			fromProps, perr := kprod.ConfigFromProperties(c.props)
			if perr == nil {
				perr = newProducerErr(fromProps)
			}
			for path, err := range map[string]error{"Config": newProducerErr(c.cfg), "properties": perr} {
				var ce *kprod.ConfigError
				if !errors.As(err, &ce) || !slices.Contains(configProps(err), c.prop) {
					t.Errorf("%s: %v, want a *ConfigError naming %s", path, err, c.prop)
				}
			}
		})
	}
}

// TestProfileZeroValueOverrideRefused: acks=all and compression.type=none are the zero
// values of their fields, so a Config cannot carry them over a profile that sets other
// values; the properties path refuses them instead of letting the profile win silently.
func TestProfileZeroValueOverrideRefused(t *testing.T) {
	for _, props := range []map[string]string{
		{"delivery.profile": "at-most-once", "acks": "all"},
		{"delivery.profile": "high-throughput", "compression.type": "none"},
	} {
		props["bootstrap.servers"] = "127.0.0.1:1"
		_, err := kprod.ConfigFromProperties(props)
		var ce *kprod.ConfigError
		if !errors.As(err, &ce) || (ce.Property != "acks" && ce.Property != "compression.type") {
			t.Errorf("%v: %v, want a *ConfigError naming the overridden property", props, err)
		}
	}
	// Values equal to the profile's own, or other values, are fine.
	for _, props := range []map[string]string{
		{"delivery.profile": "exactly-once", "acks": "all"},
		{"delivery.profile": "low-latency", "compression.type": "none"},
		{"delivery.profile": "at-most-once", "acks": "0"},
	} {
		props["bootstrap.servers"] = "127.0.0.1:1"
		if _, err := kprod.ConfigFromProperties(props); err != nil {
			t.Errorf("%v: %v", props, err)
		}
	}
}
