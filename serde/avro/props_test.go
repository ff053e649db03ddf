package avro_test

import (
	"errors"
	"strings"
	"testing"

	avroserde "github.com/kprod-io/kprod/serde/avro"
	"github.com/kprod-io/kprod/serde/registry"
)

func TestFromProperties(t *testing.T) {
	f := newFakeRegistry(t)
	props := map[string]string{
		"schema.registry.url":         f.srv.URL,
		"key.subject.name.strategy":   "io.confluent.kafka.serializers.subject.RecordNameStrategy",
		"value.subject.name.strategy": "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
		"auto.register.schemas":       "true",
	}
	k, err := avroserde.NewSerializerFromProperties[*Customer](customerSchema, props, true)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	v, err := avroserde.NewSerializerFromProperties[*Customer]("", props, false) // schema from the struct
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := k.Serialize("contacts", &Customer{ID: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Serialize("contacts", &Customer{ID: 1}); err != nil {
		t.Fatal(err)
	}
	if f.count("POST", "/subjects/customerManagement.avro.Customer/versions") != 1 || f.count("POST", "/subjects/contacts-Customer/versions") != 1 {
		t.Fatalf("requests %v", f.requests)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	// The value subject depends on the topic: a new topic needs the closed client.
	if _, err := v.Serialize("other", &Customer{}); !errors.Is(err, registry.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}

	bad := map[string]string{"schema.registry.url": f.srv.URL, "auto.register.schemas": "yes"}
	if _, err := avroserde.NewSerializerFromProperties[*Customer](customerSchema, bad, false); err == nil || !strings.Contains(err.Error(), "auto.register.schemas") {
		t.Fatalf("bad property: %v", err)
	}
	if _, err := avroserde.NewSerializerFromProperties[*Customer](customerSchema, map[string]string{}, false); err == nil || !strings.Contains(err.Error(), "schema.registry.url") {
		t.Fatalf("no URL: %v", err)
	}
}
