package byname_test

import (
	"context"
	"fmt"
	"log"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/serde/byname"
)

// A Java producer's serializer settings, read as they are: the class names
// become Go serializers of the matching types.
func Example() {
	cluster, err := kafkatest.Start(kafkatest.Topic("scores", 1))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	props := map[string]string{
		"bootstrap.servers": cluster.BootstrapServers(),
		"key.serializer":    "org.apache.kafka.common.serialization.StringSerializer",
		"value.serializer":  "org.apache.kafka.common.serialization.LongSerializer",
	}
	cfg, err := kprod.ConfigFromProperties(byname.ProducerProperties(props))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := byname.Key[string](props)
	if err != nil {
		log.Fatal(err)
	}
	values, err := byname.Value[int64](props)
	if err != nil {
		log.Fatal(err)
	}
	p, err := kprod.NewProducer(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	scores := kprod.NewTyped(p, keys, values)
	md, err := scores.SendSync(context.Background(), &kprod.TypedRecord[string, int64]{Topic: "scores", Key: "ada", Value: 42})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(md.Topic, md.Partition, md.Offset)

	// A class name for another Go type fails at construction, naming the property.
	_, err = byname.Value[string](props)
	fmt.Println(err)
	// Output:
	// scores 0 0
	// kprod: invalid config value.serializer=org.apache.kafka.common.serialization.LongSerializer: serializes int64, not string
}
