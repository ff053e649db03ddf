package chaos

import (
	"testing"
	"time"
)

// world is a synthetic run: what the producers reported and what the log holds.
type world struct {
	entries []Entry
	txns    []Txn
	ru, rc  []Read
	next    map[int32]int64 // next offset per partition
}

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newWorld() *world { return &world{next: map[int32]int64{}} }

// idem logs an idempotent send of counter n to partition p with outcome o; written says
// whether the log holds it (at the next offset, reported as the acknowledged offset).
func (w *world) idem(p int32, n int64, o Outcome, written bool) *Entry {
	a := Attempt{Sent: t0, Resolved: t0.Add(time.Second), Outcome: o, Offset: -1}
	if o == Pending {
		a.Resolved = time.Time{}
	}
	if written {
		off := w.next[p]
		w.next[p]++
		if o == Acked {
			a.Offset = off
		}
		r := Read{Partition: p, Offset: off, Value: FormatValue("idem", p, n)}
		w.ru = append(w.ru, r)
		w.rc = append(w.rc, r)
	}
	w.entries = append(w.entries, Entry{Producer: "idem", Partition: p, Counter: n, Attempts: []Attempt{a}})
	return &w.entries[len(w.entries)-1]
}

// txn logs a transaction attempt in state s holding the given entries (indices; -1 adds a
// new entry per partition in ps); its acknowledged records are written, and visible to
// read_committed when visible is set.
func (w *world) txn(s TxnState, ps []int32, counters []int64, existing []int, visible bool) int64 {
	id := int64(len(w.txns) + 1)
	t := Txn{ID: id, Seq: id, State: s}
	for k, p := range ps {
		var i int
		if existing != nil {
			i = existing[k]
		} else {
			w.entries = append(w.entries, Entry{Producer: "txn", Partition: p, Counter: counters[k]})
			i = len(w.entries) - 1
		}
		e := &w.entries[i]
		off := w.next[e.Partition]
		w.next[e.Partition]++
		e.Attempts = append(e.Attempts, Attempt{Txn: id, Sent: t0, Resolved: t0.Add(time.Second), Outcome: Acked, Offset: off})
		r := Read{Partition: e.Partition, Offset: off, Value: e.Value(), Txn: id}
		w.ru = append(w.ru, r)
		if visible {
			w.rc = append(w.rc, r)
		}
		t.Entries = append(t.Entries, i)
	}
	w.next[ps[0]]++ // the control record
	w.txns = append(w.txns, t)
	return id
}

// base is a clean run: idempotent records on two partitions, a committed transaction, an
// aborted one resent and committed, one aborted on purpose, one crashed, one in doubt
// that committed and one in doubt that did not.
func base() *world {
	w := newWorld()
	for n := int64(0); n < 5; n++ {
		w.idem(0, n, Acked, true)
		w.idem(1, n, Acked, true)
	}
	w.idem(0, 5, MaybeWritten, true)
	w.idem(0, 6, MaybeWritten, false)
	w.idem(1, 5, NotWritten, false)
	w.txn(TxnCommitted, []int32{2, 3}, []int64{0, 0}, nil, true)
	w.txn(TxnAborted, []int32{2, 3}, []int64{1, 1}, nil, false)
	w.txn(TxnCommitted, []int32{2, 3}, nil, []int{len(w.entries) - 2, len(w.entries) - 1}, true)
	w.txn(TxnAborted, []int32{2}, []int64{2}, nil, false)
	w.txns[len(w.txns)-1].Purposeful = true
	w.txn(TxnCrashed, []int32{3}, []int64{2}, nil, false)
	w.txn(TxnInDoubt, []int32{2, 3}, []int64{3, 3}, nil, true)
	w.txn(TxnInDoubt, []int32{2, 3}, []int64{4, 4}, nil, false)
	return w
}

