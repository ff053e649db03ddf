package registry_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod/serde/registry"
)

func TestParseProperties(t *testing.T) {
	cfg, sc, err := registry.ParseProperties(map[string]string{
		"schema.registry.url":           " http://a:8081/apis/ccompat/v7 , http://b:8081 ",
		"basic.auth.credentials.source": "user_info",
		"basic.auth.user.info":          "fred:pw",
		"auto.register.schemas":         "FALSE",
		"use.schema.id":                 "-1",
		"use.latest.version":            "true",
		"latest.compatibility.strict":   "false",
		"normalize.schemas":             "true",
		"key.subject.name.strategy":     "io.confluent.kafka.serializers.subject.RecordNameStrategy",
		"value.subject.name.strategy":   "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
		"latest.cache.ttl.sec":          "30",
		"max.schemas.per.subject":       "10",
		"request.header.X-Team":         "payments",
		"bearer.auth.logical.cluster":   "lsrc-1",
		"value.serializer":              "io.confluent.kafka.serializers.KafkaAvroSerializer", // not ours: ignored
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.URLs, ",") != "http://a:8081/apis/ccompat/v7,http://b:8081" || cfg.BasicAuthCredentialsSource != "USER_INFO" ||
		cfg.BasicAuthUserInfo != "fred:pw" || cfg.RequestHeaders["X-Team"] != "payments" || cfg.RequestHeaders["target-sr-cluster"] != "lsrc-1" || cfg.TLS != nil {
		t.Fatalf("config %+v", cfg)
	}
	if *sc.AutoRegisterSchemas || sc.UseSchemaID != 0 || !sc.UseLatestVersion || *sc.LatestCompatibilityStrict || !sc.NormalizeSchemas ||
		sc.KeySubjectNameStrategy != registry.RecordNameStrategy || sc.ValueSubjectNameStrategy != registry.TopicRecordNameStrategy ||
		sc.LatestCacheTTL != 30*time.Second || sc.MaxSchemasPerSubject != 10 {
		t.Fatalf("serde config %+v", sc)
	}
	// Java's defaults: the zero SerdeConfig.
	_, sc, err = registry.ParseProperties(map[string]string{"schema.registry.url": "http://a", "latest.cache.ttl.sec": "-1", "use.schema.id": "7"})
	if err != nil || sc.AutoRegisterSchemas != nil || sc.LatestCacheTTL != 0 || sc.UseSchemaID != 7 || sc.KeySubjectNameStrategy != registry.TopicNameStrategy {
		t.Fatalf("%+v %v", sc, err)
	}
	if _, sc, _ = registry.ParseProperties(map[string]string{"schema.registry.url": "http://a", "latest.cache.ttl.sec": "0"}); sc.LatestCacheTTL <= 0 {
		t.Fatalf("ttl 0 must expire at once, got %v", sc.LatestCacheTTL)
	}
}

func TestParsePropertiesRefuses(t *testing.T) {
	for _, tc := range []struct {
		prop, value, want string
	}{
		{"schema.registry.url", "", "schema.registry.url"},
		{"basic.auth.credentials.source", "SASL_INHERIT", "SASL_INHERIT is not supported"},
		{"basic.auth.credentials.source", "KERBEROS", "must be URL, USER_INFO or SASL_INHERIT"},
		{"bearer.auth.credentials.source", "OAUTHBEARER", "STATIC_TOKEN"},
		{"auto.register.schemas", "yes", "must be true or false"},
		{"use.latest.version", "1", "must be true or false"},
		{"use.schema.id", "x", "use.schema.id"},
		{"use.schema.id", "0", "ids start at 1"},
		{"latest.cache.ttl.sec", "-2", "latest.cache.ttl.sec"},
		{"max.schemas.per.subject", "0", "max.schemas.per.subject"},
		{"value.subject.name.strategy", "com.acme.MyStrategy", "value.subject.name.strategy=com.acme.MyStrategy: must be one of io.confluent.kafka.serializers.subject.TopicNameStrategy"},
		{"key.subject.name.strategy", "Topic", "key.subject.name.strategy"},
		{"request.header.Bad Name", "x", "request.header.Bad Name"},
		{"schema.registry.ssl.truststore.location", "/nonexistent/ts.jks", "schema.registry.ssl.truststore.location"},
		{"schema.registry.ssl.endpoint.identification.algorithm", "dns", "schema.registry.ssl.endpoint.identification.algorithm"},
		{"schema.registry.ssl.provider", "SunJSSE", "schema.registry.ssl.provider"},
	} {
		props := map[string]string{"schema.registry.url": "http://a"}
		props[tc.prop] = tc.value
		_, _, err := registry.ParseProperties(props)
		var ce *registry.ConfigError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ce) {
			t.Errorf("%s=%s: %v, want %q", tc.prop, tc.value, err, tc.want)
		}
	}
	// Secrets never appear in errors.
	_, _, err := registry.ParseProperties(map[string]string{"schema.registry.url": "http://a",
		"schema.registry.ssl.truststore.location": "/nonexistent", "schema.registry.ssl.truststore.password": "s3cret"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("%v", err)
	}
}

// Java serializer properties kprod does not implement fail naming the property
// when set to other than Java's default, which is accepted.
func TestParsePropertiesUnimplemented(t *testing.T) {
	url := map[string]string{"schema.registry.url": "http://a:8081"}
	with := func(k, v string) map[string]string {
		p := map[string]string{"schema.registry.url": url["schema.registry.url"]}
		p[k] = v
		return p
	}
	for k, v := range map[string]string{
		"proxy.host": "proxy", "proxy.port": "3128", "use.latest.with.metadata": "app=v2",
		"context.name.strategy":           "com.example.Ctx",
		"reference.subject.name.strategy": "com.example.Refs", "reference.lookup.only": "true",
		"schema.reflection": "true", "use.schema.guid": "8a1c", "propagate.schema.tags": "true",
		"rule.executors": "encrypt", "rule.executors.encrypt.class": "x", "avro.remove.java.properties": "true",
		"value.schema.id.serializer": "io.confluent.kafka.serializers.schema.id.HeaderSchemaIdSerializer",
	} {
		_, _, err := registry.ParseProperties(with(k, v))
		var ce *registry.ConfigError
		if !errors.As(err, &ce) || ce.Property != k {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
	for k, v := range map[string]string{
		"proxy.host": "", "proxy.port": "-1", "reference.lookup.only": "false", "schema.reflection": "FALSE",
		"context.name.strategy":           "io.confluent.kafka.serializers.context.NullContextNameStrategy",
		"reference.subject.name.strategy": "io.confluent.kafka.serializers.subject.DefaultReferenceSubjectNameStrategy",
	} {
		if _, _, err := registry.ParseProperties(with(k, v)); err != nil {
			t.Errorf("%s=%s (Java's default): %v", k, v, err)
		}
	}
}

// An invalid request.header.* value may be a secret: the error does not show it.
func TestParsePropertiesHeaderValueNotEchoed(t *testing.T) {
	_, _, err := registry.ParseProperties(map[string]string{
		"schema.registry.url":          "http://a:8081",
		"request.header.Authorization": "Bearer s3cret\r\nX: y",
	})
	var ce *registry.ConfigError
	if !errors.As(err, &ce) || ce.Property != "request.header.Authorization" || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("%v", err)
	}
}
