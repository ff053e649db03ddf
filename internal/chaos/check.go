package chaos

import (
	"fmt"
	"sort"
	"time"
)

// logPos is a record's place in the log.
type logPos struct {
	p   int32
	off int64
}

// Read is one record read back from the topic.
type Read struct {
	Partition int32
	Offset    int64
	Value     string
	// Txn is the "txn" header: the transaction attempt that wrote it, 0 for none.
	Txn int64
}

// Counts are the invariant violations the checker found, and what was acknowledged.
// Every field but Acked is an anomaly: a correct producer leaves them all 0.
type Counts struct {
	// Acked: idempotent records acknowledged with an offset, plus records of committed
	// transactions.
	Acked int `json:"acked"`
	// Lost (invariant 1): an acknowledged record, or a record of a committed
	// transaction, missing from the log.
	Lost int `json:"lost"`
	// Duplicated (2): extra copies of a value (of the same transaction attempt in
	// read_uncommitted, or of any attempt in read_committed).
	Duplicated int `json:"duplicated"`
	// Reordered (3): records that come after a record of the same producer and
	// partition with a higher counter.
	Reordered int `json:"reordered"`
	// OffsetMismatch (4): an acknowledged offset that does not hold the record.
	OffsetMismatch int `json:"offset_mismatch"`
	// AbortedVisible (5): read_committed records of aborted or crashed transactions.
	AbortedVisible int `json:"aborted_visible"`
	// TxnIncomplete (6): committed transactions missing records in read_committed, and
	// in-doubt transactions partly visible.
	TxnIncomplete int `json:"txn_incomplete"`
	// Phantom (7): records reported "not written" that are in the log.
	Phantom int `json:"phantom"`
	// Unresolved (8): sends whose callback never ran or ran later than the bound
	// (Late counts the latter), plus callbacks that ran twice.
	Unresolved int `json:"unresolved"`
	Late       int `json:"late"`
	// Unknown: values in the log that no send produced.
	Unknown int `json:"unknown"`
	// NotRecovered: sends made once the faults were over and the cluster whole again
	// (CheckConfig.CalmFrom) that failed: the producer did not recover.
	NotRecovered int `json:"not_recovered"`
	// MaybeWrittenPresent is not an anomaly: how many sends reported "may have been
	// written" are in fact in the log.
	MaybeWrittenPresent int `json:"maybe_written_present"`
}

// Anomalies is the sum of every anomaly count.
func (c Counts) Anomalies() int {
	return c.Lost + c.Duplicated + c.Reordered + c.OffsetMismatch + c.AbortedVisible +
		c.TxnIncomplete + c.Phantom + c.Unresolved + c.Unknown + c.NotRecovered
}

// CheckConfig tunes the checker.
type CheckConfig struct {
	// Bound is the longest a send may take to resolve: delivery.timeout.ms + margin.
	Bound time.Duration
	// MaxExamples caps the anomaly descriptions kept. Default 50.
	MaxExamples int
	// CalmFrom is when the faults were over and the cluster whole again; every send
	// made from then on must succeed (or be aborted on purpose). Zero: not checked.
	CalmFrom time.Time
	// TxnCalmFrom, when set, replaces CalmFrom for the transactional producer's sends:
	// when it began its first transaction after the coordinator had finished the one
	// before (the calm period's gate). A transaction begun earlier may still meet its
	// predecessor's markers being written, answered CONCURRENT_TRANSACTIONS.
	TxnCalmFrom time.Time
}

