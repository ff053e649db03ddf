package kprod

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kprod-io/kprod/internal/config"
)

// ParseProperties reads a Java producer.properties file's syntax
// (java.util.Properties: '#' and '!' comments, key=value, key:value or key value,
// backslash line continuations, \uXXXX and other escapes) from r. The input is read
// as UTF-8. Pass the result, merged with any overrides, to ConfigFromProperties.
func ParseProperties(r io.Reader) (map[string]string, error) {
	return config.ParseProperties(r)
}

// LoadProperties reads the properties file at path, as ParseProperties does.
func LoadProperties(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kprod: %w", err)
	}
	defer f.Close()
	props, err := config.ParseProperties(f)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return props, nil
}

// ConfigFromProperties builds a Config from Java producer property names and values,
// as a Java producer would read them: values are trimmed, numbers and booleans use
// Java's syntax and each property's range is checked. An unknown property or an
// invalid value is a *ConfigError naming it; all problems are joined into one error.
// ssl.* properties are read always but used, as in Java, only for SSL and SASL_SSL
// (their stores are read when the producer is created or Validate runs). The sasl.*
// properties build Config.SASL on SASL_PLAINTEXT and SASL_SSL and are otherwise
// checked and ignored, as in Java. A secret's value never appears in an error.
// ConfigTable lists them all. Cross-field rules (and the required bootstrap.servers) are checked by
// Validate and when the producer is created, so that a file and command-line
// overrides can be combined first.
func ConfigFromProperties(props map[string]string) (Config, error) {
	var c Config
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v := config.Trim(props[k])
		p, ok := propertyIndex[k]
		if !ok {
			errs = append(errs, &ConfigError{Property: k, Value: v, Reason: unknownReason(k)})
			continue
		}
		if err := p.parse(&c, v); err != nil {
			errs = append(errs, &ConfigError{Property: k, Value: shownValue(k, v), Reason: err.Error()})
		}
	}
	errs = append(errs, checkProfileProperties(&c, props)...)
	if c.SecurityProtocol.sasl() {
		mech, serrs := saslFromProperties(props)
		errs = append(errs, serrs...)
		c.SASL = mech
	} else {
		c.SASL = nil // Java ignores the sasl.* properties then
	}
	if config.Trim(props["partitioner.class"]) == uniformStickyPartitioner {
		// KIP-794 replaced UniformStickyPartitioner by the built-in partitioner with
		// partitioner.ignore.keys=true; a custom partitioner class makes Java ignore
		// partitioner.ignore.keys, so the class wins over that property.
		c.PartitionerIgnoreKeys = true
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// Properties returns c's resolved values under Java's property names: defaults
// filled in, durations in milliseconds. Unset values without a default
// (transactional.id, serializers, an empty client.id) are left out. Secrets
// (Password fields) print as "[hidden]", as Java logs them, so they do not round-trip;
// a Config.TLS has no properties to print, a SASL mechanism its sasl.mechanism only,
// without the sasl.jaas.config that holds its credentials. Values are printed even
// when c is invalid; Validate reports the problems.
func (c Config) Properties() map[string]string {
	s, _ := c.check(false)
	out := make(map[string]string, len(configTable))
	for _, p := range configTable {
		if p.get == nil {
			continue
		}
		if v := p.get(&s); v != "" {
			out[p.Property] = v
		}
	}
	if s.SSL.EndpointIdentification == "" {
		out["ssl.endpoint.identification.algorithm"] = "" // Java's value for "no host check"
	}
	return out
}

// unknownReason explains an unknown property, suggesting a close known name.
func unknownReason(k string) string {
	best, bestDist := "", 3
	for _, p := range configTable {
		if d := editDistance(k, p.Property, bestDist); d < bestDist {
			best, bestDist = p.Property, d
		}
	}
	if best != "" {
		return "unknown producer property; did you mean " + best + "?"
	}
	return "unknown producer property"
}

// editDistance returns the Levenshtein distance of a and b, or limit when it is at
// least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// Java class names kprod maps onto built-in behaviour.
const (
	serializationPackage     = "org.apache.kafka.common.serialization."
	roundRobinPartitioner    = "org.apache.kafka.clients.producer.RoundRobinPartitioner"
	defaultPartitioner       = "org.apache.kafka.clients.producer.internals.DefaultPartitioner"
	uniformStickyPartitioner = "org.apache.kafka.clients.producer.UniformStickyPartitioner"
)

// builtinSerializers are the serializers Kafka's clients jar ships, by class name.
var builtinSerializers = func() map[string]bool {
	m := make(map[string]bool)
	for _, n := range []string{"ByteArray", "ByteBuffer", "Bytes", "String", "Integer", "Long",
		"Short", "Float", "Double", "Boolean", "UUID", "Void"} {
		m[serializationPackage+n+"Serializer"] = true
	}
	return m
}()

// Confluent's schema registry serializers, by class name. The core knows only
// their names; package kprod/serde/byname builds them.
const (
	confluentAvroSerializer       = "io.confluent.kafka.serializers.KafkaAvroSerializer"
	confluentJSONSchemaSerializer = "io.confluent.kafka.serializers.json.KafkaJsonSchemaSerializer"
	confluentProtobufSerializer   = "io.confluent.kafka.serializers.protobuf.KafkaProtobufSerializer"
)

var confluentSerializers = map[string]bool{
	confluentAvroSerializer: true, confluentJSONSchemaSerializer: true, confluentProtobufSerializer: true,
}

// fromMillis converts a Java millisecond count to a Config duration: 0 becomes
// ZeroDuration, and counts beyond time.Duration's range (about 292 years) saturate.
func fromMillis(n int64) time.Duration {
	switch {
	case n == 0:
		return ZeroDuration
	case n > math.MaxInt64/int64(time.Millisecond):
		return math.MaxInt64
	}
	return time.Duration(n) * time.Millisecond
}

// getMS prints a resolved duration as milliseconds.
func getMS(field func(*config.Settings) time.Duration) func(*config.Settings) string {
	return func(s *config.Settings) string { return millis(field(s)) }
}

// setBool parses a Java boolean into a bool field.
func setBool(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := config.ParseBool(v)
		*field(c) = b
		return err
	}
}

