package kprod_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// Transactions v2 only where negotiated (issue 10, item 4): the producer follows the
// cluster's finalized transaction.version, not the versions a broker can speak. Java caps
// a transactional Produce at v11 unless transaction.version >= 2 is finalized (Sender,
// ProduceRequest.builder with useTransactionV1Version), and registers partitions with
// AddPartitionsToTxn then.

// txSetTxnVersion finalizes transaction.version at level on the cluster (UpdateFeatures).
func txSetTxnVersion(t *testing.T, c *kafkatest.Cluster, level int16) {
	t.Helper()
	req := kmsg.NewPtrUpdateFeaturesRequest()
	fu := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	fu.Feature, fu.MaxVersionLevel, fu.AllowDowngrade, fu.UpgradeType = "transaction.version", level, true, 2
	req.FeatureUpdates = append(req.FeatureUpdates, fu)
	resp, err := req.RequestWith(mxCtx(t, 5*time.Second), rtClient(t, c.Bootstrap()))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != 0 {
		t.Fatalf("UpdateFeatures: error code %d", resp.ErrorCode)
	}
	for _, r := range resp.Results {
		if r.ErrorCode != 0 {
			t.Fatalf("UpdateFeatures %s: error code %d", r.Feature, r.ErrorCode)
		}
	}
}

// txProduceVersions records the version of every Produce request of the cluster.
type txProduceVersions struct {
	mu       sync.Mutex
	versions map[int16]int
}

func txWatchProduce(fake *kfake.Cluster) *txProduceVersions {
	pv := &txProduceVersions{versions: map[int16]int{}}
	fake.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		pv.mu.Lock()
		pv.versions[kreq.GetVersion()]++
		pv.mu.Unlock()
		return nil, nil, false
	})
	return pv
}

func (pv *txProduceVersions) max() (int16, int) {
	pv.mu.Lock()
	defer pv.mu.Unlock()
	top, n := int16(-1), 0
	for v, c := range pv.versions {
		top = max(top, v)
		n += c
	}
	return top, n
}

// TestTxnProduceVersionFollowsFeature: a cluster whose brokers speak Produce v12 and
// EndTxn v5 but finalized transaction.version 1. The transactional producer uses
// transactions v1: AddPartitionsToTxn, and no Produce above v11. With level 2 finalized
// it uses v2: Produce v12, no AddPartitionsToTxn. An idempotent producer (no
// transactions) uses the newest Produce version either way, as Java's does.
func TestTxnProduceVersionFollowsFeature(t *testing.T) {
	for _, level := range []int16{1, 2} {
		t.Run("transaction.version="+itoa(int64(level)), func(t *testing.T) {
			const topic = "features"
			c := kafkatest.New(t, kafkatest.Topic(topic, 2))
			txSetTxnVersion(t, c, level)
			fake := c.Fake()
			pv := txWatchProduce(fake)
			adds := mxCount(fake, kmsg.AddPartitionsToTxn)
			p := mxTxnProducer(t, c, "features", level >= 2, nil)
			tr := newMXTracker(topic)
			mxCommitTxn(t, p, tr, 2, "a-0", "a-1")
			mxCommitTxn(t, p, tr, 2, "b-0", "b-1")
			top, n := pv.max()
			switch {
			case n == 0:
				t.Fatal("no Produce request seen")
			case level < 2 && top > 11:
				t.Errorf("transactions v1: Produce v%d sent; Java caps transactional Produce at v11 (v12 means KIP-890)", top)
			case level >= 2 && top != 12:
				t.Errorf("transactions v2: Produce v%d; want v12", top)
			}
			switch got := adds.Load(); {
			case level < 2 && got < 2:
				t.Errorf("transactions v1: %d AddPartitionsToTxn for two transactions; want each to register its partitions", got)
			case level >= 2 && got != 0:
				t.Errorf("transactions v2: %d AddPartitionsToTxn; Produce v12 adds partitions", got)
			}
			tr.checkCallbacks(t)
			mxExpectLog(t, c.Bootstrap(), topic, true, tr.delivered(), tr.metadata())

			idem := mxProducer(t, c.Bootstrap(), nil)
			before, _ := pv.max()
			pv.mu.Lock()
			clear(pv.versions)
			pv.mu.Unlock()
			if _, err := idem.SendSync(context.Background(), &kprod.Record{Topic: topic, Value: []byte("idem")}); err != nil {
				t.Fatal(err)
			}
			if top, _ := pv.max(); top != 12 {
				t.Errorf("idempotent producer: Produce v%d (transactional ones used up to v%d); want v12", top, before)
			}
		})
	}
}
