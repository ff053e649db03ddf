package drivers

import (
	"runtime"
	"runtime/debug"
)

// clientModules maps each client to the module whose version it reports.
var clientModules = map[string]string{
	"franz-go":  "github.com/twmb/franz-go",
	"confluent": "github.com/confluentinc/confluent-kafka-go/v2",
	"sarama":    "github.com/IBM/sarama",
	"kafka-go":  "github.com/segmentio/kafka-go",
}

// Versions returns the Go version and each client's module version as built into this
// binary (kprod is the local module, "(devel)" via the replace directive), plus
// librdkafka's.
func Versions() map[string]string {
	v := map[string]string{"go": runtime.Version(), "kprod": "local (replace => ../)",
		"librdkafka": librdkafkaVersion()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	for _, dep := range bi.Deps {
		for client, mod := range clientModules {
			if dep.Path == mod {
				v[client] = dep.Version
			}
		}
	}
	return v
}
