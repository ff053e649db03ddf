package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/serde"
)

// startCluster gives the examples an embedded cluster; in production BootstrapServers
// names your brokers.
func startCluster(topics ...string) *kafkatest.Cluster {
	var opts []kafkatest.Option
	for _, t := range topics {
		opts = append(opts, kafkatest.Topic(t, 3))
	}
	c, err := kafkatest.Start(opts...)
	if err != nil {
		log.Fatal(err)
	}
	return c
}

// The synchronous send: wait for each record's RecordMetadata.
func ExampleProducer_SendSync() {
	cluster := startCluster("orders")
	defer cluster.Close()

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap()})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	md, err := p.SendSync(context.Background(), &kprod.Record{
		Topic: "orders", Key: []byte("customer-42"), Value: []byte(`{"total": 12.5}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("written to %s partition %d at offset %d\n", md.Topic, md.Partition, md.Offset)
	// Output: written to orders partition 0 at offset 0
}

// The asynchronous send with a callback, then Flush to wait for all of them.
func ExampleProducer_Send() {
	cluster := startCluster("clicks")
	defer cluster.Close()

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap(), Linger: 10 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	ctx := context.Background()
	for i := range 3 {
		rec := &kprod.Record{Topic: "clicks", Partition: kprod.InPartition(0), Value: fmt.Appendf(nil, "click-%d", i)}
		err := p.Send(ctx, rec, func(md kprod.RecordMetadata, err error) {
			if err != nil {
				// Every delivery error says whether the record may be in the log anyway.
				log.Printf("click lost (may have been written: %v): %v", kprod.MaybeWritten(err), err)
				return
			}
			fmt.Printf("offset %d\n", md.Offset)
		})
		if err != nil {
			log.Fatal(err) // not accepted, certainly not written
		}
	}
	if err := p.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// offset 0
	// offset 1
	// offset 2
}

// Fire-and-forget: no callback; Close delivers what is buffered.
func ExampleProducer_Send_fireAndForget() {
	cluster := startCluster("metrics")
	defer cluster.Close()

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap(), Acks: kprod.AcksLeader})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 1000 {
		if err := p.Send(context.Background(), &kprod.Record{Topic: "metrics", Value: fmt.Append(nil, i)}, nil); err != nil {
			log.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(p.Close(ctx))
	// Output: <nil>
}

// Typed keys and values with Java-compatible serializers.
func ExampleNewTyped() {
	cluster := startCluster("scores")
	defer cluster.Close()

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap()})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	type score struct {
		Player string `json:"player"`
		Points int    `json:"points"`
	}
	scores := kprod.NewTyped(p, serde.String(), serde.JSON[score]())
	md, err := scores.SendSync(context.Background(), &kprod.TypedRecord[string, score]{
		Topic: "scores", Key: "ada", Value: score{Player: "ada", Points: 3},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(md.SerializedKeySize, md.SerializedValueSize)
	// Output: 3 27
}

// A custom partitioner (Java's partitioner.class): returning -1 falls back to the
// built-in one.
func ExampleWithPartitioner() {
	cluster := startCluster("events")
	defer cluster.Close()

	vip := kprod.PartitionerFunc(func(topic string, key, value []byte, n int32) int32 {
		if strings.HasPrefix(string(key), "vip-") {
			return 0 // VIPs get their own partition
		}
		return -1
	})
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap()}, kprod.WithPartitioner(vip))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	md, err := p.SendSync(context.Background(), &kprod.Record{Topic: "events", Key: []byte("vip-7"), Value: []byte("x")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(md.Partition)
	// Output: 0
}

// An interceptor that stamps a header on every record and counts acknowledgements.
type stamp struct{ acked int }

func (s *stamp) OnSend(r kprod.Record) (kprod.Record, error) {
	r.Headers = append(r.Headers[:len(r.Headers):len(r.Headers)], kprod.Header{Key: "origin", Value: []byte("example")})
	return r, nil
}

func (s *stamp) OnAcknowledgement(md kprod.RecordMetadata, err error) {
	if err == nil {
		s.acked++
	}
}

func ExampleWithInterceptors() {
	cluster := startCluster("audit")
	defer cluster.Close()

	st := &stamp{}
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap()}, kprod.WithInterceptors(st))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := p.SendSync(context.Background(), &kprod.Record{Topic: "audit", Value: []byte("login")}); err != nil {
		log.Fatal(err)
	}
	p.Close(context.Background())
	fmt.Println("acknowledged:", st.acked)
	// Output: acknowledged: 1
}

// An existing Java producer.properties works unchanged.
func ExampleConfigFromProperties() {
	props, err := kprod.ParseProperties(strings.NewReader(`
bootstrap.servers=127.0.0.1:9092
acks=all
linger.ms=20
compression.type=lz4
key.serializer=org.apache.kafka.common.serialization.StringSerializer
value.serializer=org.apache.kafka.common.serialization.StringSerializer
`))
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := kprod.ConfigFromProperties(props)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Linger, cfg.Compression)
	// Output: 20ms lz4
}

// Transactions: records of several partitions committed or aborted together; an
// *AbortableError means abort and try again, a *FatalError means close.
func ExampleProducer_CommitTransaction() {
	cluster := startCluster("payments", "ledger")
	defer cluster.Close()

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap(), TransactionalID: "payments-writer"})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()
	if err := p.InitTransactions(ctx); err != nil {
		log.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		if err := p.BeginTransaction(); err != nil {
			log.Fatal(err)
		}
		p.Send(ctx, &kprod.Record{Topic: "payments", Key: []byte("tx-1"), Value: []byte("debit 10")}, nil)
		p.Send(ctx, &kprod.Record{Topic: "ledger", Key: []byte("tx-1"), Value: []byte("credit 10")}, nil)
		err := p.CommitTransaction(ctx)
		if err == nil {
			fmt.Println("committed on attempt", attempt)
			return
		}
		var abortable *kprod.AbortableError
		if !errors.As(err, &abortable) {
			log.Fatal(err) // fatal (fenced, unauthorised) or a ctx timeout to retry
		}
		if err := p.AbortTransaction(ctx); err != nil {
			log.Fatal(err)
		}
	}
	// Output: committed on attempt 1
}

// A delivery profile names the mode and fills its settings; what is set beside it
// adjusts the profile, and an adjustment that breaks its promise fails at creation.
func ExampleProfile() {
	cfg := kprod.Config{
		BootstrapServers: []string{"127.0.0.1:9092"},
		Profile:          kprod.ProfileHighThroughput,
		Linger:           50 * time.Millisecond, // adjusted
	}
	p := cfg.Properties()
	fmt.Println(p["acks"], p["enable.idempotence"], p["linger.ms"], p["batch.size"], p["compression.type"])

	cfg = kprod.Config{
		BootstrapServers: []string{"127.0.0.1:9092"},
		Profile:          kprod.ProfileExactlyOnce,
		Acks:             kprod.AcksLeader,
	}
	fmt.Println(cfg.Validate())
	// Output:
	// all true 50 131072 lz4
	// kprod: invalid config acks=1: must be all: exactly-once needs every in-sync replica under delivery.profile=exactly-once
}

// Each record's own timing: how long it queued, was in flight, was retried and took in
// all, in its RecordMetadata (or in its *DeliveryError when it failed).
func ExampleTiming() {
	cluster := startCluster("timed")
	defer cluster.Close()

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap(), Linger: 20 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	md, err := p.SendSync(context.Background(), &kprod.Record{Topic: "timed", Value: []byte("hello")})
	var de *kprod.DeliveryError
	switch {
	case errors.As(err, &de):
		md.Timing = de.Timing
	case err != nil:
		log.Fatal(err) // refused by Send: never queued, no timing
	}
	t := md.Timing
	fmt.Println("waited for linger.ms:", t.QueueTime >= 20*time.Millisecond)
	fmt.Println("retries:", t.Retries)
	fmt.Println("latency covers queue and request:", t.Latency >= t.QueueTime+t.RequestTime)
	// Output:
	// waited for linger.ms: true
	// retries: 0
	// latency covers queue and request: true
}