// Check compares the ledger with what was read back, read_uncommitted (ru) and
// read_committed (rc), and counts every violation of invariants 1-8. Examples describe
// the first few anomalies.
func Check(entries []Entry, txns []Txn, ru, rc []Read, cfg CheckConfig) (c Counts, examples []string) {
	if cfg.MaxExamples == 0 {
		cfg.MaxExamples = 50
	}
	note := func(format string, args ...any) {
		if len(examples) < cfg.MaxExamples {
			examples = append(examples, fmt.Sprintf(format, args...))
		}
	}
	byValue := make(map[string]int, len(entries))
	for i := range entries {
		byValue[entries[i].Value()] = i
	}
	txnState := func(id int64) (TxnState, bool) {
		if id < 1 || id > int64(len(txns)) {
			return TxnOpen, false
		}
		return txns[id-1].State, true
	}

	type copies struct {
		ru, rc []Read
	}
	seen := make([]copies, len(entries))
	ruAt := make(map[logPos]Read, len(ru))
	for _, r := range ru {
		ruAt[logPos{r.Partition, r.Offset}] = r
		i, ok := byValue[r.Value]
		if !ok {
			c.Unknown++
			note("unknown value %q at %d/%d (read_uncommitted)", r.Value, r.Partition, r.Offset)
			continue
		}
		seen[i].ru = append(seen[i].ru, r)
	}
	for _, r := range rc {
		i, ok := byValue[r.Value]
		if !ok {
			c.Unknown++
			note("unknown value %q at %d/%d (read_committed)", r.Value, r.Partition, r.Offset)
			continue
		}
		seen[i].rc = append(seen[i].rc, r)
		if r.Txn == 0 {
			continue
		}
		switch st, ok := txnState(r.Txn); {
		case !ok:
			c.Unknown++
			note("%s at %d/%d carries unknown transaction %d", r.Value, r.Partition, r.Offset, r.Txn)
		case st == TxnAborted || st == TxnCrashed:
			c.AbortedVisible++
			note("%s at %d/%d from %s transaction %d is visible to read_committed", r.Value, r.Partition, r.Offset, st, r.Txn)
		case st == TxnOpen:
			c.AbortedVisible++
			note("%s at %d/%d from unfinished transaction %d is visible to read_committed", r.Value, r.Partition, r.Offset, r.Txn)
		}
	}

	for i := range entries {
		e := &entries[i]
		v := e.Value()
		s := seen[i]
		transactional := false
		committedTxn := int64(0)
		for _, a := range e.Attempts {
			if a.Txn > 0 {
				transactional = true
				if st, _ := txnState(a.Txn); st == TxnCommitted {
					committedTxn = a.Txn
				}
			}
		}
		if !transactional {
			checkPlain(&c, note, e, v, s.ru, s.rc, ruAt)
			continue
		}
		// Transactional: per attempt in read_uncommitted, per value in read_committed.
		dupSame := 0
		for _, a := range e.Attempts {
			n := 0
			var at []int64
			for _, r := range s.ru {
				if r.Txn == a.Txn {
					n++
					at = append(at, r.Offset)
				}
			}
			if n > 1 {
				dupSame += n - 1
				note("%s of transaction %d written %d times (read_uncommitted offsets %v)", v, a.Txn, n, at)
			}
			switch {
			case a.Outcome == MaybeWritten && n > 0:
				c.MaybeWrittenPresent++
			case a.Outcome == NotWritten && n > 0:
				c.Phantom++
				note("%s of transaction %d reported not written (%s) but is at offsets %v", v, a.Txn, a.Err, at)
			case a.Outcome == Acked && a.Offset >= 0:
				if r, ok := ruAt[logPos{e.Partition, a.Offset}]; !ok || r.Value != v || r.Txn != a.Txn {
					c.OffsetMismatch++
					note("%s of transaction %d acknowledged at %d/%d, log holds %s", v, a.Txn, e.Partition, a.Offset, describe(r, ok))
				}
			}
		}
		// Copies from aborted attempts are already counted as aborted_visible.
		live := 0
		for _, r := range s.rc {
			if st, _ := txnState(r.Txn); st == TxnCommitted || st == TxnInDoubt {
				live++
			}
		}
		dupCommitted := 0
		if live > 1 {
			dupCommitted = live - 1
			note("%s visible %d times to read_committed", v, live)
		}
		c.Duplicated += max(dupSame, dupCommitted)
		if committedTxn > 0 {
			c.Acked++
			found := false
			for _, r := range s.rc {
				found = found || r.Txn == committedTxn
			}
			if !found {
				c.Lost++
				note("%s of committed transaction %d missing from read_committed", v, committedTxn)
			}
		}
	}

	// Idempotent records keep send order in the whole log; transactional ones among
	// what read_committed shows (aborted attempts may leave earlier copies behind).
	c.Reordered += countReorders(ru, byValue, entries, false, note)
	c.Reordered += countReorders(rc, byValue, entries, true, note)
	checkTxns(&c, note, entries, txns, rc)
	checkTimes(&c, note, entries, cfg.Bound)
	if !cfg.CalmFrom.IsZero() {
		checkRecovered(&c, note, entries, cfg.CalmFrom, cfg.TxnCalmFrom)
	}
	return c, examples
}

// checkPlain checks a record of the idempotent (non-transactional) producer.
func checkPlain(c *Counts, note func(string, ...any), e *Entry, v string, ru, rc []Read, ruAt map[logPos]Read) {
	a := e.Attempts[0]
	if len(ru) > 1 {
		c.Duplicated += len(ru) - 1
		note("%s written %d times (offsets %v)", v, len(ru), offsets(ru))
	}
	switch a.Outcome {
	case Acked:
		c.Acked++
		if len(ru) == 0 || len(rc) == 0 {
			c.Lost++
			note("%s acknowledged at %d/%d missing (read_uncommitted %d, read_committed %d copies)", v, e.Partition, a.Offset, len(ru), len(rc))
			return
		}
		if a.Offset >= 0 {
			r, ok := ruAt[logPos{e.Partition, a.Offset}]
			if !ok || r.Value != v {
				c.OffsetMismatch++
				note("%s acknowledged at %d/%d, log holds %s; the record is at %v", v, e.Partition, a.Offset, describe(r, ok), offsets(ru))
			}
		}
	case MaybeWritten:
		if len(ru) > 0 {
			c.MaybeWrittenPresent++
		}
	case NotWritten:
		if len(ru) > 0 {
			c.Phantom++
			note("%s reported not written (%s) but is at offsets %v", v, a.Err, offsets(ru))
		}
	}
}

