package avro_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/serde"
	avroserde "github.com/kprod-io/kprod/serde/avro"
)

// The seeds' KafkaAvroSerializer example in Go: a Customer record with an Avro
// schema given as text, registered under customerContacts-value, sent with a
// String key. The Java producer.properties' serializer settings carry over as
// they are.
func Example_customer() {
	// In production these are your brokers and your registry (Confluent's, or
	// Apicurio's ccompat API: http://host:8080/apis/ccompat/v7).
	cluster, err := kafkatest.Start(kafkatest.Topic("customerContacts", 1))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	registryURL, stop := startExampleRegistry()
	defer stop()

	const schema = `{"namespace": "customerManagement.avro", "type": "record", "name": "Customer",
	  "fields": [{"name": "id", "type": "int"}, {"name": "name", "type": "string"},
	             {"name": "email", "type": ["null", "string"], "default": null}]}`
	type Customer struct {
		ID    int32   `avro:"id"`
		Name  string  `avro:"name"`
		Email *string `avro:"email"` // a pointer: null when nil
	}

	customers, err := avroserde.NewSerializerFromProperties[*Customer](schema, map[string]string{
		"schema.registry.url": registryURL,
	}, false)
	if err != nil {
		log.Fatal(err)
	}
	defer customers.Close()

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap()})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	producer := kprod.NewTyped(p, serde.String(), customers)

	customer := &Customer{ID: 1, Name: "yifan"}
	md, err := producer.SendSync(context.Background(), &kprod.TypedRecord[string, *Customer]{
		Topic: "customerContacts", Key: fmt.Sprint(customer.ID), Value: customer,
	})
	if err != nil {
		log.Fatal(err)
	}
	// 5 bytes of header (magic byte, schema id), then id, name and the null email.
	fmt.Println("value bytes:", md.SerializedValueSize)

	// A nil *Customer is a tombstone, and registers nothing.
	md, _ = producer.SendSync(context.Background(), &kprod.TypedRecord[string, *Customer]{
		Topic: "customerContacts", Key: "1", Value: nil,
	})
	fmt.Println("tombstone bytes:", md.SerializedValueSize)
	// Output:
	// value bytes: 13
	// tombstone bytes: -1
}

// A generic map whose value does not match the schema fails Send, naming the
// field; nothing is registered or sent.
func ExampleSerializer_Serialize_mismatch() {
	registryURL, stop := startExampleRegistry()
	defer stop()
	const schema = `{"type": "record", "name": "com.example.Order", "fields": [
	  {"name": "id", "type": "long"},
	  {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
	  {"name": "note", "type": ["null", "string"], "default": null}]}`
	orders, err := avroserde.NewSerializerFromProperties[map[string]any](schema, map[string]string{
		"schema.registry.url": registryURL,
	}, false)
	if err != nil {
		log.Fatal(err)
	}
	defer orders.Close()

	_, err = orders.Serialize("orders", map[string]any{"id": "42", "total": "12.50"})
	fmt.Println(err)
	_, err = orders.Serialize("orders", map[string]any{"id": 42, "total": "12.50", "nite": "x"})
	var ve *avroserde.ValueError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field)
	}
	b, err := orders.Serialize("orders", map[string]any{"id": 42, "total": "12.50"})
	fmt.Printf("% x %v\n", b[5:], err)
	// Output:
	// kprod: serializing value for topic "orders": avro: com.example.Order field "id": cannot use string with Avro type long
	// nite
	// 54 04 04 e2 00 <nil>
}

// startExampleRegistry stands in for a real registry in the examples.
func startExampleRegistry() (url string, stop func()) {
	f := startFakeRegistry()
	return f.srv.URL, f.srv.Close
}
