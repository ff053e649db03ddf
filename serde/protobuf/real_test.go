package protobuf_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/internal/testregistry"
	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/protobuf"
	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb"
)

type registered struct {
	ID         int    `json:"id"`
	Schema     string `json:"schema"`
	SchemaType string `json:"schemaType"`
	References []struct {
		Name    string `json:"name"`
		Subject string `json:"subject"`
		Version int    `json:"version"`
	} `json:"references"`
}

func latest(t *testing.T, registryURL, subject string) registered {
	t.Helper()
	resp, err := http.Get(registryURL + "/subjects/" + url.PathEscape(subject) + "/versions/latest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v registered
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 200 {
		t.Fatalf("subject %s: HTTP %d, %v", subject, resp.StatusCode, err)
	}
	if v.SchemaType != "PROTOBUF" {
		t.Fatalf("subject %s: schemaType %q", subject, v.SchemaType)
	}
	return v
}

// TestRealRegistryRoundTrip produces Protobuf keys (Plain) and values (Customer,
// which imports address.proto and the well-known timestamp.proto) to real Kafka,
// registering on a real Apicurio registry under each subject strategy, then reads
// them back with franz-go (header, index path, payload through proto.Unmarshal) and
// with Confluent's Python ProtobufDeserializer, which fetches the registered schema
// and its references by id, has protoc compile them (testdata/read_protobuf.py) and
// resolves the index path in them.
func TestRealRegistryRoundTrip(t *testing.T) {
	cluster := testcluster.Real(t, 1)
	registryURL := testregistry.URL(t)
	python := testregistry.Python(t)
	pbdir := t.TempDir()
	gen := exec.Command(python, "-m", "grpc_tools.protoc", "-Iinternal/testpb", "--python_out="+pbdir, "address.proto", "customer.proto", "plain.proto")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generating Python classes with grpcio-tools (pip install grpcio-tools in %s): %v\n%s", python, err, out)
	}

	for _, strategy := range []string{"TopicNameStrategy", "RecordNameStrategy", "TopicRecordNameStrategy"} {
		t.Run(strategy, func(t *testing.T) {
			topic := testregistry.Name(t, "kprod-protobuf-"+strings.ToLower(strategy))
			valueSubject := map[string]string{
				"TopicNameStrategy":       topic + "-value",
				"RecordNameStrategy":      "kprod.test.Customer",
				"TopicRecordNameStrategy": topic + "-kprod.test.Customer",
			}[strategy]
			props := map[string]string{
				"schema.registry.url":         registryURL,
				"key.subject.name.strategy":   "io.confluent.kafka.serializers.subject." + strategy,
				"value.subject.name.strategy": "io.confluent.kafka.serializers.subject." + strategy,
			}
			keys, err := protobuf.FromProperties[*testpb.Plain](props, true)
			if err != nil {
				t.Fatal(err)
			}
			defer keys.Close()
			values, err := protobuf.FromProperties[*testpb.Customer](props, false)
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
			typed := kprod.NewTyped[*testpb.Plain, *testpb.Customer](p, keys, values)
			ctx := context.Background()
			sent := []*testpb.Customer{
				{Id: 1, Name: "Ann", Address: &testpb.Address{Street: "1 Main St", City: "Oslo"},
					Created: timestamppb.New(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)), Tags: []string{"vip"}},
				{Id: 2},
				nil, // a tombstone
			}
			for i, v := range sent {
				rec := &kprod.TypedRecord[*testpb.Plain, *testpb.Customer]{Topic: topic, Key: &testpb.Plain{Text: fmt.Sprint(i), N: int64(i)}, Value: v}
				if _, err := typed.SendSync(ctx, rec); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
			}

			reg := latest(t, registryURL, valueSubject)
			if !strings.Contains(reg.Schema, "message Customer") || len(reg.References) != 1 ||
				reg.References[0].Name != "address.proto" || reg.References[0].Subject != "address.proto" {
				t.Fatalf("registered value schema %+v", reg)
			}
			if ref := latest(t, registryURL, "address.proto"); !strings.Contains(ref.Schema, "message Address") {
				t.Fatalf("address.proto registered as %q", ref.Schema)
			}

			// franz-go: header, index path and payload, checked by hand.
			for i, r := range consume(t, cluster.Bootstrap, topic, len(sent)) {
				if len(r.Key) < 6 || r.Key[0] != 0 || r.Key[5] != 0 {
					t.Fatalf("record %d key % x", i, r.Key)
				}
				var k testpb.Plain
				if err := proto.Unmarshal(r.Key[6:], &k); err != nil || k.Text != fmt.Sprint(i) {
					t.Errorf("record %d key %v %v", i, &k, err)
				}
				if sent[i] == nil {
					if r.Value != nil {
						t.Errorf("record %d value % x, want a tombstone", i, r.Value)
					}
					continue
				}
				want := binary.BigEndian.AppendUint32([]byte{0}, uint32(reg.ID))
				want = append(want, 0) // index path [0]
				if !bytes.HasPrefix(r.Value, want) {
					t.Fatalf("record %d value starts % x, want % x", i, r.Value[:min(6, len(r.Value))], want)
				}
				var got testpb.Customer
				if err := proto.Unmarshal(r.Value[len(want):], &got); err != nil || !proto.Equal(&got, sent[i]) {
					t.Errorf("record %d value %v (%v), want %v", i, &got, err, sent[i])
				}
			}

			// Confluent's Python ProtobufDeserializer.
			cmd := exec.CommandContext(pyCtx(t), python, filepath.Join("testdata", "read_protobuf.py"), cluster.BootstrapServers(), topic, registryURL, fmt.Sprint(len(sent)), pbdir)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python reader: %v\n%s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			wantValues := []string{
				`{"address":{"city":"Oslo","street":"1 Main St"},"created":"2024-05-01T10:00:00Z","id":1,"name":"Ann","tags":["vip"]}`,
				`{"id":2}`,
				`null`,
			}
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
				v, _ := json.Marshal(got.Value)
				if string(v) != wantValues[i] {
					t.Errorf("python record %d value %s, want %s", i, v, wantValues[i])
				}
				if got.Key["text"] != fmt.Sprint(i) {
					t.Errorf("python record %d key %v", i, got.Key)
				}
				if sent[i] != nil && (got.ValueSchemaID == nil || *got.ValueSchemaID != reg.ID) {
					t.Errorf("python record %d schema id %v, want %d", i, got.ValueSchemaID, reg.ID)
				}
			}
		})
	}
}

