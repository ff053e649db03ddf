package kprod

import "time"

// TransactionsV2 reports whether p uses transactions v2 (KIP-890), for tests.
func TransactionsV2(p *Producer) bool { return p.txn != nil && p.txn.TV2() }

// TopicLimit returns the topic's max.message.bytes as the producer knows it, 0 when
// unknown, for tests that wait for a refresh to bring a change.
func TopicLimit(p *Producer, topic string) int32 {
	if t, ok := p.meta.Lookup(topic); ok {
		return t.MaxMessageBytes
	}
	return 0
}

// MetadataGeneration counts the producer's metadata snapshots, for tests that wait for
// refreshes.
func MetadataGeneration(p *Producer) uint64 { return p.meta.Generation() }

// WithPauseBound sets how long the sender may hold Sends on one P
// (internal/sender/pace.go); 0 is the default.
func WithPauseBound(d time.Duration) Option { return func(o *options) { o.pauseBound = d } }

// PausedSends returns how many Sends the sender holds back on one P.
func PausedSends(p *Producer) int { return p.snd.Paused() }

// BufferUsed returns the bytes of buffer.memory held, and how many Sends wait for more.
func BufferUsed(p *Producer) (int64, int) { return p.acc.Budget.Used(), p.acc.Budget.Waiting() }
