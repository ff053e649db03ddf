package kprod

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