// TestRealRegistryDynamic: a schema given as text is registered exactly as given,
// and a nested message's path is written, as `kprod produce` will use it.
func TestRealRegistryDynamic(t *testing.T) {
	cluster := testcluster.Real(t, 1)
	registryURL := testregistry.URL(t)
	topic := testregistry.Name(t, "kprod-protobuf-dynamic")
	text := "syntax = \"proto3\";\npackage kprod.test;\n\n// kept verbatim\nmessage Order {\n  string id = 1;\n  message Line {   string sku = 1; int64 quantity = 2; }\n}\n"
	s, err := protobuf.DynamicFromProperties(map[string]string{"schema.registry.url": registryURL}, false, text, protobuf.DynamicOptions{MessageName: "Order.Line"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
	typed := kprod.NewTyped[[]byte, any](p, serde.Bytes(), s)
	if _, err := typed.SendSync(context.Background(), &kprod.TypedRecord[[]byte, any]{Topic: topic, Value: `{"sku":"a-1","quantity":"3"}`}); err != nil {
		t.Fatal(err)
	}
	reg := latest(t, registryURL, topic+"-value")
	if reg.Schema != text {
		t.Fatalf("registered %q, want the given text", reg.Schema)
	}
	r := consume(t, cluster.Bootstrap, topic, 1)[0]
	want := append(binary.BigEndian.AppendUint32([]byte{0}, uint32(reg.ID)), 0x04, 0x00, 0x00)
	if !bytes.HasPrefix(r.Value, want) {
		t.Fatalf("value % x, want prefix % x", r.Value, want)
	}
	var line testpb.Order_Line
	if err := proto.Unmarshal(r.Value[len(want):], &line); err != nil || line.Sku != "a-1" || line.Quantity != 3 {
		t.Fatalf("payload %v %v", &line, err)
	}
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

// TestRealRegistryNestedPathsPython writes messages of several types of one file
// (paths [0], [1], [1 0], [1 0 1]) to one topic with a Serializer[proto.Message];
// Confluent's Python deserializer resolves each record's path in the registered
// schema and decodes the payload with the type it finds, with no generated class.
func TestRealRegistryNestedPathsPython(t *testing.T) {
	cluster := testcluster.Real(t, 1)
	registryURL := testregistry.URL(t)
	python := testregistry.Python(t)
	topic := testregistry.Name(t, "kprod-protobuf-paths")
	values, err := protobuf.FromProperties[proto.Message](map[string]string{"schema.registry.url": registryURL}, false)
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
	typed := kprod.NewTyped[[]byte, proto.Message](p, serde.Bytes(), values)
	sent := []struct {
		m    proto.Message
		name string
		json string
	}{
		{&testpb.Customer{Id: 5, Name: "Cy"}, "kprod.test.Customer", `{"id":5,"name":"Cy"}`},
		{&testpb.Order{Id: "o-1"}, "kprod.test.Order", `{"id":"o-1"}`},
		{&testpb.Order_Line{Sku: "s", Quantity: 4}, "kprod.test.Order.Line", `{"quantity":"4","sku":"s"}`},
		{&testpb.Order_Line_Note{Text: "fragile"}, "kprod.test.Order.Line.Note", `{"text":"fragile"}`},
	}
	for _, s := range sent {
		if _, err := typed.SendSync(context.Background(), &kprod.TypedRecord[[]byte, proto.Message]{Topic: topic, Value: s.m}); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(pyCtx(t), python, filepath.Join("testdata", "read_protobuf.py"), cluster.BootstrapServers(), topic, registryURL, fmt.Sprint(len(sent)), "-")
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
			Message string         `json:"message"`
			Value   map[string]any `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		v, _ := json.Marshal(got.Value)
		if got.Message != sent[i].name || string(v) != sent[i].json {
			t.Errorf("record %d: python found %s %s, want %s %s", i, got.Message, v, sent[i].name, sent[i].json)
		}
	}
}

// pyCtx bounds a Python reader: it gives up on its own after 30 s without a record,
// but a wedged process must fail the test, not hang it.
func pyCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
