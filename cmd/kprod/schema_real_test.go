package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/internal/testregistry"
)

// The seeds' Customer schema, verbatim: its "default":"null" is a string, which
// the registry keeps as given.
const customerSchema = `{"namespace": "customerManagement.avro", "type": "record", "name": "Customer","fields": [{"name": "id", "type": "int"}, {"name": "name", "type": "string"},{"name": "email", "type": ["null","string"], "default":"null"}]}`

// realTopic creates a fresh topic on the single real cluster.
func realTopic(t *testing.T, prefix string) (*testcluster.Cluster, string) {
	t.Helper()
	c := testcluster.Real(t, 1)
	admin, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	topic := testregistry.Name(t, prefix)
	testcluster.CreateTopic(t, admin, topic, 1, 1, nil)
	testcluster.WaitTopicKnown(t, admin, topic)
	return c, topic
}

// TestRealAvroConsoleProducer: kafka-avro-console-producer's command line, with
// the seeds' Customer schema and String keys, against real Kafka and the real
// registry; Confluent's Python deserializer reads the values back. A line that
// does not match fails alone, naming the field, and is counted.
func TestRealAvroConsoleProducer(t *testing.T) {
	url := testregistry.URL(t)
	c, topic := realTopic(t, "kprod-cli-avro")
	stdin := "1\t{\"id\": 1, \"name\": \"yifan\", \"email\": null}\n" +
		"2\t{\"id\": \"two\", \"name\": \"bad\", \"email\": null}\n" +
		"3\t{\"id\": 3, \"name\": \"ann\", \"email\": {\"string\": \"ann@example.com\"}}\n" +
		"4\t{\"id\": 4, \"name\": \"bare\", \"email\": \"bare@example.com\"}\n"
	code, _, errOut := runCmd(t, stdin, "produce", "--bootstrap-server", c.BootstrapServers(), "--topic", topic,
		"--property", "schema.registry.url="+url, "value.schema="+customerSchema,
		"parse.key=true", "key.serializer=org.apache.kafka.common.serialization.StringSerializer")
	if code != 1 || !strings.Contains(errOut, "2 line(s) failed") {
		t.Fatalf("exit %d, want 1 with two failed lines:\n%s", code, errOut)
	}
	for _, want := range []string{`line 2 (not written): value: avro: customerManagement.avro.Customer field "id": Avro int wants an integer, got the string "two"`,
		`line 4 (not written): value: avro: customerManagement.avro.Customer field "email": a union value is null or an object naming its branch, as {"string": ...}`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	recs := consume(t, c.BootstrapServers(), topic, 2)
	wants := []struct{ key, value string }{
		{"1", `{"email": null, "id": 1, "name": "yifan"}`},
		{"3", `{"email": "ann@example.com", "id": 3, "name": "ann"}`},
	}
	for i, r := range recs {
		if string(r.Key) != wants[i].key {
			t.Errorf("record %d key %q, want %q", i, r.Key, wants[i].key)
		}
		if got := testregistry.Decode(t, "avro", url, topic, false, r.Value); got != wants[i].value {
			t.Errorf("record %d decoded %s, want %s", i, got, wants[i].value)
		}
	}
	// The registry holds the user's text verbatim (Apicurio's own API serves the
	// content as stored; its Confluent API a re-print).
	if got := stored(t, url, schemaID(recs[0].Value)); got != customerSchema {
		t.Errorf("registered %s\nwant the text as given %s", got, customerSchema)
	}
}

func schemaID(b []byte) int {
	if len(b) < 5 || b[0] != 0 {
		return -1
	}
	return int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4])
}

func stored(t *testing.T, url string, id int) string {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(url, "/apis/ccompat/v7") + fmt.Sprintf("/apis/registry/v3/ids/contentIds/%d", id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("content %d: %s %s", id, resp.Status, b)
	}
	return string(b)
}