// setToggle parses a Java boolean into a Toggle field, which records that the
// property was set explicitly.
func setToggle(field func(*Config) *Toggle) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := config.ParseBool(v)
		if err != nil {
			return err
		}
		*field(c) = ToggleOff
		if b {
			*field(c) = ToggleOn
		}
		return nil
	}
}

// setString stores a string property.
func setString(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = v
		return nil
	}
}

// setServers parses bootstrap.servers: a non-empty list of distinct host:port.
func setServers(c *Config, v string) error {
	list := config.ParseList(v)
	if len(list) == 0 {
		return errors.New("must list at least one host:port")
	}
	seen := make(map[string]bool, len(list))
	out := make([]string, 0, len(list))
	for _, s := range list {
		hp, err := config.NormalizeServer(s)
		if err != nil {
			return fmt.Errorf("%q: %w", s, err)
		}
		if seen[hp] {
			return fmt.Errorf("%q is listed twice", s)
		}
		seen[hp] = true
		out = append(out, hp)
	}
	c.BootstrapServers = out
	return nil
}

// setAcks parses acks: all, -1, 0 or 1, exactly as Java's validator accepts them.
// setProfile stores delivery.profile; check refuses an unknown name, as for a Config.
func setProfile(c *Config, v string) error {
	if !slices.ContainsFunc(profileTable, func(r profileRow) bool { return r.profile == Profile(v) }) {
		return errors.New("must be one of " + profileNames())
	}
	c.Profile = Profile(v)
	return nil
}

func setAcks(c *Config, v string) error {
	switch v {
	case "all", "-1":
		c.Acks = AcksAll
	case "1":
		c.Acks = AcksLeader
	case "0":
		c.Acks = AcksNone
	default:
		return errors.New("must be all, -1, 0 or 1")
	}
	return nil
}

// acksName prints a resolved acks value as Java's acks property.
func acksName(a int16) string {
	if a == config.AcksAll {
		return "all"
	}
	return strconv.Itoa(int(a))
}

// setCompression parses compression.type by Java's lower-case names.
func setCompression(c *Config, v string) error {
	i := slices.Index(compressionNames[:], v)
	if i < 0 {
		return errors.New("must be none, gzip, snappy, lz4 or zstd")
	}
	c.Compression = Compression(i)
	return nil
}

