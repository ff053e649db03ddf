package kprod_test

import (
	"context"
	"testing"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/partition"
	"github.com/kprod-io/kprod/kafkatest"
)

func TestPartitionsFor(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Brokers(2), kafkatest.Topic("pf", 5))
	p := newProducer(t, c.Bootstrap(), nil)
	parts, err := p.PartitionsFor(context.Background(), "pf")
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 5 {
		t.Fatalf("%d partitions, want 5", len(parts))
	}
	for i, pi := range parts {
		if pi.Topic != "pf" || pi.Partition != int32(i) || pi.Leader != c.Fake().LeaderFor("pf", int32(i)) {
			t.Fatalf("partition %d: %+v, leader should be %d", i, pi, c.Fake().LeaderFor("pf", int32(i)))
		}
	}
}

func partitionsOf(t *testing.T, p *kprod.Producer, recs []*kprod.Record) []int32 {
	t.Helper()
	var out []int32
	for _, r := range recs {
		md, err := p.SendSync(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, md.Partition)
	}
	return out
}

func TestRoundRobinPartitioner(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("rr", 4))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.PartitionerKind = kprod.PartitionerRoundRobin })
	var recs []*kprod.Record
	for range 12 {
		recs = append(recs, &kprod.Record{Topic: "rr", Value: []byte("x")})
	}
	got := partitionsOf(t, p, recs)
	for i := 1; i < len(got); i++ {
		if got[i] != (got[i-1]+1)%4 {
			t.Fatalf("round robin partitions %v: not cycling through 4 partitions", got)
		}
	}
}

func TestKeysHashedLikeJavaUnlessIgnored(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("keys", 8))
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	var recs []*kprod.Record
	for _, k := range keys {
		recs = append(recs, &kprod.Record{Topic: "keys", Key: []byte(k), Value: []byte("v")})
	}
	hashed := partitionsOf(t, newProducer(t, c.Bootstrap(), nil), recs)
	for i, k := range keys {
		if want := partition.KeyPartition([]byte(k), 8); hashed[i] != want {
			t.Fatalf("key %q went to %d, murmur2 says %d", k, hashed[i], want)
		}
	}
	// partitioner.ignore.keys: keyed records are spread like keyless ones (uniform
	// sticky), so small records stay on one partition until batch.size bytes went there.
	ignored := partitionsOf(t, newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.PartitionerIgnoreKeys = true }), recs)
	for _, p := range ignored {
		if p != ignored[0] {
			t.Fatalf("with ignore.keys, 10 small records went to %v; want one sticky partition", ignored)
		}
	}
}
