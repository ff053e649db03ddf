// Package kprod is a pure-Go Apache Kafka producer with the semantics and property names
// of Java's KafkaProducer.
//
// Install it with
//
//	go get github.com/kprod-io/kprod@latest
//
// A Producer is made from a Config, whose zero value means Kafka's defaults (only
// BootstrapServers is required), or from Java properties (ConfigFromProperties,
// LoadProperties); NewProducer validates it and names a bad property in a *ConfigError:
//
//	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{"localhost:9092"}})
//	if err != nil {
//		return err
//	}
//	defer p.Close(context.Background())
//	md, err := p.SendSync(ctx, &kprod.Record{Topic: "orders", Key: []byte("42"), Value: order})
//
// A record goes through the interceptors (WithInterceptors), the partitioner (Java's
// built-in ones, or WithPartitioner) into a per-partition batch (batch.size, linger.ms,
// buffer.memory), which a background sender compresses and delivers, retrying within
// delivery.timeout.ms. Send returns once the record is buffered and runs its callback,
// in send order per partition, when it is acknowledged or has failed; SendSync waits for
// the result; Flush waits for everything sent so far. Every call that can block takes a
// context, and Send blocks at most max.block.ms (Config.MaxBlock) for metadata or buffer
// space.
//
// Errors say what happened to the record: an error from Send means it was not accepted;
// a *DeliveryError in a callback says whether it may have been written (MaybeWritten);
// IsRetriable says whether sending it again may succeed; a *KafkaError carries the
// broker's error code. Idempotence is on by default; TransactionalID enables
// transactions (InitTransactions, BeginTransaction, SendOffsetsToTransaction,
// CommitTransaction, AbortTransaction), whose errors are *FatalError or *AbortableError.
//
// NewTyped adds key and value serializers (package serde: strings, numbers, JSON, and
// Avro, JSON Schema and Protobuf with a schema registry). Package kafkatest starts an
// embedded cluster for tests. The producer logs through log/slog (WithLogger), summarising
// repeated failures rather than logging each.
package kprod
