package kprod

import (
	"errors"
	"reflect"
	"slices"
	"strings"

	"github.com/kprod-io/kprod/internal/config"
)

// Profile is delivery.profile, a property of kprod's own (Java has none): a named
// delivery mode, the set of producer properties that gives it, and the promise those
// properties keep. The modes are the ones Kafka's documentation asks every user to
// choose between (at-most-once, at-least-once, exactly-once), plus two tunings of
// exactly-once. ProfileSettings lists each profile's properties.
//
// A profile fills the Config fields left at their zero value; fields set explicitly
// adjust it. Creating the producer then checks that the adjusted settings still keep
// the profile's promise and fails naming the property that breaks it (acks=1 under
// exactly-once, retries under at-most-once). Two of Kafka's defaults are Go zero values
// and so cannot be chosen over a profile in a Config: Acks all (AcksAll) over
// at-most-once's acks=1, and Compression none over high-throughput's lz4. Properties
// refuse acks=all and compression.type=none next to those profiles for the same reason,
// rather than ignore them; leave the profile out to have them.
type Profile string

const (
	// ProfileAtMostOnce never writes a record twice and may lose records: each batch is
	// sent once (retries=0, idempotence off), acknowledged by the leader alone (acks=1).
	ProfileAtMostOnce Profile = "at-most-once"
	// ProfileAtLeastOnce never loses an acknowledged record and may write one twice:
	// acks=all with retries until delivery.timeout.ms, idempotence off (for clusters
	// that refuse it). The broker must keep min.insync.replicas >= 2 with replication
	// factor >= 3 and unclean leader election off for "acknowledged" to mean "kept".
	ProfileAtLeastOnce Profile = "at-least-once"
	// ProfileExactlyOnce writes each record exactly once per partition, in order
	// (KIP-98's idempotent producer): acks=all, enable.idempotence=true, retries.
	ProfileExactlyOnce Profile = "exactly-once"
	// ProfileTransactional is ProfileExactlyOnce plus transactions: records of a
	// committed transaction appear once to read_committed consumers, those of an aborted
	// one never. It requires transactional.id.
	ProfileTransactional Profile = "exactly-once-transactional"
	// ProfileHighThroughput is exactly-once tuned for records per second: larger batches
	// (batch.size 128 KiB), lingering 20 ms to fill them, lz4 compression and a 64 MiB
	// buffer. It keeps ProfileExactlyOnce's promise.
	ProfileHighThroughput Profile = "high-throughput"
	// ProfileLowLatency is exactly-once tuned for the time from Send to acknowledgement:
	// no lingering (linger.ms=0) and no compression. It keeps ProfileExactlyOnce's
	// promise; acks=all stays, since acks=1 would give up that promise.
	ProfileLowLatency Profile = "low-latency"
)

type profileRow struct {
	profile Profile
	props   [][2]string
	promise string
}

// profileTable holds each profile's properties, in the order ProfileSettings lists them.
var profileTable = []profileRow{
	{ProfileAtMostOnce, [][2]string{{"acks", "1"}, {"enable.idempotence", "false"}, {"retries", "0"}},
		"never a duplicate; a record may be lost"},
	{ProfileAtLeastOnce, [][2]string{{"acks", "all"}, {"enable.idempotence", "false"}, {"retries", "2147483647"}},
		"never a loss of an acknowledged record; a record may be written twice"},
	{ProfileExactlyOnce, [][2]string{{"acks", "all"}, {"enable.idempotence", "true"}, {"retries", "2147483647"},
		{"max.in.flight.requests.per.connection", "5"}},
		"neither loss nor duplicate, in order per partition"},
	{ProfileTransactional, [][2]string{{"acks", "all"}, {"enable.idempotence", "true"}, {"retries", "2147483647"},
		{"max.in.flight.requests.per.connection", "5"}},
		"exactly-once, and all or none of a transaction's records visible to read_committed"},
	{ProfileHighThroughput, [][2]string{{"acks", "all"}, {"enable.idempotence", "true"}, {"retries", "2147483647"},
		{"linger.ms", "20"}, {"batch.size", "131072"}, {"compression.type", "lz4"}, {"buffer.memory", "67108864"}},
		"exactly-once"},
	{ProfileLowLatency, [][2]string{{"acks", "all"}, {"enable.idempotence", "true"}, {"retries", "2147483647"},
		{"linger.ms", "0"}, {"compression.type", "none"}},
		"exactly-once"},
}

// ProfileSetting is one profile as ProfileSettings lists it.
type ProfileSetting struct {
	// Profile is the profile's name, its delivery.profile value.
	Profile Profile
	// Properties are the Java producer properties the profile sets, in order.
	Properties [][2]string
	// Promise is what the profile guarantees per partition.
	Promise string
}

