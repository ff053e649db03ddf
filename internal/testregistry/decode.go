package testregistry

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

// decodeScript decodes one Confluent-framed record with Confluent's own Python
// deserializers, which fetch the writer's schema from the registry by the id in
// the frame, and prints the value as JSON.
const decodeScript = `
import json, sys
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.serialization import SerializationContext, MessageField
kind, url, topic, field = sys.argv[1:5]
data = bytes.fromhex(sys.stdin.read().strip())
client = SchemaRegistryClient({"url": url})
if kind == "avro":
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    d = AvroDeserializer(client)
elif kind == "json":
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer
    d = JSONDeserializer(None, schema_registry_client=client)
else:
    sys.exit("unknown kind " + kind)
value = d(data, SerializationContext(topic, MessageField.KEY if field == "key" else MessageField.VALUE))
print(json.dumps(value, sort_keys=True, default=repr))
`

// Decode decodes data, a record key (isKey) or value of topic in Confluent's wire
// format, with Confluent's Python deserializer for kind ("avro" or "json") against
// the registry at url, and returns the value as JSON with sorted keys. The test
// fails if the independent reader cannot decode it.
func Decode(t testing.TB, kind, url, topic string, isKey bool, data []byte) string {
	t.Helper()
	py := Python(t)
	field := "value"
	if isKey {
		field = "key"
	}
	cmd := exec.Command(py, "-c", decodeScript, kind, url, topic, field)
	cmd.Stdin = strings.NewReader(hex.EncodeToString(data))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("Confluent's %s deserializer could not read % x: %v\n%s", kind, data, err, errb.String())
	}
	return strings.TrimSpace(out.String())
}
