package jsonschema_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/jsonschema"
	"github.com/kprod-io/kprod/serde/registry"
)

// realRegistry returns the URL of the Apicurio registry scripts/registry runs
// (schema.registry.url, with its /apis/ccompat/v7 prefix), or skips the test; with
// KPROD_REQUIRE_KAFKA=1 a missing registry fails it.
func realRegistry(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(registryCache(), "run", "url"))
	if err != nil {
		absent(t, "schema registry", err.Error(), "`scripts/registry up`")
	}
	u := strings.TrimSpace(string(b))
	resp, err := http.Get(u + "/subjects")
	if err != nil {
		absent(t, "schema registry", err.Error(), "`scripts/registry up`")
	}
	resp.Body.Close()
	return u
}

func registryCache() string {
	if d := os.Getenv("KPROD_REGISTRY_CACHE"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "kprod", "registry")
}

func absent(t *testing.T, what, why, start string) {
	t.Helper()
	testcluster.Absent(t, what, why, "start it with "+start)
}

// latest is the subject's latest version as the registry stores it.
func latest(t *testing.T, registryURL, subject string) (id int, text string) {
	t.Helper()
	resp, err := http.Get(registryURL + "/subjects/" + url.PathEscape(subject) + "/versions/latest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		ID         int    `json:"id"`
		Schema     string `json:"schema"`
		SchemaType string `json:"schemaType"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 200 {
		t.Fatalf("subject %s: HTTP %d, %v", subject, resp.StatusCode, err)
	}
	if v.SchemaType != "JSON" {
		t.Fatalf("subject %s: schemaType %q, want JSON", subject, v.SchemaType)
	}
	return v.ID, v.Schema
}

type customerKey struct {
	ID string `json:"id"`
}

// TestRealRegistryRoundTrip produces keys and values with JSON Schema to real Kafka,
// registered in a real Apicurio registry under each subject strategy, and reads them
// back with franz-go (the wire bytes and the registered text) and with Confluent's
// Python JSONDeserializer (an independent decoder that validates against the schema
// it finds by id).
func TestRealRegistryRoundTrip(t *testing.T) {
	cluster := testcluster.Real(t, 1)
	registryURL := realRegistry(t)
	python := filepath.Join(registryCache(), "venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		absent(t, "Confluent's Python client", err.Error(), "the registry venv (confluent-kafka[schemaregistry])")
	}
	run := time.Now().UnixNano()
	for _, strategy := range []string{"TopicNameStrategy", "RecordNameStrategy", "TopicRecordNameStrategy"} {
		t.Run(strategy, func(t *testing.T) {
			topic := fmt.Sprintf("kprod-jsonschema-%s-%d", strings.ToLower(strategy), run)
			keyTitle := fmt.Sprintf("kprod.test.CustomerKey%d", run)
			valueTitle := fmt.Sprintf("kprod.test.Customer%d", run)
			keySchema := `{"title":"` + keyTitle + `","type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`
			valueSchema := strings.Replace(customerSchema, `"title": "Customer"`, `"title": "`+valueTitle+`"`, 1)
			keySubject, valueSubject := map[string][2]string{
				"TopicNameStrategy":       {topic + "-key", topic + "-value"},
				"RecordNameStrategy":      {keyTitle, valueTitle},
				"TopicRecordNameStrategy": {topic + "-" + keyTitle, topic + "-" + valueTitle},
			}[strategy][0], map[string][2]string{
				"TopicNameStrategy":       {topic + "-key", topic + "-value"},
				"RecordNameStrategy":      {keyTitle, valueTitle},
				"TopicRecordNameStrategy": {topic + "-" + keyTitle, topic + "-" + valueTitle},
			}[strategy][1]

			props := map[string]string{
				"schema.registry.url":         registryURL,
				"key.subject.name.strategy":   "io.confluent.kafka.serializers.subject." + strategy,
				"value.subject.name.strategy": "io.confluent.kafka.serializers.subject." + strategy,
				"json.fail.invalid.schema":    "true",
			}
			keys, err := jsonschema.FromProperties[customerKey](props, true, keySchema)
			if err != nil {
				t.Fatal(err)
			}
			defer keys.Close()
			values, err := jsonschema.FromProperties[*Customer](props, false, valueSchema)
			if err != nil {
				t.Fatal(err)
			}
			defer values.Close()

			admin, err := kgo.NewClient(kgo.SeedBrokers(cluster.Bootstrap...))
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			testcluster.CreateTopic(t, admin, topic, 1, 1, nil)
			testcluster.WaitTopicKnown(t, admin, topic)

			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(context.Background())
			typed := kprod.NewTyped[customerKey, *Customer](p, keys, values)
			ctx := context.Background()
			ann := "Ann <ann@example.com>"
			sent := []*Customer{{Name: &ann, Email: "ann@example.com", Age: 42}, {Email: "bo@example.com", Age: 7}, nil}
			for i, v := range sent {
				if _, err := typed.SendSync(ctx, &kprod.TypedRecord[customerKey, *Customer]{Topic: topic, Key: customerKey{fmt.Sprint(i)}, Value: v}); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
			}
			// A value the schema refuses fails Send at once and is never written.
			err = typed.Send(ctx, &kprod.TypedRecord[customerKey, *Customer]{Topic: topic, Key: customerKey{"bad"}, Value: &Customer{Email: "x", Age: -5}}, nil)
			var ve *jsonschema.ValidationError
			if !errors.As(err, &ve) || ve.Pointer != "/age" || kprod.MaybeWritten(err) {
				t.Fatalf("invalid value: err = %v, want a ValidationError at /age, not maybe-written", err)
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}

			keyID, keyText := latest(t, registryURL, keySubject)
			valueID, valueText := latest(t, registryURL, valueSubject)
			if keyText != keySchema || valueText != valueSchema {
				t.Fatalf("registered texts differ from the given ones:\nkey   %q\nvalue %q", keyText, valueText)
			}

			// franz-go: the exact wire bytes.
			recs := consume(t, cluster.Bootstrap, topic, len(sent))
			for i, r := range recs {
				wantKey := append(header(keyID), fmt.Sprintf(`{"id":"%d"}`, i)...)
				if !bytes.Equal(r.Key, wantKey) {
					t.Errorf("record %d key %q, want %q", i, r.Key, wantKey)
				}
				if sent[i] == nil {
					if r.Value != nil {
						t.Errorf("record %d: value %q, want a tombstone", i, r.Value)
					}
					continue
				}
				body, _ := json.Marshal(sent[i])
				body = bytes.ReplaceAll(body, []byte(`\u003c`), []byte("<")) // written without HTML escaping
				body = bytes.ReplaceAll(body, []byte(`\u003e`), []byte(">"))
				if want := append(header(valueID), body...); !bytes.Equal(r.Value, want) {
					t.Errorf("record %d value %q, want %q", i, r.Value, want)
				}
			}

			// Confluent's Python JSONDeserializer.
			cmd := exec.Command(python, filepath.Join("testdata", "read_jsonschema.py"), cluster.BootstrapServers(), topic, registryURL, fmt.Sprint(len(sent)))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python reader: %v\n%s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != len(sent) {
				t.Fatalf("python read %d records, want %d:\n%s", len(lines), len(sent), out)
			}
			for i, line := range lines {
				var got struct {
					Key           map[string]any `json:"key"`
					Value         map[string]any `json:"value"`
					ValueSchemaID *int           `json:"value_schema_id"`
				}
				if err := json.Unmarshal([]byte(line), &got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Key, map[string]any{"id": fmt.Sprint(i)}) {
					t.Errorf("python record %d key %v", i, got.Key)
				}
				var want map[string]any
				if sent[i] != nil {
					b, _ := json.Marshal(sent[i])
					_ = json.Unmarshal(b, &want)
				}
				if !reflect.DeepEqual(got.Value, want) {
					t.Errorf("python record %d value %v, want %v", i, got.Value, want)
				}
				if sent[i] != nil && (got.ValueSchemaID == nil || *got.ValueSchemaID != valueID) {
					t.Errorf("python record %d schema id %v, want %d", i, got.ValueSchemaID, valueID)
				}
			}
		})
	}
}

