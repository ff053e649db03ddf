package kprod_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fair buffering (buffer.memory.partition.max, issue 15 item 2) on the embedded cluster:
// one broker stops answering Produce requests, as a broker paused with SIGSTOP does, and
// the records for the partitions it leads pile up in buffer.memory.

// parkedForPartition is where a Send waits for buffer.memory.partition.max (room.go).
const parkedForPartition = "github.com/kprod-io/kprod/internal/accumulator.(*Accumulator).waitOn"

// fairSetup is a three-broker cluster whose topic's partitions led by one broker get no
// answer to Produce until the test ends.
type fairSetup struct {
	stuck, healthy []int32
}

func newFairSetup(t *testing.T, topic string) (*kafkatest.Cluster, fairSetup) {
	t.Helper()
	c := kafkatest.New(t, kafkatest.Brokers(3), kafkatest.Topic(topic, 6))
	fake := c.Fake()
	node := fake.LeaderFor(topic, 0)
	var s fairSetup
	for part := range int32(6) {
		if fake.LeaderFor(topic, part) == node {
			s.stuck = append(s.stuck, part)
		} else {
			s.healthy = append(s.healthy, part)
		}
	}
	if len(s.healthy) == 0 {
		t.Fatal("every partition has the same leader")
	}
	release := make(chan struct{})
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		if fake.CurrentNode() == node {
			fake.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	t.Cleanup(func() { close(release) })
	return c, s
}

// fillStuck sends to the stuck partitions from a goroutine until the test ends, which
// then cancels and waits for it; it reports the first error that is not its ctx's.
func fillStuck(t *testing.T, p *kprod.Producer, topic string, parts []int32) <-chan error {
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		value := make([]byte, 1000)
		for i := 0; ctx.Err() == nil; i++ {
			err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(parts[i%len(parts)]), Value: value}, nil)
			if err != nil && ctx.Err() == nil {
				select {
				case errc <- err:
				default:
				}
			}
		}
	})
	return errc
}

// TestFairBufferingHealthyPartitionsProceed: with buffer.memory.partition.max set, the
// stuck partitions take no more than their bound, their Sends block, and the partitions
// led by the other brokers go on: four times buffer.memory is sent to them and
// acknowledged meanwhile. The blocked Sends fail after max.block.ms with
// ErrBufferExhausted naming the property.
func TestFairBufferingHealthyPartitionsProceed(t *testing.T) {
	const topic = "fair"
	c, s := newFairSetup(t, topic)
	const bufferMemory, partMax = 256 << 10, 32 << 10
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), BufferMemory: bufferMemory,
		BufferMemoryPartitionMax: partMax, MaxBlock: 2 * time.Second,
		RequestTimeout: 5 * time.Minute, DeliveryTimeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNow(p) }) // after fillStuck's cleanup
	stuckErr := fillStuck(t, p, topic, s.stuck)
	waitUntil(t, "a Send to a stuck partition blocked by its bound", func() bool { return parkedIn(parkedForPartition) })

	value := make([]byte, 1000)
	acks := make(chan error, 4*bufferMemory/len(value))
	sendCtx, sendCancel := context.WithTimeout(context.Background(), waitLong)
	defer sendCancel()
	for i := range cap(acks) {
		r := &kprod.Record{Topic: topic, Partition: kprod.InPartition(s.healthy[i%len(s.healthy)]), Value: value}
		if err := p.Send(sendCtx, r, func(_ kprod.RecordMetadata, err error) { acks <- err }); err != nil {
			t.Fatalf("send %d to a healthy partition: %v", i, err)
		}
	}
	for range cap(acks) {
		if err := <-acks; err != nil {
			t.Fatalf("a record to a healthy partition failed: %v", err)
		}
	}

	select {
	case err := <-stuckErr:
		if !errors.Is(err, kprod.ErrBufferExhausted) || !strings.Contains(err.Error(), "buffer.memory.partition.max=32768") {
			t.Fatalf("a stuck Send failed with %v, want ErrBufferExhausted naming buffer.memory.partition.max=32768", err)
		}
	case <-time.After(waitLong):
		t.Fatal("no stuck Send failed after max.block.ms")
	}
}

// TestUnfairBufferingStuckPartitionStallsOthers is Java's behaviour, the default: without
// the bound the stuck partitions take all of buffer.memory, and a Send to a partition
// whose leader answers blocks too, until its ctx ends. This is what
// buffer.memory.partition.max fixes.
func TestUnfairBufferingStuckPartitionStallsOthers(t *testing.T) {
	const topic = "unfair"
	c, s := newFairSetup(t, topic)
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), BufferMemory: 256 << 10,
		MaxBlock: 5 * time.Minute, RequestTimeout: 5 * time.Minute, DeliveryTimeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNow(p) })
	fillStuck(t, p, topic, s.stuck)
	waitUntil(t, "a Send to a stuck partition blocked by buffer.memory", func() bool { return parkedIn(parkedForBuffer) })

	healthyCtx, healthyCancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer healthyCancel()
	err = p.Send(healthyCtx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(s.healthy[0]), Value: make([]byte, 1000)}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send to a healthy partition: %v, want it blocked for buffer.memory until its ctx ended", err)
	}
}

// closeNow closes p without waiting for the stuck partitions' batches, which the broker
// holds until the test ends.
func closeNow(p *kprod.Producer) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.Close(ctx)
}

// TestFairBufferingStickyAllPartitionsFull: when every partition an unkeyed record may
// go to holds its bound (here the only broker holds every Produce request), the record
// waits for any of them and fails after max.block.ms with ErrBufferExhausted saying
// that all of them held buffer.memory.partition.max, not one partition. A keyed record
// under partitioner.ignore.keys=true is spread the same way and fails the same way.
func TestFairBufferingStickyAllPartitionsFull(t *testing.T) {
	for _, tc := range []struct {
		name       string
		key        []byte
		ignoreKeys bool
		says       string // how the error names the record
	}{
		{name: "unkeyed", says: "an unkeyed record may go to"},
		{name: "keyed-ignore-keys", key: []byte("k"), ignoreKeys: true, says: "partitioner.ignore.keys=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const topic = "fair-all"
			c := kafkatest.New(t, kafkatest.Brokers(1), kafkatest.Topic(topic, 3))
			fake := c.Fake()
			release := make(chan struct{})
			fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
				fake.KeepControl()
				fake.SleepControl(func() { <-release })
				return nil, nil, false
			})
			t.Cleanup(func() { close(release) })
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), BufferMemory: 256 << 10,
				BufferMemoryPartitionMax: 32 << 10, MaxBlock: 500 * time.Millisecond,
				RequestTimeout: 5 * time.Minute, DeliveryTimeout: 10 * time.Minute,
				PartitionerIgnoreKeys: tc.ignoreKeys})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { closeNow(p) })
			value := make([]byte, 1000)
			for i := range 3 * (32 << 10) / len(value) * 2 { // twice what the three bounds hold
				err = p.Send(context.Background(), &kprod.Record{Topic: topic, Key: tc.key, Value: value}, nil)
				if err != nil {
					if i < 3*(32<<10)/len(value)/2 {
						t.Fatalf("send %d failed before the partitions could be full: %v", i, err)
					}
					break
				}
			}
			if !errors.Is(err, kprod.ErrBufferExhausted) || !strings.Contains(err.Error(), "every partition of topic fair-all") ||
				!strings.Contains(err.Error(), "buffer.memory.partition.max=32768") || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("a Send with every partition it may go to full: %v; want ErrBufferExhausted saying every partition of the topic held buffer.memory.partition.max=32768, and %q", err, tc.says)
			}
		})
	}
}