// ProfileSettings lists every profile with its properties and promise.
func ProfileSettings() []ProfileSetting {
	out := make([]ProfileSetting, len(profileTable))
	for i, p := range profileTable {
		out[i] = ProfileSetting{Profile: p.profile, Properties: slices.Clone(p.props), Promise: p.promise}
	}
	return out
}

// profileConfigs are profileTable's properties parsed into Configs, once; a test checks
// the table parses.
var profileConfigs, errProfiles = func() (map[Profile]Config, error) {
	out := make(map[Profile]Config, len(profileTable))
	for _, p := range profileTable {
		var c Config
		for _, kv := range p.props {
			if err := propertyIndex[kv[0]].parse(&c, kv[1]); err != nil {
				return nil, errors.New("kprod: internal error: profile " + string(p.profile) + ": " + kv[0] + "=" + kv[1] + ": " + err.Error())
			}
		}
		out[p.profile] = c
	}
	return out, nil
}()

func profileNames() string {
	names := make([]string, len(profileTable))
	for i, p := range profileTable {
		names[i] = string(p.profile)
	}
	return strings.Join(names, ", ")
}

// withProfile returns c with its profile's values in the fields c leaves at zero, or
// c itself when it names no profile or an unknown one (check reports that).
func (c *Config) withProfile() *Config {
	pc, ok := profileConfigs[c.Profile]
	if !ok {
		return c
	}
	out := *c
	dst, src := reflect.ValueOf(&out).Elem(), reflect.ValueOf(pc)
	for i := range src.NumField() {
		if f := dst.Field(i); f.IsZero() && !src.Field(i).IsZero() {
			f.Set(src.Field(i))
		}
	}
	return &out
}

// checkProfile checks that the resolved settings s keep the promise of profile p
// (Config.Profile as given, before any filling).
func checkProfile(p Profile, s *config.Settings, errs []error) []error {
	if p == "" {
		return errs
	}
	// The profile's reason replaces Java's for the same property (the profile filled
	// enable.idempotence=true, so Java's rules name it): one error per cause.
	bad := func(prop, value, reason string) {
		errs = slices.DeleteFunc(errs, func(e error) bool {
			var ce *ConfigError
			return errors.As(e, &ce) && ce.Property == prop
		})
		errs = append(errs, &ConfigError{Property: prop, Value: value, Reason: reason + " under delivery.profile=" + string(p)})
	}
	if _, ok := profileConfigs[p]; !ok {
		return append(errs, &ConfigError{Property: "delivery.profile", Value: string(p), Reason: "must be one of " + profileNames()})
	}
	switch p {
	case ProfileAtMostOnce:
		// Any resend may write a batch whose first attempt was written: a duplicate.
		if s.Retries != 0 {
			bad("retries", formatInt(s.Retries), "must be 0: a retried batch may be written twice")
		}
		if s.TransactionalID != "" {
			bad("transactional.id", s.TransactionalID, "must be unset: transactions retry")
		}
	case ProfileAtLeastOnce:
		if s.Acks != config.AcksAll {
			bad("acks", acksName(s.Acks), "must be all: a record the leader alone acknowledged is lost with the leader")
		}
		if s.Retries == 0 {
			bad("retries", "0", "must be above 0: a failed attempt would lose the record")
		}
	default: // the exactly-once family
		if s.Acks != config.AcksAll {
			bad("acks", acksName(s.Acks), "must be all: exactly-once needs every in-sync replica")
		}
		if !s.Idempotent && s.Acks == config.AcksAll && s.Retries != 0 { // else acks or retries turned it off
			bad("enable.idempotence", "false", "must be true: exactly-once is the idempotent producer (KIP-98)")
		}
		if p == ProfileTransactional && s.TransactionalID == "" {
			bad("transactional.id", "", "is required")
		}
	}
	return errs
}

// checkProfileProperties refuses properties that ask for a zero-valued field's value
// over a profile that sets another: a Config cannot tell that setting from "unset",
// so the profile's value would silently win.
func checkProfileProperties(c *Config, props map[string]string) []error {
	pc, ok := profileConfigs[c.Profile]
	if !ok {
		return nil
	}
	var errs []error
	fields := reflect.ValueOf(c).Elem()
	src := reflect.ValueOf(pc)
	for k, v := range props {
		p := propertyIndex[k]
		if p == nil || p.Field == "" || strings.Contains(p.Field, ".") {
			continue
		}
		f := fields.FieldByName(p.Field)
		if pv := src.FieldByName(p.Field); f.IsValid() && f.IsZero() && !pv.IsZero() {
			errs = append(errs, &ConfigError{Property: k, Value: config.Trim(v),
				Reason: "cannot be set over delivery.profile=" + string(c.Profile) + ", which sets another value: leave the profile out to use it"})
		}
	}
	return errs
}
