package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/kprod-io/kprod/internal/testregistry"
)

// The seeds' Customer as a .proto file, for kafka-protobuf-console-producer (no
// final newline: a --property value is trimmed).
const customerProto = `syntax = "proto3";
package customerManagement.proto;

message Customer {
  int32 id = 1;
  string name = 2;
  optional string email = 3;
}`

// pbFrame splits Confluent's Protobuf framing: magic 0, schema id, message-index
// path (zigzag varints, count first), payload.
func pbFrame(t *testing.T, b []byte) (int, []int64, []byte) {
	t.Helper()
	if len(b) < 6 || b[0] != 0 {
		t.Fatalf("not Confluent-framed: % x", b)
	}
	rest := b[5:]
	n, k := binary.Varint(rest)
	if k <= 0 {
		t.Fatalf("bad index path in % x", b)
	}
	rest = rest[k:]
	var path []int64
	for range n {
		v, k := binary.Varint(rest)
		if k <= 0 {
			t.Fatalf("bad index path in % x", b)
		}
		path, rest = append(path, v), rest[k:]
	}
	return schemaID(b), path, rest
}

// TestRealProtobufConsoleProducer: kafka-protobuf-console-producer's command line
// (ProtobufMessageReader, value.schema as .proto text, String keys), one protojson
// value per line, against real Kafka and the real registry; Confluent's Python
// ProtobufDeserializer reads the values back through the registered schema. Lines
// that do not match fail alone, naming the field, and are counted.
func TestRealProtobufConsoleProducer(t *testing.T) {
	url := testregistry.URL(t)
	python := testregistry.Python(t)
	c, topic := realTopic(t, "kprod-cli-protobuf")
	stdin := "1\t{\"id\": 1, \"name\": \"yifan\"}\n" +
		"2\t{\"id\": \"two\", \"name\": \"bad\"}\n" +
		"3\t{\"id\": 3, \"name\": \"ann\", \"email\": \"ann@example.com\"}\n" +
		"4\t{\"id\": 4, \"nmae\": \"typo\"}\n" +
		"5\tnot json\n"
	code, _, errOut := runCmd(t, stdin, "produce", "--bootstrap-server", c.BootstrapServers(), "--topic", topic,
		"--line-reader", "io.confluent.kafka.formatter.protobuf.ProtobufMessageReader",
		"--property", "schema.registry.url="+url, "value.schema="+customerProto,
		"parse.key=true", "key.serializer=org.apache.kafka.common.serialization.StringSerializer")
	if code != 1 || !strings.Contains(errOut, "3 line(s) failed") {
		t.Fatalf("exit %d, want 1 with three failed lines:\n%s", code, errOut)
	}
	for _, want := range []string{
		`line 2 (not written): value: `, `customerManagement.proto.Customer`, `field id`,
		`line 4 (not written): value: `, `"nmae"`,
		`line 5 (not written): value: not JSON: "not json"`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	recs := consume(t, c.BootstrapServers(), topic, 2)
	for i, key := range []string{"1", "3"} {
		if string(recs[i].Key) != key {
			t.Errorf("record %d key %q, want %q", i, recs[i].Key, key)
		}
	}
	if got := stored(t, url, schemaID(recs[0].Value)); got != customerProto {
		t.Errorf("registered %s\nwant the text as given %s", got, customerProto)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join("..", "..", "serde", "protobuf", "testdata", "read_protobuf.py"),
		c.BootstrapServers(), topic, url, "2", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python reader: %v\n%s", err, stderr.String())
	}
	wants := []string{`{"id":1,"name":"yifan"}`, `{"email":"ann@example.com","id":3,"name":"ann"}`}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(wants) {
		t.Fatalf("python read %d records, want %d:\n%s", len(lines), len(wants), out)
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
		if got.Message != "customerManagement.proto.Customer" || string(v) != wants[i] {
			t.Errorf("record %d: python decoded %s %s, want customerManagement.proto.Customer %s", i, got.Message, v, wants[i])
		}
	}
}

// TestRealProtobufKeySchemaAndSchemaID: a Protobuf key from key.schema.file (its
// "<topic>-key" subject registered) and values by value.schema.id, written with that
// id and registering nothing; the id's schema's second message is not picked.
func TestRealProtobufKeySchemaAndSchemaID(t *testing.T) {
	url := testregistry.URL(t)
	c, topic := realTopic(t, "kprod-cli-protobufid")
	subject := testregistry.Name(t, "CustomerProto")
	body, _ := json.Marshal(map[string]string{"schema": customerProto + "\nmessage Other {\n  string x = 1;\n}\n", "schemaType": "PROTOBUF"})
	resp, err := http.Post(url+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct{ ID int }
	json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if reg.ID == 0 {
		t.Fatal("registering the Customer .proto gave no id")
	}
	keyFile := filepath.Join(t.TempDir(), "key.proto")
	keyProto := "syntax = \"proto3\";\nmessage CustomerKey {\n  int32 id = 1;\n}\n"
	if err := os.WriteFile(keyFile, []byte(keyProto), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin := `{"id": 7}|{"id": 7, "name": "bo"}` + "\n" + `{"id": "k"}|{"id": 8, "name": "cy"}` + "\n" + `{"id": 9}|NULL` + "\n"
	code, _, errOut := runCmd(t, stdin, "produce", "--bootstrap-server", c.BootstrapServers(), "--topic", topic,
		"--line-reader", "io.confluent.kafka.formatter.protobuf.ProtobufMessageReader",
		"--property", "schema.registry.url="+url, fmt.Sprintf("value.schema.id=%d", reg.ID), "key.schema.file="+keyFile,
		"parse.key=true", "key.separator=|", "null.marker=NULL")
	if code != 1 || !strings.Contains(errOut, "1 line(s) failed") || !strings.Contains(errOut, "line 2 (not written): key: ") ||
		!strings.Contains(errOut, "CustomerKey") {
		t.Fatalf("exit %d, want line 2 to fail on its key:\n%s", code, errOut)
	}
	recs := consume(t, c.BootstrapServers(), topic, 2)
	id, path, payload := pbFrame(t, recs[0].Value)
	if id != reg.ID || len(path) != 0 {
		t.Errorf("value written with schema id %d path %v, want value.schema.id %d and [] (Customer)", id, path, reg.ID)
	}
	if len(payload) == 0 {
		t.Error("empty value payload")
	}
	kid, kpath, kpayload := pbFrame(t, recs[0].Key)
	if got := stored(t, url, kid); got != keyProto {
		t.Errorf("key registered as %q, want %q", got, keyProto)
	}
	var k wrapperspb.Int32Value // CustomerKey{int32 id = 1} has Int32Value's wire form
	if err := proto.Unmarshal(kpayload, &k); err != nil || k.Value != 7 || len(kpath) != 0 {
		t.Errorf("key path %v payload % x decoded %d, %v; want [] and id 7", kpath, kpayload, k.Value, err)
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
