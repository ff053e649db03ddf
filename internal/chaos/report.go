package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Report is the result of a chaos run: what was sent, what was injected, what the
// checker found. It is also written as JSON (WriteJSON) for RELIABILITY.md.
type Report struct {
	Seed            int64     `json:"seed"`
	Started         time.Time `json:"started"`
	Elapsed         Millis    `json:"elapsed_ms"`
	FaultPeriod     Millis    `json:"fault_period_ms"`
	Topic           string    `json:"topic"`
	Partitions      int32     `json:"partitions"`
	Bootstrap       []string  `json:"bootstrap"`
	Transactional   bool      `json:"transactional"`
	TransactionalID string    `json:"transactional_id,omitempty"`
	Settings        string    `json:"producer_settings"`

	Counts Counts `json:"counts"`
	// Examples describe the first anomalies found.
	Examples []string `json:"examples,omitempty"`

	Faults       int            `json:"faults"`
	FaultsFailed int            `json:"faults_failed"`
	FaultKinds   map[string]int `json:"fault_kinds"`
	FaultLog     []FaultEvent   `json:"fault_log"`

	Producers map[string]*ProducerStats `json:"producers"`
	Txn       *TxnStats                 `json:"transactions,omitempty"`
	// TxnUnfinished is the longest time the coordinator held the transactional id in
	// PrepareCommit or PrepareAbort (its markers not yet written), as DescribeTransactions
	// showed it every 200ms; TxnUnfinishedWhat says which transaction.
	TxnUnfinished     Millis `json:"txn_longest_unfinished_ms"`
	TxnUnfinishedWhat string `json:"txn_longest_unfinished,omitempty"`

	// Runtime anomalies the checker cannot see in the log.
	DoubleCallbacks  int64    `json:"double_callbacks"`
	CloseLate        int      `json:"close_late"`
	Closes           []string `json:"closes"`
	LeakedGoroutines int      `json:"leaked_goroutines"`
	UnproxiedDials   int64    `json:"unproxied_dials"`
	// TxnStopped is 1 when the transactional producer could not go on (no new
	// producer with its transactional.id could initialize within 3 minutes).
	TxnStopped int `json:"txn_stopped"`
	// TxnNotComplete is 1 when, after the faults, the coordinator did not finish the
	// transactional producer's last transaction within Options.TxnCompleteTimeout (its
	// markers never written): the producer could not begin the next one.
	TxnNotComplete int `json:"txn_not_complete"`

	ReadUncommitted int `json:"read_uncommitted_records"`
	ReadCommitted   int `json:"read_committed_records"`
	// Notes are infrastructure problems (a fault that could not be injected, a slow
	// heal): not producer anomalies, but worth reading.
	Notes []string `json:"notes,omitempty"`
	// Error is why the run could not complete, if it did not.
	Error string `json:"error,omitempty"`
}

// ProducerStats sums one producer's sends.
type ProducerStats struct {
	Sends        int            `json:"sends"`
	Acked        int            `json:"acked"`
	NotWritten   int            `json:"not_written"`
	MaybeWritten int            `json:"maybe_written"`
	Aborted      int            `json:"aborted"`
	Pending      int            `json:"pending"`
	P50Resolve   Millis         `json:"p50_resolve_ms"`
	P99Resolve   Millis         `json:"p99_resolve_ms"`
	MaxResolve   Millis         `json:"max_resolve_ms"`
	Errors       map[string]int `json:"errors,omitempty"`
}

// Anomalies is the number of anomalies of every kind; 0 for a correct producer.
func (r *Report) Anomalies() int {
	return r.Counts.Anomalies() + int(r.DoubleCallbacks) + r.CloseLate + r.LeakedGoroutines + int(r.UnproxiedDials) + r.TxnStopped + r.TxnNotComplete
}

// OK reports whether the run completed and found no anomaly.
func (r *Report) OK() bool { return r.Error == "" && r.Anomalies() == 0 }

