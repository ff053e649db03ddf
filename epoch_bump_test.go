package kprod_test

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestIdempotentBumpFencesLateBatch: an idempotent producer whose batch expired in flight
// (possibly written) bumps its epoch before it sends more (rule 8, KIP-360). The bump must
// fence that batch: if its request reaches the log only after the records sent under the
// new identity (a paused or overloaded broker works off its socket backlog late), the
// broker must refuse it, or it lands after them and the partition's order is broken.
//
// Java bumps an idempotent producer's epoch locally (TransactionManager.
// bumpIdempotentProducerEpoch: same producer id, epoch + 1; the broker accepts the next
// epoch at sequence 0 and refuses the older one). InitProducerId without a
// transactional.id cannot do it: a broker always answers it with a new producer id
// (TransactionCoordinator.handleInitProducerId), and a late batch of the old id is still
// in sequence for it. Found by TestChaosShort on Kafka 4.4.0 (seed 303): records an
// expired request carried landed 541 places after records sent 16 s later.
func TestIdempotentBumpFencesLateBatch(t *testing.T) {
	const topic = "bump-fence"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	fake := c.Fake()
	p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.RequestTimeout, cfg.DeliveryTimeout = 300*time.Millisecond, 1500*time.Millisecond
	})
	tr := newMXTracker(topic)
	mxWarmup(t, p, tr, 1)

	// The next Produce request is held at the broker until released; the producer times
	// it out and closes its connection, but the broker has read it and appends it when
	// it wakes, as a real one works off a paused or starved broker's backlog. The
	// retries are refused (NOT_ENOUGH_REPLICAS, not written) until late expires, possibly
	// written.
	held, release, resumed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	armed := true
	fake.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		if !armed || !mxCarries(kreq, topic, 0) {
			return nil, nil, false
		}
		armed = false
		fake.DropControl()
		close(held)
		fake.SleepControl(func() { <-release })
		close(resumed) // the cluster handles the request as soon as this returns
		return nil, nil, false
	})
	tr.send(t, p, 0, "late")
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("the Produce request of late never reached the broker")
	}
	refuse := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicas, Count: -1})
	tr.wait(t, 5*time.Second)
	refuse.Remove()
	if err := tr.errOf("late"); err == nil || !kprod.MaybeWritten(err) {
		t.Fatalf("late: %v; want a failure that may have been written", err)
	}
	if refuse.Hits() == 0 {
		t.Fatal("late was never retried")
	}
	tr.send(t, p, 0, "after") // goes once the producer took a new epoch
	tr.wait(t, 5*time.Second)
	close(release)
	<-resumed
	tr.send(t, p, 0, "final") // handled after the late request
	tr.wait(t, 5*time.Second)

	tr.checkCallbacks(t, "late")
	recs := mxRead(t, c.Bootstrap(), topic, false, 3)
	var order []string
	for _, r := range recs {
		order = append(order, string(r.Value))
	}
	if !slices.Equal(order, []string{"warm-0", "after", "final"}) && !slices.Equal(order, []string{"warm-0", "late", "after", "final"}) {
		t.Fatalf("the log holds %v; want [warm-0 after final]: the expired batch, sent before after, must not land after it (the epoch bump fences it)", order)
	}
	// Java's local bump: the same producer id, the next epoch.
	byValue := map[string]int{}
	for i, r := range recs {
		byValue[string(r.Value)] = i
	}
	w, a := recs[byValue["warm-0"]], recs[byValue["after"]]
	if a.ProducerID != w.ProducerID || a.ProducerEpoch != w.ProducerEpoch+1 {
		t.Errorf("after was written as %d/%d, warm-0 as %d/%d; want the same producer id at the next epoch (Java's bumpIdempotentProducerEpoch)",
			a.ProducerID, a.ProducerEpoch, w.ProducerID, w.ProducerEpoch)
	}
}