// TestRealAvroKeySchemaAndSchemaID: an Avro key (key.schema.file) and a value by
// value.schema.id, which is written as given and registers nothing; a null.marker
// value is a tombstone.
func TestRealAvroKeySchemaAndSchemaID(t *testing.T) {
	url := testregistry.URL(t)
	c, topic := realTopic(t, "kprod-cli-avroid")
	// Register the Customer schema under some subject and use its id.
	subject := testregistry.Name(t, "Customer")
	body, _ := json.Marshal(map[string]string{"schema": customerSchema})
	resp, err := http.Post(url+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct{ ID int }
	json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if reg.ID == 0 {
		t.Fatal("registering the Customer schema gave no id")
	}
	keyFile := filepath.Join(t.TempDir(), "key.avsc")
	if err := os.WriteFile(keyFile, []byte(`{"type": "int"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin := "7|{\"id\": 7, \"name\": \"bo\", \"email\": {\"string\": \"bo@example.com\"}}\nx|{\"id\": 8, \"name\": \"cy\", \"email\": null}\n\"x\"|{\"id\": 8, \"name\": \"cy\", \"email\": null}\n8|NULL\n"
	code, _, errOut := runCmd(t, stdin, "produce", "--bootstrap-server", c.BootstrapServers(), "--topic", topic,
		"--line-reader", "io.confluent.kafka.formatter.AvroMessageReader",
		"--property", "schema.registry.url="+url, fmt.Sprintf("value.schema.id=%d", reg.ID), "key.schema.file="+keyFile,
		"parse.key=true", "key.separator=|", "null.marker=NULL")
	if code != 1 || !strings.Contains(errOut, "line 2 (not written): key: avro: value: not JSON") ||
		!strings.Contains(errOut, `line 3 (not written): key: avro: value: Avro int wants an integer, got the string "x"`) {
		t.Fatalf("exit %d, want lines 2 and 3 to fail on their keys:\n%s", code, errOut)
	}
	recs := consume(t, c.BootstrapServers(), topic, 2)
	if id := schemaID(recs[0].Value); id != reg.ID {
		t.Errorf("value written with schema id %d, want value.schema.id %d", id, reg.ID)
	}
	if got := testregistry.Decode(t, "avro", url, topic, false, recs[0].Value); got != `{"email": "bo@example.com", "id": 7, "name": "bo"}` {
		t.Errorf("value decoded %s", got)
	}
	if got := testregistry.Decode(t, "avro", url, topic, true, recs[0].Key); got != "7" {
		t.Errorf("key decoded %s", got)
	}
	if recs[1].Value != nil {
		t.Errorf("null.marker value written as % x, want a tombstone", recs[1].Value)
	}
	if resp, err := http.Get(url + "/subjects/" + topic + "-value/versions"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("value.schema.id registered %s-value (status %d)", topic, resp.StatusCode)
		}
	}
}

// TestRealJSONSchemaConsoleProducer: kafka-json-schema-console-producer's
// properties, with a JSON Schema key; each line is checked against the schema, as
// its reader does, and fails alone naming the field.
func TestRealJSONSchemaConsoleProducer(t *testing.T) {
	url := testregistry.URL(t)
	c, topic := realTopic(t, "kprod-cli-json")
	schema := `{"type": "object", "title": "Customer", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": ["null", "string"]}}, "required": ["id", "name"]}`
	keySchema := `{"type": "object", "title": "CustomerKey", "properties": {"id": {"type": "integer"}}, "required": ["id"]}`
	stdin := `{"id": 1}#{"id": 1, "name": "yifan", "email": null}` + "\n" +
		`{"id": 2}#{"id": "one", "name": "x"}` + "\n" +
		`{"id": 3}#not json` + "\n" +
		`{"id": "k"}#{"id": 4, "name": "d"}` + "\n"
	code, _, errOut := runCmd(t, stdin, "produce", "--bootstrap-server", c.BootstrapServers(), "--topic", topic,
		"--line-reader", "io.confluent.kafka.formatter.json.JsonSchemaMessageReader",
		"--property", "schema.registry.url="+url, "value.schema="+schema, "key.schema="+keySchema,
		"parse.key=true", "key.separator=#")
	for _, want := range []string{"3 line(s) failed", `line 2 (not written): value: `, `"/id"`, `line 3 (not written): value: not JSON: "not json"`, `line 4 (not written): key: `} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, errOut)
	}
	recs := consume(t, c.BootstrapServers(), topic, 1)
	if got := testregistry.Decode(t, "json", url, topic, false, recs[0].Value); got != `{"email": null, "id": 1, "name": "yifan"}` {
		t.Errorf("value decoded %s", got)
	}
	if got := testregistry.Decode(t, "json", url, topic, true, recs[0].Key); got != `{"id": 1}` {
		t.Errorf("key decoded %s", got)
	}
}

// TestRealProducerConfigWithConfluentSerializers: a Java producer.properties
// naming KafkaAvroSerializer, with its registry properties, is taken unchanged.
func TestRealProducerConfigWithConfluentSerializers(t *testing.T) {
	url := testregistry.URL(t)
	c, topic := realTopic(t, "kprod-cli-avrocfg")
	file := filepath.Join(t.TempDir(), "producer.properties")
	props := "bootstrap.servers=" + c.BootstrapServers() + "\nacks=all\n" +
		"key.serializer=org.apache.kafka.common.serialization.StringSerializer\n" +
		"value.serializer=io.confluent.kafka.serializers.KafkaAvroSerializer\n" +
		"schema.registry.url=" + url + "\nauto.register.schemas=true\n"
	if err := os.WriteFile(file, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, `{"id": 5, "name": "eve", "email": null}`+"\n", "produce", "--producer.config", file,
		"--topic", topic, "--property", "schema.registry.url="+url, "value.schema="+customerSchema)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := consume(t, c.BootstrapServers(), topic, 1)
	if got := testregistry.Decode(t, "avro", url, topic, false, recs[0].Value); got != `{"email": null, "id": 5, "name": "eve"}` {
		t.Errorf("decoded %s", got)
	}
}

// Construction errors name what is missing, before anything is read.
func TestSchemaPropertiesErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--property", "value.schema={\"type\":\"string\"}"}, "schema.registry.url is required"},
		{[]string{"--property", "schema.registry.url=http://127.0.0.1:1"}, "must provide the value schema in either --property value.schema"},
		{[]string{"--property", "schema.registry.url=http://127.0.0.1:1", "value.schema={\"type\":\"nope\"}"}, "value.schema"},
		{[]string{"--property", "schema.registry.url=http://127.0.0.1:1", "value.schema={\"type\":\"string\"}", "parse.key=true"}, "must provide the key schema"},
		{[]string{"--line-reader", "io.confluent.kafka.formatter.protobuf.ProtobufMessageReader", "--property", "schema.registry.url=http://127.0.0.1:1", "value.schema=syntax = \"proto3\";"}, "value.serializer"},
		{[]string{"--line-reader", "io.confluent.kafka.formatter.protobuf.ProtobufMessageReader", "--property", "schema.registry.url=http://127.0.0.1:1", "value.schema=message C { int32 id = 1 }"}, "schema.proto:1"},
		{[]string{"--line-reader", "io.confluent.kafka.formatter.protobuf.ProtobufMessageReader", "--property", "schema.registry.url=http://127.0.0.1:1"}, "must provide the value schema"},
		{[]string{"--line-reader", "com.example.Reader"}, "--line-reader \"com.example.Reader\""},
		{[]string{"--property", "schema.registry.url=http://127.0.0.1:1", "value.schema={\"type\":\"string\"}", "auto.register.schemas=maybe"}, "auto.register.schemas"},
	} {
		args := append([]string{"produce", "--bootstrap-server", "127.0.0.1:1", "--topic", "t"}, tc.args...)
		code, _, errOut := runCmd(t, "x\n", args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 saying %q", tc.args, code, errOut, tc.want)
		}
	}
}
