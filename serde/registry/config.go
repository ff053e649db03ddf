package registry

import (
	"crypto/tls"
	"net/http"
	"strconv"
	"time"
)

// Config configures a Client. Its zero value, with URLs set, is a client without
// authentication or TLS, as Java's with only schema.registry.url set.
type Config struct {
	// URLs are the registry's base URLs (schema.registry.url, a comma list in Java),
	// each with any path prefix, e.g. http://host:8081 or http://host:8080/apis/ccompat/v7.
	// Requests go to the first that answers; a connection error or a 5xx moves on to the next.
	URLs []string

	// BasicAuthCredentialsSource is basic.auth.credentials.source: "" (none unless
	// BasicAuthUserInfo is set, then USER_INFO), "USER_INFO" or "URL" (credentials
	// from the user info of each URL). SASL_INHERIT is refused: kprod does not share
	// the producer's SASL credentials with the registry.
	BasicAuthCredentialsSource string
	// BasicAuthUserInfo is basic.auth.user.info, "user:password".
	BasicAuthUserInfo string
	// BearerAuthToken is bearer.auth.token (bearer.auth.credentials.source=STATIC_TOKEN).
	BearerAuthToken string

	// TLS configures https URLs (schema.registry.ssl.*); nil uses Go's defaults.
	TLS *tls.Config
	// RequestHeaders are added to every request (request.header.*).
	RequestHeaders map[string]string
	// Timeout is http.read.timeout.ms: how long one URL may take to answer before
	// the next is tried. Zero means Java's 60 s.
	Timeout time.Duration
	// ConnectTimeout is http.connect.timeout.ms: how long connecting (TLS included)
	// to one URL may take. Zero means Java's 60 s.
	ConnectTimeout time.Duration
	// HTTPClient, when set, carries the requests; TLS and the timeouts are then ignored.
	HTTPClient *http.Client
}

// Strategy is a subject name strategy (key.subject.name.strategy,
// value.subject.name.strategy): how a topic and a record name become a subject.
type Strategy int

const (
	// TopicNameStrategy uses "<topic>-key" or "<topic>-value", Java's default
	// (io.confluent.kafka.serializers.subject.TopicNameStrategy).
	TopicNameStrategy Strategy = iota
	// RecordNameStrategy uses the record's full name, so one schema spans topics.
	RecordNameStrategy
	// TopicRecordNameStrategy uses "<topic>-<full record name>".
	TopicRecordNameStrategy
)

// String returns the strategy's Java class name.
func (s Strategy) String() string {
	switch s {
	case TopicNameStrategy:
		return strategyPackage + "TopicNameStrategy"
	case RecordNameStrategy:
		return strategyPackage + "RecordNameStrategy"
	case TopicRecordNameStrategy:
		return strategyPackage + "TopicRecordNameStrategy"
	}
	return "Strategy(" + strconv.Itoa(int(s)) + ")"
}

// strategyPackage is where Confluent's Java strategies live.
const strategyPackage = "io.confluent.kafka.serializers.subject."

// SerdeConfig is the part of a serializer's configuration that decides which schema
// id a record is written with. Its zero value is Java's defaults.
type SerdeConfig struct {
	// AutoRegisterSchemas is auto.register.schemas; nil means true.
	AutoRegisterSchemas *bool
	// UseSchemaID is use.schema.id; 0 means unset (Java's -1).
	UseSchemaID int
	// UseLatestVersion is use.latest.version: with auto-registration off, write with
	// the subject's latest schema.
	UseLatestVersion bool
	// LatestCompatibilityStrict is latest.compatibility.strict; nil means true.
	LatestCompatibilityStrict *bool
	// NormalizeSchemas is normalize.schemas: ask the registry to normalize the schema
	// before registering or looking it up.
	NormalizeSchemas bool
	// KeySubjectNameStrategy and ValueSubjectNameStrategy are
	// key.subject.name.strategy and value.subject.name.strategy.
	KeySubjectNameStrategy, ValueSubjectNameStrategy Strategy
	// LatestCacheTTL is latest.cache.ttl.sec: how long the latest version of a
	// subject is cached; zero means for ever (Java's -1).
	LatestCacheTTL time.Duration
	// IDCompatibilityStrict is id.compatibility.strict; nil means true.
	IDCompatibilityStrict *bool
	// MaxSchemasPerSubject is max.schemas.per.subject; zero means 1000.
	MaxSchemasPerSubject int
}