func TestCheckCountsEachAnomaly(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(w *world)
		want  Counts
	}{
		{"clean", func(w *world) {}, Counts{}},
		{"maybe-written record absent", func(w *world) {
			drop(&w.ru, Read{Partition: 0, Offset: 5, Value: FormatValue("idem", 0, 5)})
			drop(&w.rc, Read{Partition: 0, Offset: 5, Value: FormatValue("idem", 0, 5)})
		}, Counts{MaybeWrittenPresent: -1}},
		{"lost acked record", func(w *world) {
			w.ru = w.ru[1:]
			w.rc = w.rc[1:]
		}, Counts{Lost: 1}},
		{"acked record missing from read_committed only", func(w *world) {
			w.rc = w.rc[1:]
		}, Counts{Lost: 1}},
		{"duplicate idempotent record", func(w *world) {
			d := w.ru[0]
			d.Offset = 100
			w.ru = append(w.ru, d)
		}, Counts{Duplicated: 1}},
		{"reordered idempotent records", func(w *world) {
			// swap the values at offsets 0 and 1 of partition 0 (counters 0 and 1)
			var a, b int = -1, -1
			for i, r := range w.ru {
				if r.Partition == 0 && r.Offset == 2 {
					a = i
				}
				if r.Partition == 0 && r.Offset == 3 {
					b = i
				}
			}
			w.ru[a].Offset, w.ru[b].Offset = w.ru[b].Offset, w.ru[a].Offset
			for i := range w.entries {
				e := &w.entries[i]
				if e.Producer == "idem" && e.Partition == 0 && (e.Counter == 2 || e.Counter == 3) {
					e.Attempts[0].Offset = 5 - e.Attempts[0].Offset
				}
			}
		}, Counts{Reordered: 1}},
		{"offset mismatch", func(w *world) {
			w.entries[0].Attempts[0].Offset = 7
		}, Counts{OffsetMismatch: 1}},
		{"aborted transaction visible", func(w *world) {
			w.rc = append(w.rc, readOf(w, 2, 1))
		}, Counts{AbortedVisible: 1}},
		{"crashed transaction visible", func(w *world) {
			w.rc = append(w.rc, readOf(w, 5, 0))
		}, Counts{AbortedVisible: 1}},
		{"committed transaction incomplete", func(w *world) {
			drop(&w.rc, readOf(w, 1, 1))
		}, Counts{Lost: 1, TxnIncomplete: 1}},
		{"in-doubt transaction partly visible", func(w *world) {
			drop(&w.rc, readOf(w, 6, 0))
		}, Counts{TxnIncomplete: 1}},
		{"not-written record present", func(w *world) {
			r := Read{Partition: 1, Offset: 50, Value: FormatValue("idem", 1, 5)}
			w.ru = append(w.ru, r)
			w.rc = append(w.rc, r)
		}, Counts{Phantom: 1}},
		{"never resolved", func(w *world) {
			w.entries[0].Attempts[0].Outcome = Pending
		}, Counts{Unresolved: 1, Acked: -1}},
		{"resolved late", func(w *world) {
			w.entries[0].Attempts[0].Resolved = t0.Add(time.Minute)
		}, Counts{Unresolved: 1, Late: 1}},
		{"unknown value", func(w *world) {
			w.ru = append(w.ru, Read{Partition: 0, Offset: 99, Value: "idem/0/999"})
		}, Counts{Unknown: 1}},
		{"committed twice", func(w *world) {
			r := readOf(w, 1, 0)
			r.Offset = 200
			w.ru = append(w.ru, r)
			w.rc = append(w.rc, r)
		}, Counts{Duplicated: 1}},
		{"transactional records reordered", func(w *world) {
			// the first committed transaction's partition-2 record shows up last
			r := readOf(w, 1, 0)
			drop(&w.rc, r)
			r.Offset = 300
			w.rc = append(w.rc, r)
		}, Counts{Reordered: 1}},
		{"failed after the faults ended", func(w *world) {
			w.entries[0].Attempts[0].Sent = t0.Add(time.Hour)
			w.entries[0].Attempts[0].Resolved = t0.Add(time.Hour + time.Second)
			w.entries[0].Attempts[0].Outcome = NotWritten
			w.entries[0].Attempts[0].Offset = -1
			// and it is not in the log
			drop(&w.ru, Read{Partition: 0, Offset: 0, Value: FormatValue("idem", 0, 0)})
			drop(&w.rc, Read{Partition: 0, Offset: 0, Value: FormatValue("idem", 0, 0)})
		}, Counts{NotRecovered: 1, Acked: -1}},
	}
	calm := CheckConfig{Bound: 20 * time.Second, CalmFrom: t0.Add(30 * time.Minute)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := base()
			clean, _ := Check(w.entries, w.txns, w.ru, w.rc, calm)
			tt.spoil(w)
			got, ex := Check(w.entries, w.txns, w.ru, w.rc, calm)
			want := tt.want
			want.Acked += clean.Acked
			want.MaybeWrittenPresent += clean.MaybeWrittenPresent
			if got != want {
				t.Fatalf("counts = %+v, want %+v; examples: %q", got, want, ex)
			}
			if want.Anomalies() > 0 && len(ex) == 0 {
				t.Fatal("anomaly without example")
			}
		})
	}
}

