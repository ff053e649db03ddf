//go:build cgo

package drivers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

func init() { registry["confluent"] = newConfluent }

// confluentClient drives confluent-kafka-go with its bundled librdkafka. Record reuse:
// Produce copies the value into librdkafka (RD_KAFKA_MSG_F_COPY) and keeps no reference
// to the *Message, so one Message is reused for every send; each delivery report is a
// new *Message the client allocates (go.delivery.report.fields=none spares copying key
// and value back). Latency mode passes the slot as Opaque, which the client keeps in a
// map until the report. Its C heap is not in the Go allocation counts.
type confluentClient struct {
	p        *kafka.Producer
	payloads [][]byte
	msg      kafka.Message
	events   chan struct{}
}

func newConfluent(o *Options, payloads [][]byte, tr *tracker) (producer, error) {
	codecs := []string{"none", "gzip", "snappy", "lz4", "zstd"}
	cfg := kafka.ConfigMap{
		"bootstrap.servers":            o.Brokers,
		"client.id":                    "bench-confluent",
		"linger.ms":                    o.LingerMs,
		"batch.size":                   o.BatchBytes,
		"batch.num.messages":           1_000_000, // let batch.size bound batches, as for the others
		"compression.type":             codecs[codecIndex(o.Compression)],
		"acks":                         o.Acks,
		"enable.idempotence":           o.Idempotent,
		"queue.buffering.max.kbytes":   max(o.BufferBytes/1024, 1),
		"queue.buffering.max.messages": 10_000_000, // bound by bytes, like buffer.memory
		"go.delivery.report.fields":    "none",
	}
	if o.BatchBytes > 1_000_000 {
		cfg["message.max.bytes"] = o.BatchBytes + 64<<10
	}
	p, err := kafka.NewProducer(&cfg)
	if err != nil {
		return nil, err
	}
	c := &confluentClient{p: p, payloads: payloads, events: make(chan struct{})}
	topic := o.Topic
	c.msg.TopicPartition = kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny}
	go func() {
		defer close(c.events)
		for e := range p.Events() {
			m, ok := e.(*kafka.Message)
			if !ok {
				continue // logs, stats and client errors; delivery failures come per message
			}
			if s, ok := m.Opaque.(*slot); ok {
				tr.slotDone(s, m.TopicPartition.Error)
			} else {
				tr.ack(1, m.TopicPartition.Error)
			}
		}
	}()
	return c, nil
}

func (c *confluentClient) send(ctx context.Context, i int, s *slot) error {
	c.msg.Value = c.payloads[i%len(c.payloads)]
	c.msg.Opaque = nil
	if s != nil {
		c.msg.Opaque = s
	}
	for {
		err := c.p.Produce(&c.msg, nil)
		var ke kafka.Error
		if err == nil || !errors.As(err, &ke) || ke.Code() != kafka.ErrQueueFull {
			return err
		}
		// librdkafka's queue is full: wait for deliveries, as a blocking send would.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func (c *confluentClient) flush(ctx context.Context) error {
	for c.p.Flush(100) > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

func (c *confluentClient) close() {
	c.p.Close()
	<-c.events
}

func (c *confluentClient) notes() []string {
	return []string{"C heap allocations (librdkafka) are not counted in mallocs/bytes per record"}
}

// librdkafkaVersion returns the bundled librdkafka's version.
func librdkafkaVersion() string {
	_, v := kafka.LibraryVersion()
	return fmt.Sprint(v)
}