func header(id int) []byte {
	return binary.BigEndian.AppendUint32([]byte{0}, uint32(id))
}

// consume reads n records of topic from the start with franz-go.
func consume(t *testing.T, bootstrap []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", len(recs), n, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// With Java's default json.fail.invalid.schema=false the serializer writes a value
// the schema refuses, unchecked, as KafkaJsonSchemaSerializer does; Confluent's
// validating Python deserializer then refuses to read it. This is why the check
// exists, and it proves the Python reader validates what the round trip test reads.
func TestRealRegistryDefaultWritesUnchecked(t *testing.T) {
	cluster := testcluster.Real(t, 1)
	registryURL := realRegistry(t)
	python := filepath.Join(registryCache(), "venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		absent(t, "Confluent's Python client", err.Error(), "the registry venv (confluent-kafka[schemaregistry])")
	}
	topic := fmt.Sprintf("kprod-jsonschema-unchecked-%d", time.Now().UnixNano())
	values, err := jsonschema.FromProperties[*Customer](map[string]string{"schema.registry.url": registryURL}, false, customerSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer values.Close()
	admin, err := kgo.NewClient(kgo.SeedBrokers(cluster.Bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	testcluster.CreateTopic(t, admin, topic, 1, 1, nil)
	testcluster.WaitTopicKnown(t, admin, topic)
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	typed := kprod.NewTyped[[]byte, *Customer](p, serde.Bytes(), values) // a null key
	if _, err := typed.SendSync(context.Background(), &kprod.TypedRecord[[]byte, *Customer]{Topic: topic, Value: &Customer{Email: "x", Age: -5}}); err != nil {
		t.Fatalf("unchecked by default, as in Java: %v", err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "read_jsonschema.py"), cluster.BootstrapServers(), topic, registryURL, "1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "less than the minimum") {
		t.Fatalf("Confluent's deserializer read an invalid value: err %v\n%s", err, out)
	}
}

// A schema importing another through a registry reference: registered with its
// reference, validated against both, and decoded by Confluent's Python deserializer,
// which resolves the reference through the registry itself.
func TestRealRegistryReferences(t *testing.T) {
	cluster := testcluster.Real(t, 1)
	registryURL := realRegistry(t)
	python := filepath.Join(registryCache(), "venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		absent(t, "Confluent's Python client", err.Error(), "the registry venv (confluent-kafka[schemaregistry])")
	}
	run := time.Now().UnixNano()
	topic := fmt.Sprintf("kprod-jsonschema-refs-%d", run)
	addrSubject := fmt.Sprintf("kprod-test-address-%d", run)
	addr := `{"type":"object","properties":{"zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["zip"]}`
	body, _ := json.Marshal(map[string]string{"schema": addr, "schemaType": "JSON"})
	resp, err := http.Post(registryURL+"/subjects/"+addrSubject+"/versions", "application/vnd.schemaregistry.v1+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("registering the referenced schema: HTTP %d", resp.StatusCode)
	}
	order := `{"title":"Order","type":"object","properties":{"ship":{"$ref":"address.json"}},"required":["ship"]}`

	c, err := registry.New(registry.Config{URLs: []string{registryURL}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	values, err := jsonschema.NewSerializer[map[string]any](registry.NewResolver(c, registry.SerdeConfig{}, false), order, jsonschema.Options{
		FailInvalidSchema: true,
		References:        []jsonschema.Reference{{Name: "address.json", Subject: addrSubject, Version: 1, Text: addr}},
	})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := kgo.NewClient(kgo.SeedBrokers(cluster.Bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	testcluster.CreateTopic(t, admin, topic, 1, 1, nil)
	testcluster.WaitTopicKnown(t, admin, topic)
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	typed := kprod.NewTyped[[]byte, map[string]any](p, serde.Bytes(), values)
	ctx := context.Background()
	err = typed.Send(ctx, &kprod.TypedRecord[[]byte, map[string]any]{Topic: topic, Value: map[string]any{"ship": map[string]any{"zip": "12"}}}, nil)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) || ve.Pointer != "/ship/zip" {
		t.Fatalf("err = %v, want a failure at /ship/zip from the referenced schema", err)
	}
	if _, err := typed.SendSync(ctx, &kprod.TypedRecord[[]byte, map[string]any]{Topic: topic, Value: map[string]any{"ship": map[string]any{"zip": "12345"}}}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "read_jsonschema.py"), cluster.BootstrapServers(), topic, registryURL, "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python reader: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(string(out), `"value": {"ship": {"zip": "12345"}}`) {
		t.Fatalf("python read %s", out)
	}
}
