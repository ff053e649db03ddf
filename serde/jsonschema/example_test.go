package jsonschema_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/jsonschema"
)

// Customer is the seeds' Customer record, as a Go struct with encoding/json tags.
type Customer struct {
	Name  *string `json:"name"` // nullable: Java's generator writes oneOf null or string
	Email string  `json:"email"`
	Age   int     `json:"age"`
}

// customerSchema is registered exactly as written, under the subject customers-value.
const customerSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Customer",
  "type": "object",
  "properties": {
    "name": {"oneOf": [{"type": "null", "title": "Not included"}, {"type": "string"}]},
    "email": {"type": "string"},
    "age": {"type": "integer", "minimum": 0}
  },
  "required": ["email", "age"]
}`

// The Customer example with JSON Schema: Java's KafkaJsonSchemaSerializer properties,
// a typed producer, and a value the schema refuses before anything is sent.
func ExampleFromProperties() {
	cluster, err := kafkatest.Start(kafkatest.Topic("customers", 1))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	registryURL := startRegistry() // your schema.registry.url, e.g. http://host:8081
	defer registryURL.Close()

	values, err := jsonschema.FromProperties[Customer](map[string]string{
		"schema.registry.url":      registryURL.URL,
		"json.fail.invalid.schema": "true",
	}, false, customerSchema)
	if err != nil {
		log.Fatal(err)
	}
	defer values.Close()

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap()})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	customers := kprod.NewTyped[string, Customer](p, serde.String(), values)

	ctx := context.Background()
	name := "Ann"
	_, err = customers.SendSync(ctx, &kprod.TypedRecord[string, Customer]{
		Topic: "customers", Key: "ann", Value: Customer{Name: &name, Email: "ann@example.com", Age: 42},
	})
	fmt.Println("sent:", err)

	b, _ := values.Serialize("customers", Customer{Email: "bo@example.com", Age: 7})
	fmt.Printf("wire: % x | %s\n", b[:5], b[5:])

	err = customers.Send(ctx, &kprod.TypedRecord[string, Customer]{
		Topic: "customers", Key: "bo", Value: Customer{Email: "bo@example.com", Age: -1},
	}, nil)
	var invalid *jsonschema.ValidationError
	fmt.Println(errors.As(err, &invalid), invalid.Pointer)
	fmt.Println(err)
	// Output:
	// sent: <nil>
	// wire: 00 00 00 00 01 | {"name":null,"email":"bo@example.com","age":7}
	// true /age
	// kprod: serializing value for topic "customers": jsonschema: value does not match the schema at "/age": minimum: got -1, want 0
}

// startRegistry stands in for a schema registry: it gives id 1 to any schema.
func startRegistry() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"id":1}`))
	}))
}
