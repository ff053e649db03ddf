package avro_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/internal/testregistry"
	"github.com/kprod-io/kprod/serde"
	avroserde "github.com/kprod-io/kprod/serde/avro"
	"github.com/kprod-io/kprod/serde/registry"
)

type readBack struct {
	Key     any            `json:"key"`
	Value   map[string]any `json:"value"`
	KeyID   *int           `json:"key_id"`
	ValueID *int           `json:"value_id"`
}

func readWithPython(t *testing.T, py, url, bootstrap, topic string, n int, avroKey bool) []readBack {
	t.Helper()
	flag := "0"
	if avroKey {
		flag = "1"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "testdata/read_confluent.py", url, bootstrap, topic, fmt.Sprint(n), flag)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Python reader: %v\n%s", err, stderr.String())
	}
	var recs []readBack
	if err := json.Unmarshal(out, &recs); err != nil {
		t.Fatalf("Python reader output %q: %v", out, err)
	}
	return recs
}

const customerKeySchema = `{"type": "record", "name": "CustomerKey", "namespace": "customerManagement.avro",
  "fields": [{"name": "id", "type": "int"}]}`

const orderSchema = `{"type": "record", "name": "com.example.shop.Order", "namespace": "ignored",
  "doc": "kept verbatim: the registry must get this text, doc and odd spacing included",
  "fields": [
    {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "placedMicros", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "due", "type": {"type": "int", "logicalType": "date"}},
    {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}, "default": "NEW"},
    {"name": "coupon", "type": ["null", "string"], "default": null}]}`

type CustomerKey struct {
	ID int32 `avro:"id"`
}

