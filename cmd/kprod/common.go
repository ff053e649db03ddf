package main

import (
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/serde/byname"
)

// producerConfig merges, in increasing precedence, --producer.config FILE, the k=v
// properties and --bootstrap-server, as Kafka's tools do. With no bootstrap server at
// all it starts the embedded cluster (with topic auto-creation, partitions as asked)
// and returns its closer.
func producerConfig(configFile string, props []string, bootstrap string, partitions int, stderr io.Writer) (kprod.Config, func(), error) {
	m := map[string]string{}
	if configFile != "" {
		fm, err := kprod.LoadProperties(configFile)
		if err != nil {
			return kprod.Config{}, nil, err
		}
		maps.Copy(m, fm)
	}
	pm, err := splitProps(props)
	if err != nil {
		return kprod.Config{}, nil, err
	}
	maps.Copy(m, pm)
	if bootstrap != "" {
		m["bootstrap.servers"] = bootstrap
	}
	closer := func() {}
	if strings.TrimSpace(m["bootstrap.servers"]) == "" {
		c, err := kafkatest.Start(kafkatest.AutoCreateTopics(), kafkatest.DefaultPartitions(partitions))
		if err != nil {
			return kprod.Config{}, nil, err
		}
		m["bootstrap.servers"] = c.BootstrapServers()
		closer = c.Close
		fmt.Fprintf(stderr, "kprod: no --bootstrap-server given: using an embedded in-process Kafka cluster at %s (auto-created topics get %d partition(s))\n",
			c.BootstrapServers(), partitions)
	}
	// A Java producer.properties naming Confluent's serializers carries their
	// properties too; the producer takes the rest (the command sends bytes, as
	// Java's console producer does whatever the serializers say).
	cfg, err := kprod.ConfigFromProperties(byname.ProducerProperties(m))
	if err != nil {
		closer()
		return kprod.Config{}, nil, err
	}
	return cfg, closer, nil
}
