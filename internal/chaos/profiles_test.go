package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
)

// TestProfilesLeaderKill holds each delivery profile (delivery.profile) to its promise
// through a leader crash on a real three-node cluster: records stream into a partition
// with replication factor 3 and min.insync.replicas 2, its leader is killed (SIGKILL)
// while records are in flight, the stream goes on to the new leader, and the node comes
// back. franz-go reads the partition back. at-most-once: never a duplicate;
// at-least-once: every acknowledged record is there; the exactly-once family: every
// acknowledged record exactly once, nothing twice, in send order; transactional: every
// record of a committed transaction once, none of an aborted one (read_committed).
func TestProfilesLeaderKill(t *testing.T) {
	c, bootstrap := testCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	a, err := newAdmin(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	for _, ps := range kprod.ProfileSettings() {
		t.Run(string(ps.Profile), func(t *testing.T) {
			profileLeaderKill(ctx, t, c, a, bootstrap, ps.Profile)
		})
	}
}

// profileRun is one profile's stream: what the callbacks (or commits) acknowledged.
type profileRun struct {
	mu        sync.Mutex
	acked     map[int]bool // record i acknowledged (in a committed transaction, for transactions)
	aborted   map[int]bool // record i in an aborted transaction
	killedAt  atomic.Bool
	stop      atomic.Bool  // the stream ends
	afterKill atomic.Int64 // acknowledgements of records sent after the kill
	ackedN    atomic.Int64
	failed    atomic.Int64
	lastErr   atomic.Value
}

func (r *profileRun) ack(ids []int, sentAfterKill bool) {
	r.mu.Lock()
	for _, i := range ids {
		r.acked[i] = true
	}
	r.mu.Unlock()
	r.ackedN.Add(int64(len(ids)))
	if sentAfterKill {
		r.afterKill.Add(int64(len(ids)))
	}
}

func profileLeaderKill(ctx context.Context, t *testing.T, c *Cluster, a *admin, bootstrap []string, profile kprod.Profile) {
	const maxRecords, perTxn = 200_000, 100
	txn := profile == kprod.ProfileTransactional
	topic := fmt.Sprintf("profile-%s-%d", profile, time.Now().UnixNano())
	if err := a.createTopic(ctx, topic, 1, 3, 2); err != nil {
		t.Fatal(err)
	}
	if err := a.waitHealthy(ctx, 2*time.Minute, 3, topic); err != nil {
		t.Fatal(err)
	}
	cfg := kprod.Config{BootstrapServers: bootstrap, Profile: profile}
	if txn {
		cfg.TransactionalID = topic
	}
	p, err := kprod.NewProducer(cfg, kprod.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if txn {
		if err := p.InitTransactions(ctx); err != nil {
			t.Fatal(err)
		}
	}

	run := &profileRun{acked: map[int]bool{}, aborted: map[int]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if txn {
			streamTransactions(ctx, t, p, topic, maxRecords, perTxn, run)
		} else {
			streamRecords(ctx, p, topic, maxRecords, run)
		}
	}()

	// Kill the leader once the stream flows, bring it back once the stream flows
	// through the new leader, and end the stream once the revived node is a follower
	// again: each step observed, not timed.
	defer func() { run.stop.Store(true); <-done }()
	waitUntil(ctx, t, "records acknowledged before the kill", func() bool { return run.ackedN.Load() >= 300 })
	leader, err := a.leader(ctx, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(ctx, int(leader)); err != nil {
		t.Fatal(err)
	}
	run.killedAt.Store(true)
	t.Logf("killed node %d, the leader, after %d acknowledgements", leader, run.ackedN.Load())
	waitUntil(ctx, t, "an acknowledgement from the new leader", func() bool { return run.afterKill.Load() > 0 })
	if err := c.Start(ctx, int(leader)); err != nil {
		t.Fatal(err)
	}
	if err := a.waitHealthy(ctx, 2*time.Minute, 3, topic); err != nil {
		t.Fatal(err)
	}
	more := run.ackedN.Load() + 300
	waitUntil(ctx, t, "acknowledgements after the node came back", func() bool { return run.ackedN.Load() >= more })
	run.stop.Store(true)
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the stream did not end")
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := a.waitHealthy(ctx, 2*time.Minute, 3, topic); err != nil {
		t.Fatal(err)
	}
	ends, err := a.waitStable(ctx, topic, 1, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	reads, err := readBack(ctx, bootstrap, topic, ends, txn, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checkProfile(t, profile, run, reads)
}

// streamRecords sends records 0, 1, ..., about one a millisecond, each acknowledged by
// its callback, until run.stop (or n records).
func streamRecords(ctx context.Context, p *kprod.Producer, topic string, n int, run *profileRun) {
	var wg sync.WaitGroup
	for i := 0; i < n && !run.stop.Load(); i++ {
		after := run.killedAt.Load()
		wg.Add(1)
		err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte(strconv.Itoa(i))}, func(_ kprod.RecordMetadata, err error) {
			defer wg.Done()
			if err != nil {
				run.failed.Add(1)
				run.lastErr.Store(err.Error())
				return
			}
			run.ack([]int{i}, after)
		})
		if err != nil {
			wg.Done()
			run.failed.Add(1)
			run.lastErr.Store(err.Error())
		}
		time.Sleep(time.Millisecond) // pacing, so that the kill meets a stream in flight
	}
	p.Flush(ctx)
	wg.Wait()
}

// streamTransactions sends records 0, 1, ... in transactions of per records until
// run.stop (or n records); a transaction that cannot commit is aborted, as an
// application would.
func streamTransactions(ctx context.Context, t *testing.T, p *kprod.Producer, topic string, n, per int, run *profileRun) {
	for first := 0; first < n && !run.stop.Load(); first += per {
		after := run.killedAt.Load()
		if err := p.BeginTransaction(); err != nil {
			t.Errorf("BeginTransaction: %v", err)
			return
		}
		ids := make([]int, 0, per)
		for i := first; i < min(first+per, n); i++ {
			ids = append(ids, i)
			if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte(strconv.Itoa(i))}, nil); err != nil {
				run.lastErr.Store(err.Error())
			}
			time.Sleep(time.Millisecond)
		}
		err := p.CommitTransaction(ctx)
		if err == nil {
			run.ack(ids, after)
			continue
		}
		var ab *kprod.AbortableError
		if !errors.As(err, &ab) {
			t.Errorf("CommitTransaction: %v", err)
			return
		}
		run.lastErr.Store(err.Error())
		if err := p.AbortTransaction(ctx); err != nil {
			t.Errorf("AbortTransaction after %v: %v", ab, err)
			return
		}
		run.mu.Lock()
		for _, i := range ids {
			run.aborted[i] = true
		}
		run.mu.Unlock()
	}
}

// checkProfile holds what was read back to the profile's promise.
func checkProfile(t *testing.T, profile kprod.Profile, run *profileRun, reads []Read) {
	count := map[int]int{}
	last, outOfOrder := -1, 0
	for _, r := range reads {
		i, err := strconv.Atoi(r.Value)
		if err != nil {
			t.Fatalf("offset %d: value %q is not a record of this test", r.Offset, r.Value)
		}
		count[i]++
		if i <= last {
			outOfOrder++
		}
		last = i
	}
	var dups, lost []int
	for i, n := range count {
		if n > 1 {
			dups = append(dups, i)
		}
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	for i := range run.acked {
		if count[i] == 0 {
			lost = append(lost, i)
		}
	}
	abortedVisible := 0
	for i := range run.aborted {
		if count[i] > 0 {
			abortedVisible++
		}
	}
	lastErr, _ := run.lastErr.Load().(string)
	t.Logf("%s: %d read, %d acknowledged (%d after the kill), %d failed, %d aborted; %d duplicated, %d acknowledged but lost, %d out of order; last error: %s",
		profile, len(reads), len(run.acked), run.afterKill.Load(), run.failed.Load(), len(run.aborted), len(dups), len(lost), outOfOrder, lastErr)
	if len(run.acked) == 0 {
		t.Fatal("nothing acknowledged: the test tested nothing")
	}
	switch profile {
	case kprod.ProfileAtMostOnce:
		if len(dups) > 0 {
			t.Errorf("at-most-once wrote %d records twice, e.g. %v", len(dups), dups[:min(5, len(dups))])
		}
	case kprod.ProfileAtLeastOnce:
		if len(lost) > 0 {
			t.Errorf("at-least-once lost %d acknowledged records, e.g. %v", len(lost), lost[:min(5, len(lost))])
		}
	default:
		if len(dups) > 0 || len(lost) > 0 || outOfOrder > 0 {
			t.Errorf("%s: %d duplicated (e.g. %v), %d acknowledged but lost (e.g. %v), %d out of order",
				profile, len(dups), dups[:min(5, len(dups))], len(lost), lost[:min(5, len(lost))], outOfOrder)
		}
		if abortedVisible > 0 {
			t.Errorf("%d records of aborted transactions visible to read_committed", abortedVisible)
		}
		if profile == kprod.ProfileTransactional && len(reads) != len(run.acked) {
			t.Errorf("read_committed saw %d records, %d were committed", len(reads), len(run.acked))
		}
	}
}

// waitUntil polls cond until it holds, failing the test after three minutes.
func waitUntil(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
