// Package kafkatest starts an embedded, in-process Kafka cluster for tests and demos.
//
// The cluster is franz-go's kfake: a pure-Go implementation of the Kafka protocol that
// validates CRC32C, batch framing and idempotent sequences, models transactions and
// leader moves, and lets a test inject faults. It does not decompress batches, replicate,
// or model acks and min.insync.replicas, so it is a correctness oracle and fault injector,
// not a substitute for real Kafka (scripts/kafka starts that) and not a throughput sink.
package kafkatest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Cluster is a running embedded Kafka cluster. Close stops it.
type Cluster struct {
	fake *kfake.Cluster
}

// Option configures Start.
type Option func(*options)

type options struct {
	brokers      int
	topics       []topic
	autoCreate   bool
	defaultParts int
	ports        []int
	extra        []kfake.Opt
}

type topic struct {
	name       string
	partitions int32
}

// Brokers sets the number of brokers. Default 1.
func Brokers(n int) Option { return func(o *options) { o.brokers = n } }

// Topic creates topic name with the given number of partitions at start.
func Topic(name string, partitions int32) Option {
	return func(o *options) { o.topics = append(o.topics, topic{name, partitions}) }
}

// AutoCreateTopics lets a Metadata request for an unknown topic create it with
// DefaultPartitions partitions, as a broker with auto.create.topics.enable=true does.
// Off by default, so tests see unknown-topic behaviour unless they ask otherwise.
func AutoCreateTopics() Option { return func(o *options) { o.autoCreate = true } }

// DefaultPartitions sets the partition count of auto-created topics. Default 1.
func DefaultPartitions(n int) Option { return func(o *options) { o.defaultParts = n } }

// Ports listens on the given loopback ports, one per broker, instead of random ones.
func Ports(ports ...int) Option { return func(o *options) { o.ports = ports } }

// With passes kfake options through, for what this package does not wrap.
func With(opts ...kfake.Opt) Option { return func(o *options) { o.extra = append(o.extra, opts...) } }

// Start starts an embedded cluster.
func Start(opts ...Option) (*Cluster, error) {
	o := options{brokers: 1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.brokers < 1 {
		return nil, errors.New("kprod: kafkatest: Brokers must be at least 1")
	}
	if len(o.ports) > 0 && len(o.ports) != o.brokers {
		return nil, fmt.Errorf("kprod: kafkatest: %d ports for %d brokers", len(o.ports), o.brokers)
	}
	kopts := []kfake.Opt{kfake.NumBrokers(o.brokers)}
	for _, t := range o.topics {
		if t.partitions < 1 {
			return nil, fmt.Errorf("kprod: kafkatest: topic %q needs at least one partition", t.name)
		}
		kopts = append(kopts, kfake.SeedTopics(t.partitions, t.name))
	}
	if o.autoCreate {
		kopts = append(kopts, kfake.AllowAutoTopicCreation())
	}
	if o.defaultParts > 0 {
		kopts = append(kopts, kfake.DefaultNumPartitions(o.defaultParts))
	}
	if len(o.ports) > 0 {
		kopts = append(kopts, kfake.Ports(o.ports...))
	}
	kopts = append(kopts, o.extra...)
	fake, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("kprod: kafkatest: start embedded cluster: %w", err)
	}
	return &Cluster{fake: fake}, nil
}

// New starts an embedded cluster for a test and closes it when the test ends.
func New(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	c, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Bootstrap returns the brokers' host:port addresses.
func (c *Cluster) Bootstrap() []string { return c.fake.ListenAddrs() }

// BootstrapServers returns the addresses as bootstrap.servers expects them, comma-separated.
func (c *Cluster) BootstrapServers() string { return strings.Join(c.Bootstrap(), ",") }

// Fake returns the underlying kfake cluster, whose hooks inject faults: ControlKey
// intercepts requests of one API key, KeepControl keeps a hook for later requests,
// SleepControl delays a response, Fault returns error codes, MoveTopicPartition moves a
// leader, and RemoveNode/AddNode change membership.
func (c *Cluster) Fake() *kfake.Cluster { return c.fake }

// Close stops the cluster and waits for its goroutines. It is safe to call twice.
func (c *Cluster) Close() { c.fake.Close() }
