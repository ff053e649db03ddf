package metricexport

import (
	"slices"
	"sync"

	"github.com/kprod-io/kprod"
)

// Producers is the set of producers an exporter reads at each scrape or collection. It
// is safe for concurrent use; its zero value is an empty set.
type Producers struct {
	mu sync.Mutex
	ps []*kprod.Producer // guarded by mu; in the order added
}

// Add adds p; adding a producer twice adds it once.
func (s *Producers) Add(p *kprod.Producer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.ps, p) {
		s.ps = append(s.ps, p)
	}
}

// Remove removes p.
func (s *Producers) Remove(p *kprod.Producer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ps = slices.DeleteFunc(s.ps, func(q *kprod.Producer) bool { return q == p })
}

// Read returns the current metrics of each producer still open, and forgets the closed
// ones, as Java's JmxReporter unregisters a closed producer's MBeans. Of producers that
// share a client.id only the first added is read: their series would be the same, and
// in Java the second one's MBeans cannot register.
func (s *Producers) Read() [][]kprod.Metric {
	s.mu.Lock()
	s.ps = slices.DeleteFunc(s.ps, (*kprod.Producer).Closed)
	ps := slices.Clone(s.ps)
	s.mu.Unlock()
	var out [][]kprod.Metric
	seen := map[string]bool{}
	for _, p := range ps {
		ms := p.Metrics()
		if len(ms) == 0 || seen[ms[0].Tags["client-id"]] {
			continue
		}
		seen[ms[0].Tags["client-id"]] = true
		out = append(out, ms)
	}
	return out
}
