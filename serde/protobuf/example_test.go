package protobuf_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/serde"
	"github.com/kprod-io/kprod/serde/protobuf"
	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb" // your generated package
)

// The Customer example with Protobuf: Java's KafkaProtobufSerializer properties and
// a typed producer of a generated message. The schema registered is customer.proto,
// with address.proto registered as a reference under the subject "address.proto".
func ExampleFromProperties() {
	cluster, err := kafkatest.Start(kafkatest.Topic("customers", 1))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	registry := startRegistry() // your schema.registry.url, e.g. http://host:8081
	defer registry.Close()

	values, err := protobuf.FromProperties[*testpb.Customer](map[string]string{
		"schema.registry.url": registry.URL,
	}, false)
	if err != nil {
		log.Fatal(err)
	}
	defer values.Close()

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap()})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	customers := kprod.NewTyped[string, *testpb.Customer](p, serde.String(), values)

	ctx := context.Background()
	_, err = customers.SendSync(ctx, &kprod.TypedRecord[string, *testpb.Customer]{
		Topic: "customers", Key: "ann", Value: &testpb.Customer{Id: 1, Name: "Ann"},
	})
	fmt.Println("sent:", err)

	b, _ := values.Serialize("customers", &testpb.Customer{Id: 1, Name: "Ann"})
	fmt.Printf("header: % x | index: % x | message: % x\n", b[:5], b[5:6], b[6:])
	b, _ = values.Serialize("customers", nil)
	fmt.Println("nil is a tombstone:", b == nil)
	// Output:
	// sent: <nil>
	// header: 00 00 00 00 01 | index: 00 | message: 08 01 12 03 41 6e 6e
	// nil is a tombstone: true
}

// A schema given as .proto text, as `kprod produce --property value.schema=...` takes
// it, with values as protojson; a nested message's index path is [1 0].
func ExampleDynamicFromProperties() {
	registry := startRegistry()
	defer registry.Close()
	const schema = `syntax = "proto3";
package shop;
message Customer { int32 id = 1; string name = 2; }
message Order { message Line { string sku = 1; int64 quantity = 2; } }`

	lines, err := protobuf.DynamicFromProperties(map[string]string{
		"schema.registry.url": registry.URL,
	}, false, schema, protobuf.DynamicOptions{MessageName: "Order.Line"})
	if err != nil {
		log.Fatal(err)
	}
	defer lines.Close()

	b, err := lines.Serialize("orders", `{"sku": "a-1", "quantity": 2}`)
	fmt.Printf("header: % x | index: % x | message: % x | %v\n", b[:5], b[5:8], b[8:], err)

	_, err = lines.Serialize("orders", `{"sku": "a-1", "qty": 2}`)
	var bad *protobuf.ValueError
	fmt.Println(errors.As(err, &bad), bad.Message)
	// protojson's own text names the field; Go's protobuf varies its spacing on
	// purpose, so match the field, not the whole message.
	fmt.Println(strings.Contains(err.Error(), `unknown field "qty"`))
	// Output:
	// header: 00 00 00 00 01 | index: 04 02 00 | message: 0a 03 61 2d 31 10 02 | <nil>
	// true shop.Order.Line
	// true
}

// startRegistry stands in for a schema registry: it gives id 1 to any schema.
func startRegistry() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"id":1,"version":1}`))
	}))
}