// Lines returns the summary: per-producer lines, the per-fault-kind line, the other
// anomaly counts, and last the line
//
//	chaos: acked=N faults=F lost=0 duplicated=0 reordered=0 aborted_visible=0 offset_mismatch=0 unresolved=0
func (r *Report) Lines() []string {
	var out []string
	names := make([]string, 0, len(r.Producers))
	for n := range r.Producers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := r.Producers[n]
		out = append(out, fmt.Sprintf("chaos: producer %s: sends=%d acked=%d not_written=%d maybe_written=%d aborted=%d pending=%d resolve_p50=%dms p99=%dms max=%dms",
			n, s.Sends, s.Acked, s.NotWritten, s.MaybeWritten, s.Aborted, s.Pending,
			time.Duration(s.P50Resolve).Milliseconds(), time.Duration(s.P99Resolve).Milliseconds(), time.Duration(s.MaxResolve).Milliseconds()))
	}
	if t := r.Txn; t != nil {
		out = append(out, fmt.Sprintf("chaos: transactions: committed=%d aborted_on_purpose=%d aborted_after_error=%d crashed=%d in_doubt=%d producers_recreated=%d given_up=%d longest_unfinished=%dms",
			t.Committed, t.Purposeful, t.Aborted, t.Crashed, t.InDoubt, t.Recreated, t.GaveUp, time.Duration(r.TxnUnfinished).Milliseconds()))
	}
	kinds := make([]string, 0, len(r.FaultKinds))
	for k, n := range r.FaultKinds {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	out = append(out, fmt.Sprintf("chaos: faults by kind: %s (failed to inject: %d)", strings.Join(kinds, " "), r.FaultsFailed))
	c := r.Counts
	out = append(out, fmt.Sprintf("chaos: read_uncommitted=%d read_committed=%d maybe_written_present=%d txn_incomplete=%d not_written_present=%d not_recovered=%d late=%d unknown=%d double_callbacks=%d close_late=%d leaked_goroutines=%d unproxied_dials=%d txn_stopped=%d txn_not_complete=%d",
		r.ReadUncommitted, r.ReadCommitted, c.MaybeWrittenPresent, c.TxnIncomplete, c.Phantom, c.NotRecovered, c.Late, c.Unknown, r.DoubleCallbacks, r.CloseLate, r.LeakedGoroutines, r.UnproxiedDials, r.TxnStopped, r.TxnNotComplete))
	if r.Error != "" {
		out = append(out, "chaos: run failed: "+r.Error)
	}
	out = append(out, fmt.Sprintf("chaos: acked=%d faults=%d lost=%d duplicated=%d reordered=%d aborted_visible=%d offset_mismatch=%d unresolved=%d",
		c.Acked, r.Faults, c.Lost, c.Duplicated, c.Reordered, c.AbortedVisible, c.OffsetMismatch, c.Unresolved))
	return out
}

// WriteJSON writes the report, indented, to path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// producerStats sums the ledger's attempts per producer.
func producerStats(entries []Entry) map[string]*ProducerStats {
	out := map[string]*ProducerStats{}
	lat := map[string][]time.Duration{}
	for i := range entries {
		e := &entries[i]
		s := out[e.Producer]
		if s == nil {
			s = &ProducerStats{}
			out[e.Producer] = s
		}
		for _, a := range e.Attempts {
			s.Sends++
			switch a.Outcome {
			case Acked:
				s.Acked++
			case NotWritten:
				s.NotWritten++
			case MaybeWritten:
				s.MaybeWritten++
			case Aborted:
				s.Aborted++
			case Pending:
				s.Pending++
				continue
			}
			lat[e.Producer] = append(lat[e.Producer], a.Resolved.Sub(a.Sent))
		}
	}
	for n, ls := range lat {
		sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
		s := out[n]
		s.P50Resolve = Millis(ls[len(ls)/2])
		s.P99Resolve = Millis(ls[len(ls)*99/100])
		s.MaxResolve = Millis(ls[len(ls)-1])
	}
	return out
}
