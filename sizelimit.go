package kprod

import (
	"fmt"

	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/internal/wire"
)

// Send checks a record against two limits, and names the one it exceeds, because users
// confuse them (franz-go#989, kafka-go#720):
//
//   - the producer's max.request.size (and buffer.memory), Java's ensureValidRecordSize:
//     the record's serialized size, estimated as Java does;
//   - the topic's max.message.bytes, which the broker applies to each record batch, header
//     included (UnifiedLog.analyzeAndValidateRecords, MESSAGE_TOO_LARGE). Java has no such
//     check: its producer learns the limit from the broker's refusal. kprod asks the topic's
//     config with its metadata (DescribeConfigs, internal/cluster/limits.go).
//
// The max.message.bytes check refuses only records the broker would certainly refuse: a
// record is never smaller than in a batch of its own, the 61-byte v2 batch header plus the
// record with offset and timestamp deltas of 0, so a record over the limit that way fails
// in any batch. With compression.type other than none the size a batch will have is only
// known once it is compressed (a megabyte of zeros compresses to a few hundred bytes), so
// nothing is checked at Send: the broker's MESSAGE_TOO_LARGE then says the batch's size,
// codec and record count. When the limit is unknown (DescribeConfigs refused, no answer
// yet) nothing is checked either.

// topicLimitSlack bounds what a headerless record adds to its key and value in a batch
// of its own: the batch header (61), the record's attributes and two deltas (1 byte each
// at 0), key and value lengths (5 bytes each at most), header count (1) and its own length
// (5 at most). A headerless record whose key and value plus this fit the limit needs no
// exact count.
const topicLimitSlack = wire.BatchHeaderSize + 1 + 1 + 1 + 5 + 5 + 1 + 5

// nearTopicLimit reports whether Send must count the record's size against the topic's
// max.message.bytes, limit (0 when unknown): not for a compressing producer, nor for a
// headerless record whose key and value are far below the limit (the common case). It
// is inlined into Send: a few comparisons, no call, no allocation.
func (p *Producer) nearTopicLimit(rec *Record, limit int32) bool {
	return limit > 0 && p.set.Codec == config.CodecNone &&
		(len(rec.Headers) != 0 || len(rec.Key)+len(rec.Value)+topicLimitSlack > int(limit))
}

// checkTopicLimit refuses a record that cannot fit the topic's max.message.bytes, limit.
func (p *Producer) checkTopicLimit(rec *Record, limit int32) error {
	if !p.nearTopicLimit(rec, limit) {
		return nil
	}
	return topicLimitError(rec, limit)
}

// topicLimitError returns the error that names the limit, the topic and the size when
// the record, alone in a batch, is over limit. Headers are first bounded cheaply (each
// adds its key and value and at most two 5-byte lengths); only a record near the limit
// is counted exactly.
func topicLimitError(rec *Record, limit int32) error {
	bound := len(rec.Key) + len(rec.Value) + topicLimitSlack
	for _, h := range rec.Headers {
		bound += len(h.Key) + len(h.Value) + 10
	}
	if bound <= int(limit) {
		return nil
	}
	size := wire.BatchHeaderSize + wire.RecordSize(0, 0, rec.Key, rec.Value, wireHeaders(rec.Headers))
	if size <= int(limit) {
		return nil
	}
	return fmt.Errorf("%w: the record is %d bytes in a record batch of its own, more than topic %s's max.message.bytes=%d, which the broker applies to each batch; not sent, not written",
		ErrRecordTooLarge, size, rec.Topic, limit)
}