// TestRealRegistryConfluentPythonReadsBack is the seeds' Customer example end to
// end: kprod's typed producer writes Avro keys and values to a real Kafka cluster,
// registering on a real registry (Apicurio, Confluent-compatible API) under each
// subject name strategy; Confluent's Python client reads the records back and
// decodes them, logical types included; and the registry holds the schema text
// exactly as given.
func TestRealRegistryConfluentPythonReadsBack(t *testing.T) {
	url := testregistry.URL(t)
	py := testregistry.Python(t)
	cluster := testcluster.Real(t, 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.Bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()
	rc, err := registry.New(registry.Config{URLs: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	// verbatim checks that the registry stored exactly the text given. Apicurio's
	// Confluent API serves a re-print (compact, its own key order, a dotted name
	// split into name and namespace), which must be the same schema; its own API
	// serves the content stored, which must be the text byte for byte.
	verbatim := func(t *testing.T, id *int, text string) {
		t.Helper()
		if id == nil {
			t.Fatal("no schema id")
		}
		s, err := rc.SchemaByID(ctx, *id)
		if err != nil {
			t.Fatal(err)
		}
		got, err1 := avro.Parse(s.Text)
		want, err2 := avro.Parse(text)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Canonical(), want.Canonical()) {
			t.Fatalf("registry's schema %d is\n%s\nnot the text given\n%s", *id, s.Text, text)
		}
		native := strings.TrimSuffix(url, "/apis/ccompat/v7") + fmt.Sprintf("/apis/registry/v3/ids/contentIds/%d", *id)
		resp, err := http.Get(native)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		stored, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(stored) != text {
			t.Fatalf("GET %s: %s\n%s\nwant the text given, verbatim\n%s", native, resp.Status, stored, text)
		}
	}
	props := func(strategy string) map[string]string {
		return map[string]string{
			"schema.registry.url":         url,
			"key.subject.name.strategy":   "io.confluent.kafka.serializers.subject." + strategy,
			"value.subject.name.strategy": "io.confluent.kafka.serializers.subject." + strategy,
		}
	}
	subjectHas := func(t *testing.T, subject string, id int) {
		t.Helper()
		// Look the schema up under the subject the strategy should have used.
		var found bool
		for _, text := range []string{customerSchema, customerKeySchema, orderSchema} {
			got, _, err := lookupUnder(ctx, rc, subject, text)
			if err == nil && got == id {
				found = true
			}
		}
		if !found {
			t.Fatalf("schema id %d is not registered under subject %q", id, subject)
		}
	}

	t.Run("Customer/TopicNameStrategy/string-key", func(t *testing.T) {
		topic := testregistry.Name(t, "avro-customer")
		testcluster.CreateTopic(t, cl, topic, 1, 1, nil)
		values, err := avroserde.NewSerializerFromProperties[*Customer](customerSchema, props("TopicNameStrategy"), false)
		if err != nil {
			t.Fatal(err)
		}
		defer values.Close()
		producer := kprod.NewTyped(p, serde.String(), values)
		for _, c := range []*Customer{{ID: 1, Name: "yifan", Email: ptr("yifan@example.com")}, {ID: 2, Name: "bo"}, nil} {
			key := "gone"
			if c != nil {
				key = fmt.Sprint(c.ID)
			}
			if _, err := producer.SendSync(ctx, &kprod.TypedRecord[string, *Customer]{Topic: topic, Key: key, Value: c}); err != nil {
				t.Fatal(err)
			}
		}
		got := readWithPython(t, py, url, cluster.BootstrapServers(), topic, 3, false)
		want := []string{
			`{"key":"1","value":{"email":"yifan@example.com","id":1,"name":"yifan"}}`,
			`{"key":"2","value":{"email":null,"id":2,"name":"bo"}}`,
			`{"key":"gone","value":null}`,
		}
		for i, r := range got {
			b, _ := json.Marshal(map[string]any{"key": r.Key, "value": r.Value})
			if string(b) != want[i] {
				t.Errorf("record %d: Python read %s, want %s", i, b, want[i])
			}
		}
		if got[2].ValueID != nil {
			t.Error("the tombstone has a schema id")
		}
		verbatim(t, got[0].ValueID, customerSchema)
		subjectHas(t, topic+"-value", *got[0].ValueID)
	})

	t.Run("Customer/RecordNameStrategy/avro-key", func(t *testing.T) {
		topic := testregistry.Name(t, "avro-customer-keyed")
		testcluster.CreateTopic(t, cl, topic, 1, 1, nil)
		keys, err := avroserde.NewSerializerFromProperties[CustomerKey](customerKeySchema, props("RecordNameStrategy"), true)
		if err != nil {
			t.Fatal(err)
		}
		defer keys.Close()
		values, err := avroserde.NewSerializerFromProperties[map[string]any](customerSchema, props("RecordNameStrategy"), false)
		if err != nil {
			t.Fatal(err)
		}
		defer values.Close()
		producer := kprod.NewTyped(p, keys, values)
		if _, err := producer.SendSync(ctx, &kprod.TypedRecord[CustomerKey, map[string]any]{
			Topic: topic, Key: CustomerKey{ID: 3}, Value: map[string]any{"id": 3, "name": "cy"},
		}); err != nil {
			t.Fatal(err)
		}
		got := readWithPython(t, py, url, cluster.BootstrapServers(), topic, 1, true)
		b, _ := json.Marshal(map[string]any{"key": got[0].Key, "value": got[0].Value})
		if want := `{"key":{"id":3},"value":{"email":null,"id":3,"name":"cy"}}`; string(b) != want {
			t.Fatalf("Python read %s, want %s", b, want)
		}
		verbatim(t, got[0].KeyID, customerKeySchema)
		verbatim(t, got[0].ValueID, customerSchema)
		subjectHas(t, "customerManagement.avro.CustomerKey", *got[0].KeyID)
		subjectHas(t, "customerManagement.avro.Customer", *got[0].ValueID)
	})

	t.Run("Order/TopicRecordNameStrategy/logical-types", func(t *testing.T) {
		topic := testregistry.Name(t, "avro-order")
		testcluster.CreateTopic(t, cl, topic, 1, 1, nil)
		type Order struct {
			ID           string    `avro:"id"`
			Placed       time.Time `avro:"placed"`
			PlacedMicros time.Time `avro:"placedMicros"`
			Due          time.Time `avro:"due"`
			Total        *big.Rat  `avro:"total"`
			Status       string    `avro:"status"`
			Coupon       *string   `avro:"coupon"`
		}
		values, err := avroserde.NewSerializerFromProperties[*Order](orderSchema, props("TopicRecordNameStrategy"), false)
		if err != nil {
			t.Fatal(err)
		}
		defer values.Close()
		producer := kprod.NewTyped(p, serde.String(), values)
		at := time.Date(2026, 12, 4, 15, 10, 46, 123456000, time.UTC)
		o := &Order{ID: "123e4567-e89b-12d3-a456-426614174000", Placed: at, PlacedMicros: at,
			Due: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), Total: big.NewRat(1234567, 100), Status: "PAID", Coupon: ptr("XMAS")}
		if _, err := producer.SendSync(ctx, &kprod.TypedRecord[string, *Order]{Topic: topic, Key: o.ID, Value: o}); err != nil {
			t.Fatal(err)
		}
		got := readWithPython(t, py, url, cluster.BootstrapServers(), topic, 1, false)
		b, _ := json.Marshal(got[0].Value)
		want := `{"coupon":"XMAS","due":"2026-12-31","id":"123e4567-e89b-12d3-a456-426614174000",` +
			`"placed":"2026-12-04 15:10:46.123000+00:00","placedMicros":"2026-12-04 15:10:46.123456+00:00",` +
			`"status":"PAID","total":"12345.67"}`
		if string(b) != want {
			t.Fatalf("Python read %s\nwant %s", b, want)
		}
		verbatim(t, got[0].ValueID, orderSchema)
		subjectHas(t, topic+"-com.example.shop.Order", *got[0].ValueID)
	})
}

// lookupUnder asks the registry for text's id under subject, without registering.
func lookupUnder(ctx context.Context, c *registry.Client, subject, text string) (int, registry.Schema, error) {
	no := false
	r := registry.NewResolver(c, registry.SerdeConfig{AutoRegisterSchemas: &no, ValueSubjectNameStrategy: registry.RecordNameStrategy}, false)
	return r.ID(ctx, "", subject, registry.Schema{Type: "AVRO", Text: text})
}