// countReorders counts, per producer and partition, records of one kind (transactional
// or not) whose counter is lower than that of a record before them. Equal counters are
// duplicates, and later copies of a value are skipped: both are counted as duplicates.
func countReorders(rs []Read, byValue map[string]int, entries []Entry, txn bool, note func(string, ...any)) int {
	n := 0
	type key struct {
		producer string
		p        int32
	}
	last := map[key]int64{}
	seen := make(map[string]bool, len(rs))
	for _, r := range sortedByOffset(rs) {
		i, ok := byValue[r.Value]
		if !ok || (r.Txn != 0) != txn || seen[r.Value] {
			continue
		}
		seen[r.Value] = true
		e := &entries[i]
		k := key{e.Producer, r.Partition}
		if prev, ok := last[k]; ok && e.Counter < prev {
			n++
			note("%s at %d/%d comes after counter %d of the same partition", r.Value, r.Partition, r.Offset, prev)
			continue
		}
		last[k] = e.Counter
	}
	return n
}

// checkTxns checks that committed transactions are whole in read_committed and that
// in-doubt ones are all or nothing (invariant 6).
func checkTxns(c *Counts, note func(string, ...any), entries []Entry, txns []Txn, rc []Read) {
	type vk struct {
		v   string
		txn int64
	}
	visible := make(map[vk]bool, len(rc))
	for _, r := range rc {
		visible[vk{r.Value, r.Txn}] = true
	}
	for _, t := range txns {
		if t.State != TxnCommitted && t.State != TxnInDoubt {
			continue
		}
		n := 0
		for _, i := range t.Entries {
			if visible[vk{entries[i].Value(), t.ID}] {
				n++
			}
		}
		switch {
		case t.State == TxnCommitted && n != len(t.Entries):
			c.TxnIncomplete++
			note("committed transaction %d shows %d of its %d records to read_committed", t.ID, n, len(t.Entries))
		case t.State == TxnInDoubt && n != 0 && n != len(t.Entries):
			c.TxnIncomplete++
			note("in-doubt transaction %d shows %d of its %d records to read_committed", t.ID, n, len(t.Entries))
		}
	}
}

// checkTimes counts sends never resolved, resolved after bound (invariant 8).
func checkTimes(c *Counts, note func(string, ...any), entries []Entry, bound time.Duration) {
	for i := range entries {
		e := &entries[i]
		for _, a := range e.Attempts {
			switch {
			case a.Outcome == Pending:
				c.Unresolved++
				note("%s (transaction %d) sent at %s never resolved", e.Value(), a.Txn, a.Sent.Format(time.TimeOnly))
			case bound > 0 && a.Resolved.Sub(a.Sent) > bound:
				c.Unresolved++
				c.Late++
				note("%s (transaction %d) resolved %s after it was sent (%s), more than %s", e.Value(), a.Txn,
					a.Resolved.Sub(a.Sent).Round(time.Millisecond), a.Outcome, bound)
			}
		}
	}
}

// checkRecovered counts sends made after calm that failed: with the cluster whole again a
// producer must deliver (a transaction aborted on purpose fails its records with Aborted,
// which is not counted).
func checkRecovered(c *Counts, note func(string, ...any), entries []Entry, calmFrom, txnCalmFrom time.Time) {
	for i := range entries {
		e := &entries[i]
		calm := calmFrom
		if e.Producer == producerTxn && !txnCalmFrom.IsZero() {
			calm = txnCalmFrom
		}
		for _, a := range e.Attempts {
			if a.Sent.Before(calm) || (a.Outcome != NotWritten && a.Outcome != MaybeWritten) {
				continue
			}
			c.NotRecovered++
			note("%s (transaction %d) sent %s after the faults ended failed: %s", e.Value(), a.Txn,
				a.Sent.Sub(calm).Round(time.Millisecond), a.Err)
		}
	}
}

func sortedByOffset(rs []Read) []Read {
	out := append([]Read(nil), rs...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Partition != out[j].Partition {
			return out[i].Partition < out[j].Partition
		}
		return out[i].Offset < out[j].Offset
	})
	return out
}

func offsets(rs []Read) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.Offset
	}
	return out
}

func describe(r Read, ok bool) string {
	if !ok {
		return "nothing"
	}
	if r.Txn != 0 {
		return fmt.Sprintf("%s of transaction %d", r.Value, r.Txn)
	}
	return r.Value
}
