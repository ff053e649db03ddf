package cluster

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/kafkatest"
)

// TestLimitsAskedOncePerMaxAge: a topic's max.message.bytes is asked when the topic is
// first seen, before its metadata is published, and not again on refreshes within
// metadata.max.age.ms; a topic deleted and created again (a new topic id) is asked afresh
// at the next refresh.
func TestLimitsAskedOncePerMaxAge(t *testing.T) {
	k := kafkatest.New(t)
	fake := k.Fake()
	if err := fake.CreateTopic("t", 1, map[string]string{"max.message.bytes": "2000"}); err != nil {
		t.Fatal(err)
	}
	if err := fake.CreateTopic("plain", 1, nil); err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	fake.ControlKey(int16(kmsg.DescribeConfigs), func(kmsg.Request) (kmsg.Response, error, bool) {
		asked.Add(1)
		return nil, nil, false // counted, then answered by kfake
	})
	c := newTestCluster(t, k.Bootstrap()) // metadata.max.age.ms one minute
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	top, err := c.Wait(ctx, "t", 1)
	if err != nil {
		t.Fatal(err)
	}
	if top.MaxMessageBytes != 2000 {
		t.Fatalf("first snapshot with the topic has max.message.bytes=%d, want 2000", top.MaxMessageBytes)
	}
	if top, err = c.Wait(ctx, "plain", 1); err != nil || top.MaxMessageBytes != 1048588 { // Kafka's default
		t.Fatalf("plain: max.message.bytes=%d, err %v, want the default 1048588", top.MaxMessageBytes, err)
	}
	n := asked.Load()
	for range 3 {
		refreshed(t, c)
	}
	if got := asked.Load(); got != n {
		t.Errorf("DescribeConfigs asked %d more times in 3 refreshes within metadata.max.age.ms", got-n)
	}
	if l, _ := c.Lookup("t"); l.MaxMessageBytes != 2000 {
		t.Errorf("refreshes lost the limit: %d", l.MaxMessageBytes)
	}

	if err := fake.DeleteTopic("t"); err != nil {
		t.Fatal(err)
	}
	if err := fake.CreateTopic("t", 1, map[string]string{"max.message.bytes": "3000"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		refreshed(t, c)
		if l, ok := c.Lookup("t"); ok && l.MaxMessageBytes == 3000 {
			break
		}
		if time.Now().After(deadline) {
			l, _ := c.Lookup("t")
			t.Fatalf("recreated topic still has max.message.bytes=%d, want 3000", l.MaxMessageBytes)
		}
	}
}

// refreshed asks for a refresh and waits until one has ended.
func refreshed(t *testing.T, c *Cluster) {
	t.Helper()
	c.mu.Lock()
	ch := c.updated
	c.mu.Unlock()
	c.Refresh()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no refresh in 10s")
	}
}
