package kprod

import (
	"context"
	"sync"
	"time"

	"github.com/kprod-io/kprod/serde"
)

// Typed sends records with typed keys and values, serialized by serde serializers: Java's
// KafkaProducer<K, V> with its key.serializer and value.serializer. It is a thin layer
// over a Producer (which it does not own: close the Producer when done) and is safe for
// concurrent use.
//
// A null key or value is what the serializer returns nil for: serde.Bytes() for a nil
// slice, serde.Nullable(...) for a nil pointer, serde.Void() always.
type Typed[K, V any] struct {
	p          *Producer
	key        serde.Serializer[K]
	value      serde.Serializer[V]
	scratchBuf sync.Pool // *[]byte: serialized key and value, copied into the batch by Send
}

// TypedRecord is a record before serialization.
type TypedRecord[K, V any] struct {
	// Topic, Partition, Headers and Timestamp are as in Record.
	Topic     string
	Partition OptionalPartition
	// Key and Value are serialized by the TypedProducer's serializers.
	Key   K
	Value V
	// Headers are sent as they are; Timestamp zero means the time of Send.
	Headers   []Header
	Timestamp time.Time
}

// NewTyped returns a typed view of p.
func NewTyped[K, V any](p *Producer, key serde.Serializer[K], value serde.Serializer[V]) *Typed[K, V] {
	return &Typed[K, V]{p: p, key: key, value: value}
}

// Producer returns the underlying producer (Flush, Close, PartitionsFor, untyped sends).
func (t *Typed[K, V]) Producer() *Producer { return t.p }

// Send serializes and sends a record as Producer.Send does. A serializer's failure is
// returned at once as a *serde.SerializationError: the record was not sent.
func (t *Typed[K, V]) Send(ctx context.Context, r *TypedRecord[K, V], cb func(RecordMetadata, error)) error {
	return t.do(r, func(rec *Record) error { return t.p.Send(ctx, rec, cb) })
}

// SendSync serializes and sends a record and waits for its outcome, as Producer.SendSync.
func (t *Typed[K, V]) SendSync(ctx context.Context, r *TypedRecord[K, V]) (RecordMetadata, error) {
	var md RecordMetadata
	err := t.do(r, func(rec *Record) error {
		var err error
		md, err = t.p.SendSync(ctx, rec)
		return err
	})
	return md, err
}

// do serializes into a pooled scratch buffer, which is safe because the producer copies
// key and value into the batch before Send returns.
func (t *Typed[K, V]) do(r *TypedRecord[K, V], send func(*Record) error) error {
	if r == nil {
		return ErrNilRecord
	}
	bp, _ := t.scratchBuf.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer t.scratchBuf.Put(bp)
	buf := (*bp)[:0]
	kb, err := serde.Append(t.key, buf, r.Topic, r.Key)
	if err != nil {
		return serializationError(serde.SideKey, r.Topic, err)
	}
	keyNull := kb == nil
	if keyNull {
		kb = buf
	}
	klen := len(kb)
	// The value goes right after the key in the same buffer.
	vb, err := serde.Append(t.value, kb, r.Topic, r.Value)
	if err != nil {
		return serializationError(serde.SideValue, r.Topic, err)
	}
	full, value := kb, []byte(nil)
	if vb != nil {
		full, value = vb, vb[klen:len(vb):len(vb)]
	}
	var key []byte
	if !keyNull {
		key = full[:klen:klen] // from the final array: appending the value may have moved it
	}
	*bp = full[:0]
	rec := Record{Topic: r.Topic, Partition: r.Partition, Key: key, Value: value, Headers: r.Headers, Timestamp: r.Timestamp}
	return send(&rec)
}

// serializationError wraps a serializer's failure for Send. A serializer that already
// returns a *serde.SerializationError (the schema registry ones do, since Java's throw
// SerializationException themselves) is not wrapped twice: it only gets the side it
// could not know, as its message would otherwise name the topic twice.
func serializationError(side serde.Side, topic string, err error) error {
	if se, ok := err.(*serde.SerializationError); ok {
		out := *se
		if out.Side == 0 {
			out.Side = side
		}
		if out.Topic == "" {
			out.Topic = topic
		}
		return &out
	}
	return &serde.SerializationError{Side: side, Topic: topic, Err: err}
}
