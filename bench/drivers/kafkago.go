package drivers

import (
	"context"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

func init() { registry["kafka-go"] = newKafkaGo }

// kafkaGoClient drives segmentio/kafka-go's Writer in Async mode; its Completion
// function acknowledges a whole batch at once. Record reuse: Message is a value that
// WriteMessages copies into its batch, so the driver reuses one one-element slice and
// sends one record per WriteMessages call, the per-record API every other client has.
// Latency mode passes the slot in WriterData.
type kafkaGoClient struct {
	w        *kafka.Writer
	payloads [][]byte
	one      [1]kafka.Message
}

func newKafkaGo(o *Options, payloads [][]byte, tr *tracker) (producer, error) {
	brokers := strings.Split(o.Brokers, ",")
	w := &kafka.Writer{
		Addr:  kafka.TCP(brokers...),
		Topic: o.Topic,
		// kafka-go counts a batch in records (default 100) as well as bytes (BatchBytes):
		// size the count so the byte limit, equal for all clients, is the one that binds.
		BatchSize:              max(o.BatchBytes/o.ValueSize, 1),
		BatchBytes:             int64(o.BatchBytes),
		BatchTimeout:           time.Duration(o.LingerMs) * time.Millisecond,
		RequiredAcks:           kafka.RequireAll,
		Async:                  true,
		Compression:            []kafka.Compression{0, kafka.Gzip, kafka.Snappy, kafka.Lz4, kafka.Zstd}[codecIndex(o.Compression)],
		AllowAutoTopicCreation: true,
	}
	if o.LingerMs == 0 { // kafka-go reads a zero BatchTimeout as its default, 1 s
		w.BatchTimeout = time.Microsecond
	}
	if o.Acks == "1" {
		w.RequiredAcks = kafka.RequireOne
	}
	w.Completion = func(msgs []kafka.Message, err error) {
		if len(msgs) == 0 {
			return
		}
		if _, ok := msgs[0].WriterData.(*slot); !ok {
			tr.ack(int64(len(msgs)), err)
			return
		}
		for i := range msgs {
			tr.slotDone(msgs[i].WriterData.(*slot), err)
		}
	}
	return &kafkaGoClient{w: w, payloads: payloads}, nil
}

func (k *kafkaGoClient) send(ctx context.Context, i int, s *slot) error {
	k.one[0] = kafka.Message{Value: k.payloads[i%len(k.payloads)]}
	if s != nil {
		k.one[0].WriterData = s
	}
	return k.w.WriteMessages(ctx, k.one[:]...)
}

// flush has nothing to do: the Writer flushes on BatchTimeout and the driver waits for
// the Completion calls.
func (k *kafkaGoClient) flush(context.Context) error { return nil }

func (k *kafkaGoClient) close() { k.w.Close() }

func (k *kafkaGoClient) notes() []string {
	return []string{"no idempotent producer: runs without idempotence",
		"default balancer: round robin per record"}
}
