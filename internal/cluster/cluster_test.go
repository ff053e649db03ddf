package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/pool"
	"github.com/kprod-io/kprod/kafkatest"
)

func newTestCluster(t *testing.T, bootstrap []string) *Cluster {
	c := New(Config{Bootstrap: bootstrap, MaxAge: time.Minute, MaxIdle: time.Minute, Pool: testPool(t, broker.Options{}),
		RetryBackoff: 10 * time.Millisecond, RetryBackoffMax: 100 * time.Millisecond})
	t.Cleanup(c.Close)
	return c
}

func TestWaitSeesTopicAndLeaderMove(t *testing.T) {
	k := kafkatest.New(t, kafkatest.Brokers(3), kafkatest.Topic("t", 2))
	c := newTestCluster(t, k.Bootstrap())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	top, err := c.Wait(ctx, "t", 1)
	if err != nil {
		t.Fatal(err)
	}
	if top.Parts.Count != 2 || len(top.Parts.Available) != 2 {
		t.Fatalf("parts %+v, want 2 with leaders", top.Parts)
	}
	before, _ := c.Leader("t", 0)
	to := (before + 1) % 3
	if err := k.Fake().MoveTopicPartition("t", 0, to); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second) // only a broken refresh uses it up
	for {
		c.Refresh()
		time.Sleep(20 * time.Millisecond) // polls the next snapshot
		if l, _ := c.Leader("t", 0); l == to {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leader still %d after the move to %d", before, to)
		}
	}
	if addr, ok := c.BrokerAddr(to); !ok || addr == "" {
		t.Fatalf("no address for node %d", to)
	}
}

func TestWaitUnknownTopicEndsWithCtx(t *testing.T) {
	k := kafkatest.New(t) // auto-creation off
	c := newTestCluster(t, k.Bootstrap())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Wait(ctx, "missing", 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the ctx deadline", err)
	}
	if time.Since(start) > 10*time.Second { // a hang, not a speed check
		t.Fatal("Wait overran its ctx")
	}
}

func TestWaitForMorePartitionsThanExist(t *testing.T) {
	k := kafkatest.New(t, kafkatest.Topic("t", 2))
	c := newTestCluster(t, k.Bootstrap())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	top, err := c.Wait(ctx, "t", 5)
	if err == nil || top == nil || top.Parts.Count != 2 {
		t.Fatalf("Wait for 5 partitions of a 2-partition topic: topic %+v err %v", top, err)
	}
}

func TestOlderLeaderEpochIsIgnored(t *testing.T) {
	old := &Topic{Name: "t", Partitions: []Partition{{ID: 0, Leader: 1, LeaderEpoch: 7}}}
	stale := &Topic{Name: "t", Partitions: []Partition{{ID: 0, Leader: 2, LeaderEpoch: 6}}}
	keepNewerEpochs(old, stale, map[int32]string{1: "a", 2: "b"})
	if stale.Partitions[0].Leader != 1 {
		t.Fatalf("leader %d from an older epoch replaced the known one", stale.Partitions[0].Leader)
	}
	newer := &Topic{Name: "t", Partitions: []Partition{{ID: 0, Leader: 2, LeaderEpoch: 8}}}
	keepNewerEpochs(old, newer, map[int32]string{1: "a", 2: "b"})
	if newer.Partitions[0].Leader != 2 {
		t.Fatal("a newer epoch was not taken")
	}
	recreated := &Topic{Name: "t", ID: [16]byte{9}, Partitions: []Partition{{ID: 0, Leader: 2, LeaderEpoch: 0}}}
	old.ID = [16]byte{1}
	keepNewerEpochs(old, recreated, map[int32]string{1: "a", 2: "b"})
	if recreated.Partitions[0].Leader != 2 {
		t.Fatal("a recreated topic kept the old topic's leader")
	}
}

func TestCloseEndsWaiters(t *testing.T) {
	k := kafkatest.New(t)
	c := New(Config{Bootstrap: k.Bootstrap(), MaxAge: time.Minute, MaxIdle: time.Minute, Pool: testPool(t, broker.Options{}),
		RetryBackoff: 10 * time.Millisecond, RetryBackoffMax: 100 * time.Millisecond})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Wait(context.Background(), "missing", 1)
		errc <- err
	}()
	// Close once the waiter registered its topic: it is inside Wait.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		_, waiting := c.want["missing"]
		c.mu.Unlock()
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Wait never asked for the topic")
		}
	}
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not end on Close")
	}
}

func TestHintLeaderTakesNewerEpochsOnly(t *testing.T) {
	k := kafkatest.New(t, kafkatest.Brokers(3), kafkatest.Topic("t", 1))
	c := newTestCluster(t, k.Bootstrap())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	top, err := c.Wait(ctx, "t", 1)
	if err != nil {
		t.Fatal(err)
	}
	cur := top.Partitions[0]
	other := (cur.Leader + 1) % 3
	c.HintLeader("t", 0, other, cur.LeaderEpoch) // same epoch: ignored
	if l, _ := c.Leader("t", 0); l != cur.Leader {
		t.Fatalf("a hint with the same epoch moved the leader to %d", l)
	}
	c.HintLeader("t", 0, 99, cur.LeaderEpoch+1) // unknown node: ignored
	if l, _ := c.Leader("t", 0); l != cur.Leader {
		t.Fatalf("a hint naming an unknown node moved the leader to %d", l)
	}
	c.HintLeader("t", 0, other, cur.LeaderEpoch+1)
	if l, _ := c.Leader("t", 0); l != other {
		t.Fatalf("leader %d after a newer hint naming %d", l, other)
	}
}

// testPool returns a connection pool dialing with opts, closed when the test ends
// (after the views using it, which the test closes or registered later).
func testPool(t *testing.T, opts broker.Options) *pool.Pool {
	t.Helper()
	p := pool.New(pool.Config{Conn: opts})
	t.Cleanup(p.Close)
	return p
}