func TestCheckCleanBaseAcked(t *testing.T) {
	w := base()
	got, ex := Check(w.entries, w.txns, w.ru, w.rc, CheckConfig{})
	// 10 idempotent acked + 2 (first commit) + 2 (resent commit)
	if got.Acked != 14 || got.Anomalies() != 0 {
		t.Fatalf("counts = %+v, examples %q", got, ex)
	}
}

// readOf returns the read_uncommitted copy of the k-th record of transaction id.
func readOf(w *world, id int64, k int) Read {
	v := w.entries[w.txns[id-1].Entries[k]].Value()
	for _, r := range w.ru {
		if r.Value == v && r.Txn == id {
			return r
		}
	}
	panic("no such read")
}

func drop(rs *[]Read, r Read) {
	out := (*rs)[:0]
	for _, x := range *rs {
		if x != r {
			out = append(out, x)
		}
	}
	*rs = out
}

func TestLedgerResolvesOnce(t *testing.T) {
	l := NewLedger()
	r := l.Add("idem", 0, 0, 0)
	if !l.Resolve(r, Acked, 3, nil) {
		t.Fatal("first resolution refused")
	}
	if l.Resolve(r, NotWritten, -1, nil) {
		t.Fatal("second resolution accepted")
	}
	id := l.BeginTxn(1)
	tr := l.Add("txn", 1, 0, id)
	l.EndTxn(id, TxnAborted, true, "")
	id2 := l.BeginTxn(1)
	r2 := l.Retry(tr.Entry, id2)
	if r2.Attempt != 1 {
		t.Fatalf("retry attempt = %d", r2.Attempt)
	}
	es, ts := l.Snapshot()
	if len(es) != 2 || es[0].Attempts[0].Offset != 3 || len(ts) != 2 || ts[0].State != TxnAborted || len(ts[1].Entries) != 1 {
		t.Fatalf("snapshot %+v %+v", es, ts)
	}
}

// TestCheckTxnCalmFrom: the transactional producer's sends count for recovery from
// TxnCalmFrom (its first transaction after the coordinator finished the one before), not
// from CalmFrom; the idempotent producer's still from CalmFrom.
func TestCheckTxnCalmFrom(t *testing.T) {
	w := base()
	at := t0.Add(time.Hour)
	id := int64(len(w.txns) + 1)
	w.entries = append(w.entries, Entry{Producer: "txn", Partition: 11, Counter: 1000, Attempts: []Attempt{
		{Txn: id, Sent: at, Resolved: at.Add(15 * time.Second), Outcome: NotWritten, Offset: -1}}})
	w.txns = append(w.txns, Txn{ID: id, Seq: id, State: TxnAborted, Entries: []int{len(w.entries) - 1}})
	for _, tc := range []struct {
		name          string
		calm, txnCalm time.Time
		want          int
	}{
		{"sent after CalmFrom, no TxnCalmFrom", at.Add(-time.Minute), time.Time{}, 1},
		{"sent before TxnCalmFrom", at.Add(-time.Minute), at.Add(time.Second), 0},
		{"sent after TxnCalmFrom", at.Add(time.Minute), at.Add(-time.Second), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ex := Check(w.entries, w.txns, w.ru, w.rc, CheckConfig{Bound: 20 * time.Second, CalmFrom: tc.calm, TxnCalmFrom: tc.txnCalm})
			if got.NotRecovered != tc.want {
				t.Fatalf("not_recovered = %d, want %d; examples %q", got.NotRecovered, tc.want, ex)
			}
		})
	}
}
