package txn

import (
	"testing"

	"github.com/kprod-io/kprod/internal/broker"
)

// TestDecideTV2: transactions v2 (KIP-890) follow the cluster's finalized
// transaction.version as the connections with the newest finalized-features epoch report
// it (broker.Features), decided between transactions as Java's
// TransactionManager.maybeUpdateTransactionV2Enabled does: at InitProducerId the current
// view, at BeginTransaction a newer epoch's downgrade at once and an upgrade only at the
// next InitProducerId; a connection with an older view never changes the decision.
func TestDecideTV2(t *testing.T) {
	f := &broker.Features{}
	m := New(Config{TransactionalID: "x", Features: f})
	defer m.Close()
	tv := func(level int16) map[string]int16 { return map[string]int16{"transaction.version": level} }
	steps := []struct {
		name   string
		update func()
		atInit bool
		want   bool
	}{
		{"no features known: v1", func() {}, true, false},
		{"v2 finalized, InitTransactions", func() { f.Update(3, tv(2)) }, true, true},
		{"a lagging broker still at v1, BeginTransaction", func() { f.Update(2, tv(1)) }, false, true},
		{"the same lagging broker, InitProducerId", func() {}, true, true},
		{"downgraded to v1, BeginTransaction: at once", func() { f.Update(4, tv(1)) }, false, false},
		{"upgraded to v2 again, BeginTransaction: not yet", func() { f.Update(5, tv(2)) }, false, false},
		{"the next BeginTransaction: still not", func() {}, false, false},
		{"the next InitProducerId (epoch bump): now", func() {}, true, true},
		{"the feature removed", func() { f.Update(6, map[string]int16{}) }, false, false},
	}
	for _, s := range steps {
		s.update()
		m.mu.Lock()
		m.decideTV2Locked(s.atInit)
		m.mu.Unlock()
		if got := m.TV2(); got != s.want {
			t.Fatalf("%s: transactions v2 = %v, want %v", s.name, got, s.want)
		}
	}
}
