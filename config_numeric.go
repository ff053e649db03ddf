package kprod

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/kprod-io/kprod/internal/config"
)

// A numeric property's valid values are written once, as its configTable row's
// validator (Java's ConfigDef validator in ProducerConfig), and both ways of configuring
// a producer go through it: ConfigFromProperties checks the Java value it parses, and
// Config's validation checks the Java value each struct field stands for. So a value is
// invalid in a properties file exactly when its Config field equivalent is (Retries: -5
// and retries=-5 alike), and the error names the same property.

// numeric maps a numeric property onto its Config field.
type numeric struct {
	// bits is 32 for a Java INT, 64 for a LONG: the type's range comes before valid.
	bits int
	// valid is ConfigDef's validator: why a Java value is invalid, or "".
	valid func(n int64) string
	// store sets the field to a valid Java value.
	store func(c *Config, n int64)
	// load returns the Java value the field stands for and how to print it; set is
	// false when the field is zero, which means Kafka's default.
	load func(c *Config) (n int64, shown string, set bool)
}

// parse sets c's field from a properties value.
func (m *numeric) parse(c *Config, v string) error {
	n, err := config.ParseInt(v, m.bits)
	if err != nil {
		return err
	}
	if reason := m.valid(n); reason != "" {
		return errors.New(reason)
	}
	m.store(c, n)
	return nil
}

// check returns why the Java value n is invalid, or "": first the Java type's range,
// with ParseInt's words, then the validator.
func (m *numeric) check(n int64) string {
	if m.bits == 32 && (n < math.MinInt32 || n > math.MaxInt32) {
		return "out of range for a 32-bit int"
	}
	return m.valid(n)
}

// millisField maps a millisecond property onto a duration field: zero is unset,
// ZeroDuration is Java's 0, and any other negative duration is invalid as Java's
// negative counts are (ConfigDef's atLeast(0)). A sub-millisecond remainder is kept
// by the field and ignored by the check, except that a negative one stays negative.
func millisField(bits int, valid func(int64) string, field func(*Config) *time.Duration) *numeric {
	return &numeric{bits: bits, valid: valid,
		store: func(c *Config, n int64) { *field(c) = fromMillis(n) },
		load: func(c *Config) (int64, string, bool) {
			d := *field(c)
			switch {
			case d == 0:
				return 0, "", false
			case d == ZeroDuration:
				return 0, "0", true
			case d < 0 && d%time.Millisecond != 0:
				return d.Milliseconds() - 1, d.String(), true // floor: -0.5ms is negative
			}
			return d.Milliseconds(), millis(d), true
		}}
}

// intField maps an integer property onto a field holding the Java value itself, zero
// being unset. With zeroAsMinusOne the field writes Java's 0 as -1 (NoRetries,
// NoBatching), since its 0 means unset; only -1 means that, and other negative values
// are the invalid Java values they read as.
func intField[T int | int64](bits int, valid func(int64) string, zeroAsMinusOne bool, field func(*Config) *T) *numeric {
	return &numeric{bits: bits, valid: valid,
		store: func(c *Config, n int64) {
			if n == 0 && zeroAsMinusOne {
				n = -1
			}
			*field(c) = T(n)
		},
		load: func(c *Config) (int64, string, bool) {
			n := int64(*field(c))
			switch {
			case n == 0:
				return 0, "", false
			case n == -1 && zeroAsMinusOne:
				return 0, "0", true
			}
			return n, strconv.FormatInt(n, 10), true
		}}
}

// atLeast is ConfigDef.Range.atLeast.
func atLeast(lo int64) func(int64) string { return between(lo, math.MaxInt64) }

// between is ConfigDef.Range.between.
func between(lo, hi int64) func(int64) string {
	return func(n int64) string { return checkRange(n, lo, hi) }
}

// minusOneOr accepts -1, a "default" marker (deflate's default level, the operating
// system's socket buffer size), besides lo to hi.
func minusOneOr(lo, hi int64, reason string) func(int64) string {
	return func(n int64) string {
		if n == -1 || n >= lo && n <= hi {
			return ""
		}
		return reason
	}
}

// checkRange returns why n is outside [lo, hi], or "".
func checkRange(n, lo, hi int64) string {
	switch {
	case n < lo && lo == 1:
		return "must be positive"
	case n < lo:
		return "must be at least " + strconv.FormatInt(lo, 10)
	case n > hi:
		return "must be at most " + strconv.FormatInt(hi, 10)
	}
	return ""
}

// checkNumbers checks every numeric field of c against its property's validator and
// returns the properties found invalid, whose cross-field rules are then skipped.
func checkNumbers(c *Config, bad func(prop, value, reason string)) map[string]bool {
	var invalid map[string]bool
	for i := range configTable {
		p := &configTable[i]
		if p.num == nil {
			continue
		}
		n, shown, set := p.num.load(c)
		if !set {
			continue // the default, valid by TestConfigTableRowsAreComplete
		}
		if reason := p.num.check(n); reason != "" {
			bad(p.Property, shown, reason)
			if invalid == nil {
				invalid = map[string]bool{}
			}
			invalid[p.Property] = true
		}
	}
	return invalid
}

// gzipLevel is GzipCompression's level validator: deflate's levels or -1 for its default.
var gzipLevel = minusOneOr(config.GzipMinLevel, config.GzipMaxLevel, "must be -1 (default) or 1 to 9")

// socketBuffer checks send.buffer.bytes and receive.buffer.bytes. Java accepts 0 too
// (atLeast(-1)), then fails on connecting when the socket refuses a 0-byte buffer;
// kprod refuses it up front, and in a Config 0 means the default.
var socketBuffer = minusOneOr(1, math.MaxInt32, "must be -1 (operating system default) or positive")
