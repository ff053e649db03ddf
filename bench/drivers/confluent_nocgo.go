//go:build !cgo

package drivers

// Without cgo the confluent client (librdkafka) is not built; the driver reports it
// missing from Clients.
func librdkafkaVersion() string { return "not built (CGO_ENABLED=0)" }
