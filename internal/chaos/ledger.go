package chaos

import (
	"bufio"
	"fmt"
	"io"
	"sync"
	"time"
)

// Outcome is what the producer reported for one send of a record.
type Outcome uint8

// The outcomes a send can end in.
const (
	// Pending: the callback has not run (yet).
	Pending Outcome = iota
	// Acked: the broker acknowledged the record at Attempt.Offset.
	Acked
	// NotWritten: the producer said the record is certainly not in the log
	// (Send refused it, or MaybeWritten(err) was false).
	NotWritten
	// MaybeWritten: the send failed but the record may be in the log
	// (MaybeWritten(err) was true).
	MaybeWritten
	// Aborted: the record's transaction was aborted before it was delivered
	// (ErrTransactionAborted).
	Aborted
)

var outcomeNames = [...]string{"pending", "acked", "not_written", "maybe_written", "aborted"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", o)
}

// TxnState is how a transaction attempt ended.
type TxnState uint8

// The states of a transaction attempt.
const (
	// TxnOpen: not finished (a bug in the driver or an interrupted run).
	TxnOpen TxnState = iota
	// TxnCommitted: CommitTransaction returned nil.
	TxnCommitted
	// TxnAborted: AbortTransaction returned nil, on purpose or after an abortable error.
	TxnAborted
	// TxnCrashed: the producer was cut off from the cluster ("kill -9") before it asked
	// to commit; its successor's InitTransactions must abort it.
	TxnCrashed
	// TxnInDoubt: the outcome is unknown (the producer failed fatally or crashed while
	// committing): either every record is visible to read_committed or none is.
	TxnInDoubt
)

var txnStateNames = [...]string{"open", "committed", "aborted", "crashed", "in_doubt"}

func (s TxnState) String() string {
	if int(s) < len(txnStateNames) {
		return txnStateNames[s]
	}
	return fmt.Sprintf("txnstate(%d)", s)
}

// Attempt is one send of a record. Records of the idempotent producer have one attempt;
// a transactional record gets a new attempt each time its transaction is resent.
type Attempt struct {
	// Txn is the transaction attempt id (the "txn" header), 0 outside transactions.
	Txn int64
	// Sent is when Send was called; Resolved when the callback ran (zero while pending).
	Sent, Resolved time.Time
	Outcome        Outcome
	// Offset is the acknowledged offset, -1 when unknown.
	Offset int64
	// Err is the error text of a failed send.
	Err string
}

// Entry is one logical record: a unique value "producer/partition/counter".
type Entry struct {
	Producer  string
	Partition int32
	Counter   int64
	Attempts  []Attempt
}

// Value is the record value that names the entry in the log.
func (e *Entry) Value() string { return FormatValue(e.Producer, e.Partition, e.Counter) }

// FormatValue builds the value "producer/partition/counter".
func FormatValue(producer string, partition int32, counter int64) string {
	return fmt.Sprintf("%s/%d/%d", producer, partition, counter)
}

// Txn is one transaction attempt.
type Txn struct {
	// ID is the attempt id carried in the "txn" header of its records (1, 2, ...).
	ID int64
	// Seq numbers the logical transaction; a resent transaction keeps its Seq.
	Seq int64
	// Entries are indices into Ledger.Entries.
	Entries []int
	State   TxnState
	// Purposeful is set when the driver aborted it on purpose.
	Purposeful bool
	Note       string
}

// Ledger logs every send and transaction of a run. Safe for concurrent use: the workload
// goroutines add, the producers' completion goroutines resolve.
type Ledger struct {
	mu      sync.Mutex
	entries []Entry
	txns    []Txn
	now     func() time.Time
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger { return &Ledger{now: time.Now} }

// Ref names one attempt of one entry.
type Ref struct{ Entry, Attempt int }

// Add logs a new record about to be sent and returns a reference to its first attempt.
func (l *Ledger) Add(producer string, partition int32, counter int64, txn int64) Ref {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, Entry{Producer: producer, Partition: partition, Counter: counter,
		Attempts: []Attempt{{Txn: txn, Sent: l.now(), Offset: -1}}})
	i := len(l.entries) - 1
	if txn > 0 {
		l.txns[txn-1].Entries = append(l.txns[txn-1].Entries, i)
	}
	return Ref{Entry: i}
}

// Retry logs another send of an existing entry within transaction attempt txn.
func (l *Ledger) Retry(entry int, txn int64) Ref {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := &l.entries[entry]
	e.Attempts = append(e.Attempts, Attempt{Txn: txn, Sent: l.now(), Offset: -1})
	if txn > 0 {
		l.txns[txn-1].Entries = append(l.txns[txn-1].Entries, entry)
	}
	return Ref{Entry: entry, Attempt: len(e.Attempts) - 1}
}

// Resolve records the outcome of an attempt. A second resolution of the same attempt is
// ignored (the first callback wins) and reported as false: the producer must run each
// callback exactly once.
func (l *Ledger) Resolve(r Ref, o Outcome, offset int64, err error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := &l.entries[r.Entry].Attempts[r.Attempt]
	if a.Outcome != Pending {
		return false
	}
	a.Outcome, a.Offset, a.Resolved = o, offset, l.now()
	if err != nil {
		a.Err = err.Error()
	}
	return true
}

// BeginTxn opens a transaction attempt for logical transaction seq and returns its id.
func (l *Ledger) BeginTxn(seq int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := int64(len(l.txns) + 1)
	l.txns = append(l.txns, Txn{ID: id, Seq: seq})
	return id
}

// EndTxn records how a transaction attempt ended.
func (l *Ledger) EndTxn(id int64, s TxnState, purposeful bool, note string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := &l.txns[id-1]
	t.State, t.Purposeful, t.Note = s, purposeful, note
}

// TxnEntries returns the entries of a transaction attempt.
func (l *Ledger) TxnEntries(id int64) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.txns[id-1].Entries...)
}

// Snapshot returns deep copies of the entries and transactions.
func (l *Ledger) Snapshot() ([]Entry, []Txn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	es := make([]Entry, len(l.entries))
	for i, e := range l.entries {
		es[i] = e
		es[i].Attempts = append([]Attempt(nil), e.Attempts...)
	}
	ts := make([]Txn, len(l.txns))
	for i, t := range l.txns {
		ts[i] = t
		ts[i].Entries = append([]int(nil), t.Entries...)
	}
	return es, ts
}

// Len returns the number of entries.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// WriteLedger writes one line per send, times in milliseconds from start:
//
//	value txn=ID(state) sent=MS resolved=MS outcome offset=N err="..."
func WriteLedger(w io.Writer, start time.Time, entries []Entry, txns []Txn) error {
	bw := bufio.NewWriter(w)
	ms := func(t time.Time) int64 {
		if t.IsZero() {
			return -1
		}
		return t.Sub(start).Milliseconds()
	}
	for i := range entries {
		e := &entries[i]
		for _, a := range e.Attempts {
			txn := ""
			if a.Txn > 0 && a.Txn <= int64(len(txns)) {
				txn = fmt.Sprintf(" txn=%d(%s)", a.Txn, txns[a.Txn-1].State)
			}
			fmt.Fprintf(bw, "%s%s sent=%d resolved=%d %s offset=%d", e.Value(), txn, ms(a.Sent), ms(a.Resolved), a.Outcome, a.Offset)
			if a.Err != "" {
				fmt.Fprintf(bw, " err=%q", a.Err)
			}
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}
