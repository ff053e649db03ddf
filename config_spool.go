package kprod

import (
	"errors"
	"slices"
	"strconv"

	"github.com/kprod-io/kprod/internal/config"
)

// SpoolSync is spool.sync, a property of kprod's own: when the records Send writes to
// spool.dir are fsynced, and so which crashes they survive. Every policy survives the
// producing process's crash (kill -9 included): Send returns after write(2), when the
// record is in the operating system's page cache. The zero value is SpoolSyncInterval.
type SpoolSync int8

const (
	// SpoolSyncInterval fsyncs the spool every spool.sync.interval.ms: an operating
	// system crash or power loss loses at most the records of the last interval. Default.
	SpoolSyncInterval SpoolSync = SpoolSync(config.SpoolSyncInterval)
	// SpoolSyncAlways fsyncs before Send returns (concurrent Sends share one fsync):
	// a record whose Send returned nil survives power loss, as far as the disk honours
	// fsync. The slowest policy.
	SpoolSyncAlways SpoolSync = SpoolSync(config.SpoolSyncAlways)
	// SpoolSyncNone never fsyncs: records survive the process's crash but not the
	// operating system's crash or power loss.
	SpoolSyncNone SpoolSync = SpoolSync(config.SpoolSyncNone)
)

var spoolSyncNames = [...]string{"interval", "always", "none"}

// String returns spool.sync's value for s.
func (s SpoolSync) String() string {
	if s >= 0 && int(s) < len(spoolSyncNames) {
		return spoolSyncNames[s]
	}
	return "SpoolSync(" + strconv.Itoa(int(s)) + ")"
}

// setSpoolDir stores spool.dir (trimmed); an empty one is refused, as a blank one in
// a Config.
func setSpoolDir(c *Config, v string) error {
	if v == "" {
		return errors.New("must not be empty; remove the property for no spool")
	}
	c.SpoolDir = v
	return nil
}

func setSpoolSync(c *Config, v string) error {
	i := slices.Index(spoolSyncNames[:], v)
	if i < 0 {
		return errors.New("must be always, interval or none")
	}
	c.SpoolSync = SpoolSync(i)
	return nil
}

// checkSpool resolves the spool properties. A transaction cannot span a crash: its
// records could not be committed by the next producer, which has a new epoch, so
// spool.dir refuses transactional.id.
func checkSpool(c *Config, d *Config, s *config.Settings, errs []error) []error {
	s.SpoolDir = c.SpoolDir
	s.SpoolMaxBytes = c.SpoolMaxBytes
	if s.SpoolMaxBytes == 0 {
		s.SpoolMaxBytes = d.SpoolMaxBytes
	}
	s.SpoolSync = int8(c.SpoolSync)
	if int(c.SpoolSync) < 0 || int(c.SpoolSync) >= len(spoolSyncNames) {
		errs = append(errs, &ConfigError{Property: "spool.sync", Value: c.SpoolSync.String(),
			Reason: "must be SpoolSyncAlways, SpoolSyncInterval or SpoolSyncNone"})
		s.SpoolSync = config.SpoolSyncInterval
	}
	s.SpoolSyncInterval = duration(c.SpoolSyncInterval, d.SpoolSyncInterval)
	if c.SpoolDir != "" && config.Trim(c.SpoolDir) == "" {
		errs = append(errs, &ConfigError{Property: "spool.dir", Value: c.SpoolDir, Reason: "must not be blank"})
	}
	if c.SpoolDir != "" && c.TransactionalID != "" {
		errs = append(errs, &ConfigError{Property: "spool.dir", Value: c.SpoolDir,
			Reason: "cannot be used with transactional.id: a transaction cannot span a crash (the next producer's new epoch aborts it), so spooled records could never be committed"})
	}
	return errs
}
