package kprod

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TestSpoolMetadataTimeoutOnKnownTopicWaits pins the feeder's choice after a metadata
// wait timed out: when the topic's metadata arrived just after the timeout (the topic
// is known by the time the feeder looks), a record without an explicit partition waits
// in the spool for another try. Only a record pinned past the topic's partition count
// fails and leaves the spool. (CI once failed TestSpoolMissingTopic on exactly that
// window: a record for an existing topic failed "not present in metadata".)
func TestSpoolMetadataTimeoutOnKnownTopicWaits(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "known"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := NewProducer(Config{BootstrapServers: c.ListenAddrs(), SpoolDir: t.TempDir()}, WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if _, err := p.SendSync(context.Background(), &Record{Topic: "known", Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	timedOut := fmt.Errorf("%w: topic known not present in metadata after 100 ms (max.block.ms expired)", ErrMetadataTimeout)
	for _, tc := range []struct {
		part OptionalPartition
		fail bool
	}{
		{OptionalPartition{}, false},
		{InPartition(1), false},
		{InPartition(2), true},
		{InPartition(7), true},
	} {
		rec := &Record{Topic: "known", Partition: tc.part, Timestamp: time.Now()}
		if got := p.spool.recordError(rec, timedOut); got != tc.fail {
			n, set := tc.part.Get()
			t.Errorf("partition %d (set %v) of a 2-partition topic after a metadata timeout: fails the record %v, want %v", n, set, got, tc.fail)
		}
	}
}
