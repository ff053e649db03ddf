package chaos

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnView is the transaction coordinator's view of a transactional id
// (DescribeTransactions, KIP-664), asked directly through franz-go.
type txnView struct {
	Coordinator int32
	State       string // Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, PrepareEpochFence, Dead
	ProducerID  int64
	Epoch       int16
	Partitions  []string // "topic/partition" in the transaction
	Started     int64    // unix ms the transaction started, -1 when none
}

func (v txnView) String() string {
	return fmt.Sprintf("state %s on coordinator %d, producer id %d epoch %d, partitions [%s]",
		v.State, v.Coordinator, v.ProducerID, v.Epoch, strings.Join(v.Partitions, " "))
}

// complete reports whether no transaction of the id is open or finishing: a
// transaction may begin without its Produce requests being answered
// CONCURRENT_TRANSACTIONS. PrepareCommit and PrepareAbort mean the coordinator is still
// writing the markers of the last one (with transactions v2, KIP-890, a Produce is
// refused with CONCURRENT_TRANSACTIONS until they are all written).
func (v txnView) complete() bool {
	switch v.State {
	case "Empty", "CompleteCommit", "CompleteAbort":
		return true
	}
	return false
}

// describeTxn asks the coordinator of id for its view of it.
func (a *admin) describeTxn(ctx context.Context, id string) (txnView, error) {
	node, err := a.coordinator(ctx, id)
	if err != nil {
		return txnView{}, err
	}
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{id}
	kresp, err := a.cl.Broker(int(node)).Request(ctx, req)
	if err != nil {
		return txnView{}, err
	}
	resp := kresp.(*kmsg.DescribeTransactionsResponse)
	if len(resp.TransactionStates) != 1 {
		return txnView{}, fmt.Errorf("chaos: describe transaction %s: %d states in the answer", id, len(resp.TransactionStates))
	}
	s := resp.TransactionStates[0]
	if err := kerr.ErrorForCode(s.ErrorCode); err != nil {
		return txnView{}, fmt.Errorf("chaos: describe transaction %s on node %d: %w", id, node, err)
	}
	v := txnView{Coordinator: node, State: s.State, ProducerID: s.ProducerID, Epoch: s.ProducerEpoch, Started: s.StartTimestamp}
	for _, t := range s.Topics {
		for _, p := range t.Partitions {
			v.Partitions = append(v.Partitions, fmt.Sprintf("%s/%d", t.Topic, p))
		}
	}
	slices.Sort(v.Partitions)
	return v, nil
}

// waitTxnComplete polls the coordinator until transactional id is complete (see
// txnView.complete), up to timeout; the error names the state it was left in.
func (a *admin) waitTxnComplete(ctx context.Context, id string, timeout time.Duration) (txnView, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last txnView
	var lastErr error
	for {
		qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := a.describeTxn(qctx, id)
		qcancel()
		if err == nil {
			if v.complete() {
				return v, nil
			}
			last, lastErr = v, nil
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if last.State == "" {
				return last, fmt.Errorf("chaos: transactional id %s: no answer from its coordinator in %s: %v", id, timeout, lastErr)
			}
			return last, fmt.Errorf("chaos: transactional id %s not complete %s after its last transaction ended: %s (last error: %v)",
				id, timeout, last, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// txnWatch polls the coordinator's view of the transactional id through the whole run
// and logs every time the same transaction stays unfinished (PrepareCommit, PrepareAbort:
// its markers not all written) for longer than 2s, and every time the coordinator does
// not answer for longer than 2s. It keeps the longest such stall for the report.
type txnWatch struct {
	admin *admin
	id    string
	logf  func(format string, args ...any)

	mu      sync.Mutex
	longest time.Duration
	what    string
}

// run polls every 200ms until ctx ends.
func (w *txnWatch) run(ctx context.Context) {
	var cur txnView
	var first, last time.Time // when cur was first and last seen unfinished
	var failing time.Time     // since when the coordinator does not answer
	logged, loggedFail := false, false
	for ctx.Err() == nil {
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		v, err := w.admin.describeTxn(qctx, w.id)
		cancel()
		now := time.Now()
		switch {
		case err != nil && ctx.Err() == nil:
			if failing.IsZero() {
				failing = now
			}
			if !loggedFail && now.Sub(failing) > 2*time.Second {
				w.logf("coordinator: no answer to DescribeTransactions for %.1fs: %v", now.Sub(failing).Seconds(), err)
				loggedFail = true
			}
		case err == nil:
			if loggedFail {
				w.logf("coordinator: answers again after %.1fs: %s", now.Sub(failing).Seconds(), v)
			}
			failing, loggedFail = time.Time{}, false
			unfinished := strings.HasPrefix(v.State, "Prepare")
			same := cur.State == v.State && cur.Epoch == v.Epoch && cur.ProducerID == v.ProducerID
			if !same && !first.IsZero() {
				w.ended(cur, last.Sub(first), logged, v)
				first, logged = time.Time{}, false
			}
			cur = v
			if unfinished {
				if first.IsZero() {
					first = now
				}
				last = now
				if !logged && last.Sub(first) > 2*time.Second {
					w.logf("coordinator: transactional id unfinished for %.1fs: %s", last.Sub(first).Seconds(), v)
					logged = true
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	if !first.IsZero() {
		w.ended(cur, last.Sub(first), logged, txnView{State: "(run over)"})
	}
}

// ended records that v, unfinished for at least d, is over.
func (w *txnWatch) ended(v txnView, d time.Duration, logged bool, next txnView) {
	if logged {
		w.logf("coordinator: transactional id left %s (epoch %d) after %.1fs or more, now %s", v.State, v.Epoch, d.Seconds(), next.State)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if d > w.longest {
		w.longest, w.what = d, fmt.Sprintf("%s epoch %d on coordinator %d, partitions [%s]", v.State, v.Epoch, v.Coordinator, strings.Join(v.Partitions, " "))
	}
}

// Longest returns the longest time the transactional id stayed unfinished, and in what.
func (w *txnWatch) Longest() (time.Duration, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.longest, w.what
}
