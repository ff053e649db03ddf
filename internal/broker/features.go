package broker

import "sync"

// Features is the cluster's finalized features (KIP-584) as the client last learned them
// from any connection: of all ApiVersions answers, the one with the highest
// finalized-features epoch wins, as in Java's ApiVersions.update. A broker that has not yet
// seen a feature change (a lower epoch) cannot undo it, and the answer does not depend on
// which connection was asked. Dial updates it when Options.Features is set. Safe for
// concurrent use; the zero value is ready.
type Features struct {
	mu     sync.Mutex
	epoch  int64 // -1 until an answer with finalized features arrived
	seen   bool
	levels map[string]int16
}

// Update takes the finalized feature levels one broker reported at epoch if the epoch is
// higher than any seen so far; an epoch below 0 (no features) changes nothing. levels must
// not be modified afterwards.
func (f *Features) Update(epoch int64, levels map[string]int16) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if epoch < 0 || (f.seen && epoch <= f.epoch) {
		return
	}
	f.epoch, f.seen, f.levels = epoch, true, levels
}

// Level returns the finalized level of feature name and the epoch it was read at; ok is
// false while no broker has listed it (an unknown feature is at level 0).
func (f *Features) Level(name string) (level int16, epoch int64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.seen {
		return 0, -1, false
	}
	level, ok = f.levels[name]
	return level, f.epoch, ok
}
