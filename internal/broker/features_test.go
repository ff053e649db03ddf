package broker

import (
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// featureVersions is the Versions of an ApiVersions answer listing transaction.version at
// level (none when level < 0) under the finalized-features epoch.
func featureVersions(level int16, epoch int64) Versions {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.FinalizedFeaturesEpoch = epoch
	if level >= 0 {
		f := kmsg.NewApiVersionsResponseFinalizedFeature()
		f.Name, f.MinVersionLevel, f.MaxVersionLevel = "transaction.version", level, level
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, f)
	}
	return newVersions(resp)
}

// TestFeaturesHighestEpochWins: connections that report different finalized feature
// levels give one answer, the one with the highest finalized-features epoch, whatever the
// order they were dialed in (Java's ApiVersions.update).
func TestFeaturesHighestEpochWins(t *testing.T) {
	type answer struct {
		level int16
		epoch int64
	}
	for _, tc := range []struct {
		name      string
		answers   []answer
		wantLevel int16
		wantOK    bool
	}{
		{"none yet", nil, 0, false},
		{"an old broker without features", []answer{{-1, -1}}, 0, false},
		{"upgraded later", []answer{{1, 5}, {2, 9}}, 2, true},
		{"a lagging broker cannot undo an upgrade", []answer{{2, 9}, {1, 5}}, 2, true},
		{"a lagging broker cannot undo a downgrade", []answer{{1, 12}, {2, 9}, {2, 11}}, 1, true},
		{"the feature removed at a newer epoch", []answer{{2, 3}, {-1, 4}}, 0, false},
		{"an old broker after a new one", []answer{{2, 3}, {-1, -1}}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f Features
			for _, a := range tc.answers {
				v := featureVersions(a.level, a.epoch)
				f.Update(v.FinalizedFeaturesEpoch(), v.features)
			}
			level, _, ok := f.Level("transaction.version")
			if level != tc.wantLevel || ok != tc.wantOK {
				t.Errorf("Level = %d, %v; want %d, %v", level, ok, tc.wantLevel, tc.wantOK)
			}
		})
	}
}

// TestFeaturesConcurrentOrder: however concurrent dials interleave, the answer is the
// highest epoch's.
func TestFeaturesConcurrentOrder(t *testing.T) {
	for range 50 {
		var f Features
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lvl := int16(1)
				if i == 5 {
					lvl = 2
				}
				v := featureVersions(lvl, int64(i))
				f.Update(v.FinalizedFeaturesEpoch(), v.features)
			}()
		}
		wg.Wait()
		if level, epoch, _ := f.Level("transaction.version"); level != 1 || epoch != 7 {
			t.Fatalf("Level = %d at epoch %d; want 1 at epoch 7", level, epoch)
		}
	}
}
