package drivers

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

func init() { registry["sarama"] = newSarama }

// saramaClient drives IBM/sarama's AsyncProducer with Return.Successes, so every
// record is acknowledged on the Successes channel. Record reuse: sarama owns a
// *ProducerMessage until it comes back on Successes or Errors, so messages come from a
// sync.Pool and are reset and put back there; values are pre-boxed ByteEncoders (one
// per payload, built before measuring) so sending converts nothing to an interface.
// Latency mode passes the slot in Metadata.
type saramaClient struct {
	ap       sarama.AsyncProducer
	topic    string
	encoders []sarama.Encoder
	pool     sync.Pool
	wg       sync.WaitGroup
	idem     bool
}

func newSarama(o *Options, payloads [][]byte, tr *tracker) (producer, error) {
	cfg := sarama.NewConfig()
	cfg.ClientID = "bench-sarama"
	// RecordBatch v2 needs Version >= 0.11; Kafka 4 brokers dropped older request versions.
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.Flush.Frequency = time.Duration(o.LingerMs) * time.Millisecond
	if o.LingerMs > 0 {
		cfg.Producer.Flush.Bytes = o.BatchBytes
	} // else: with Flush.Bytes set and no Frequency, sarama holds records until that many bytes; all zero = send at once
	cfg.Producer.MaxMessageBytes = max(1_000_000, o.BatchBytes+64<<10)
	cfg.Producer.Compression = []sarama.CompressionCodec{sarama.CompressionNone, sarama.CompressionGZIP,
		sarama.CompressionSnappy, sarama.CompressionLZ4, sarama.CompressionZSTD}[codecIndex(o.Compression)]
	if o.Acks == "1" {
		cfg.Producer.RequiredAcks = sarama.WaitForLocal
	} else {
		cfg.Producer.RequiredAcks = sarama.WaitForAll
	}
	if o.Idempotent {
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1 // sarama requires it for idempotence
	}
	ap, err := sarama.NewAsyncProducer(strings.Split(o.Brokers, ","), cfg)
	if err != nil {
		return nil, err
	}
	c := &saramaClient{ap: ap, topic: o.Topic, idem: o.Idempotent, encoders: make([]sarama.Encoder, len(payloads))}
	for i, p := range payloads {
		c.encoders[i] = sarama.ByteEncoder(p)
	}
	c.pool.New = func() any { return new(sarama.ProducerMessage) }
	done := func(m *sarama.ProducerMessage, err error) {
		if s, ok := m.Metadata.(*slot); ok {
			tr.slotDone(s, err)
		} else {
			tr.ack(1, err)
		}
		*m = sarama.ProducerMessage{}
		c.pool.Put(m)
	}
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		for m := range ap.Successes() {
			done(m, nil)
		}
	}()
	go func() {
		defer c.wg.Done()
		for e := range ap.Errors() {
			done(e.Msg, e.Err)
		}
	}()
	return c, nil
}

func (c *saramaClient) send(ctx context.Context, i int, s *slot) error {
	m := c.pool.Get().(*sarama.ProducerMessage)
	m.Topic = c.topic
	m.Value = c.encoders[i%len(c.encoders)]
	if s != nil {
		m.Metadata = s
	}
	select {
	case c.ap.Input() <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush has nothing to do: sarama flushes on Flush.Frequency and the driver waits for
// the acknowledgements.
func (c *saramaClient) flush(context.Context) error { return nil }

func (c *saramaClient) close() {
	c.ap.AsyncClose()
	c.wg.Wait()
}

func (c *saramaClient) notes() []string {
	n := []string{"default partitioner: random partition per record without a key"}
	if c.idem {
		n = append(n, "idempotence forces Net.MaxOpenRequests=1")
	}
	return n
}