// setPartitioner maps partitioner.class onto a built-in partitioner.
func setPartitioner(c *Config, v string) error {
	switch v {
	case "", defaultPartitioner, uniformStickyPartitioner:
		c.PartitionerKind = PartitionerDefault
	case roundRobinPartitioner:
		c.PartitionerKind = PartitionerRoundRobin
	default:
		return errors.New("only Kafka's built-in partitioners are accepted (" + roundRobinPartitioner +
			", " + defaultPartitioner + ", " + uniformStickyPartitioner + "); pass a Go partitioner with kprod.WithPartitioner")
	}
	return nil
}

// getPartitioner prints partitioner.class; the default partitioner prints as unset.
func getPartitioner(s *config.Settings) string {
	if s.Partitioner == config.PartitionerRoundRobin {
		return roundRobinPartitioner
	}
	return ""
}

// setTransactionalID stores transactional.id, which Java requires to be non-empty.
func setTransactionalID(c *Config, v string) error {
	if v == "" {
		return errors.New("must not be empty; remove the property for a non-transactional producer")
	}
	c.TransactionalID = v
	return nil
}

// setSerializer stores key.serializer or value.serializer if it names a serializer
// class kprod maps (checkSerializer).
func setSerializer(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if reason := checkSerializer(v); reason != "" {
			return errors.New(reason)
		}
		*field(c) = v
		return nil
	}
}

// setInterceptors accepts only an empty interceptor.classes.
func setInterceptors(_ *Config, v string) error {
	if len(nonEmpty(config.ParseList(v))) == 0 {
		return nil
	}
	return errors.New("Java interceptor classes cannot run in Go; remove the property and pass Go interceptors with kprod.WithInterceptors")
}

// setEmptyList accepts a LIST property only when it is empty.
func setEmptyList(reason string) func(*Config, string) error {
	return func(_ *Config, v string) error {
		if len(nonEmpty(config.ParseList(v))) == 0 {
			return nil
		}
		return errors.New(reason)
	}
}

// setFalse accepts a boolean property only when it is false.
func setFalse(reason string) func(*Config, string) error {
	return func(_ *Config, v string) error {
		b, err := config.ParseBool(v)
		if err != nil {
			return err
		}
		if b {
			return errors.New(reason)
		}
		return nil
	}
}

// setOneOf accepts one of values (case-insensitively if fold) and ignores it.
func setOneOf(fold bool, values ...string) func(*Config, string) error {
	return func(_ *Config, v string) error {
		for _, ok := range values {
			if v == ok || fold && strings.EqualFold(v, ok) {
				return nil
			}
		}
		return errors.New("must be one of " + strings.Join(values, ", "))
	}
}

// ignoreInt validates an ignored integer property against Java's lower bound.
func ignoreInt(bits int, lo int64) func(*Config, string) error {
	return func(_ *Config, v string) error {
		n, err := config.ParseInt(v, bits)
		if err != nil {
			return err
		}
		if n < lo {
			return errors.New("must be at least " + strconv.FormatInt(lo, 10))
		}
		return nil
	}
}

// ignoreBool validates an ignored boolean property.
func ignoreBool(_ *Config, v string) error {
	_, err := config.ParseBool(v)
	return err
}

// nonEmpty drops empty list elements.
func nonEmpty(list []string) []string {
	return slices.DeleteFunc(list, func(s string) bool { return s == "" })
}

// formatInt prints an integer setting.
func formatInt[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }

// formatBool prints a boolean setting as Java does.
func formatBool(b bool) string { return strconv.FormatBool(b) }

// jmxReporter is metric.reporters' default, the only reporter class accepted.
const jmxReporter = "org.apache.kafka.common.metrics.JmxReporter"

// setMetricReporters accepts metric.reporters when it names no class or only Java's
// JmxReporter (the default, which a Java properties file often repeats): Java reporter
// classes cannot run in Go, and there is no JMX to report to. Producer.Metrics returns
// the values; exporter modules publish them.
func setMetricReporters(_ *Config, v string) error {
	for _, name := range strings.Split(v, ",") {
		if name = strings.TrimSpace(name); name != "" && name != jmxReporter {
			return errors.New("Java metrics reporters cannot run in Go (only " + jmxReporter +
				" is accepted, and ignored: there is no JMX); read Producer.Metrics or use an exporter module")
		}
	}
	return nil
}
