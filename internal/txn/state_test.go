package txn

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

var allStates = []State{Uninitialized, Initializing, Ready, InTransaction, Committing, Aborting, AbortableError, FatalError}

// javaTransitions is the reference table: Java's TransactionManager.State.isTransitionValid
// (Kafka 3.8+, with KIP-890), target -> sources. UNINITIALIZED is left out: Java re-enters
// it to reset an idempotent (non-transactional) producer's id, which this package does
// outside the state machine (BumpEpoch), and after an InitProducerId refused for
// authorization, from ABORTABLE_ERROR (KAFKA-13668), which deliberateTransitions takes in
// one step. FATAL_ERROR is reachable from every state.
var javaTransitions = map[State][]State{
	Initializing:   {Uninitialized, Aborting},
	Ready:          {Initializing, Committing, Aborting},
	InTransaction:  {Ready},
	Committing:     {InTransaction},
	Aborting:       {InTransaction, AbortableError},
	AbortableError: {InTransaction, Committing, AbortableError, Initializing},
}

// deliberateTransitions are the transitions kprod allows and Java does not, each for a
// reason RELIABILITY.md states: COMMITTING -> ABORTING while the commit has not sent its
// EndTxn (Manager.Abort checks that), so a commit whose offsets are never accepted can be
// abandoned. INITIALIZING -> UNINITIALIZED after an InitProducerId refused
// CLUSTER_AUTHORIZATION_FAILED or TRANSACTIONAL_ID_AUTHORIZATION_FAILED: Java passes
// through ABORTABLE_ERROR (KAFKA-13668); the end state is the same.
var deliberateTransitions = map[State][]State{Aborting: {Committing}, Uninitialized: {Initializing}}

// TestTransitionTable checks every (from, to) pair of the state machine against Java's
// table and the deliberate differences: 64 pairs, each valid or invalid for a stated
// reason.
func TestTransitionTable(t *testing.T) {
	for _, from := range allStates {
		for _, to := range allStates {
			want := to == FatalError
			for _, s := range append(javaTransitions[to], deliberateTransitions[to]...) {
				want = want || s == from
			}
			if got := validTransition(from, to); got != want {
				t.Errorf("%s -> %s: valid = %v, want %v (Java's isTransitionValid)", from, to, got, want)
			}
		}
	}
}

// TestTransitionRefusedLeavesState: an invalid transition is a StateError of kind
// Retriable wrapping ErrWrongState, and the state does not change (Java throws
// IllegalStateException without poisoning the manager, KAFKA-14831).
func TestTransitionRefusedLeavesState(t *testing.T) {
	for _, from := range allStates {
		for _, to := range allStates {
			if validTransition(from, to) {
				continue
			}
			m := &Manager{state: from}
			err := m.transition(to)
			var se *StateError
			switch {
			case err == nil:
				t.Errorf("%s -> %s: no error", from, to)
			case !errors.As(err, &se) || se.Kind != Retriable || !errors.Is(err, ErrWrongState):
				t.Errorf("%s -> %s: %v (%T); want a Retriable StateError wrapping ErrWrongState", from, to, err, err)
			}
			if m.state != from {
				t.Errorf("%s -> %s refused, yet the state is now %s", from, to, m.state)
			}
		}
	}
}

func TestStateString(t *testing.T) {
	want := []string{"UNINITIALIZED", "INITIALIZING", "READY", "IN_TRANSACTION", "COMMITTING_TRANSACTION",
		"ABORTING_TRANSACTION", "ABORTABLE_ERROR", "FATAL_ERROR"}
	for i, s := range allStates {
		if s.String() != want[i] {
			t.Errorf("State(%d).String() = %q, want %q", i, s.String(), want[i])
		}
	}
	if got := State(42).String(); got != "State(42)" {
		t.Errorf("State(42).String() = %q", got)
	}
}

// TestFailLocked: an abortable error moves a transaction to AbortableError, a fatal one to
// FatalError from any state, and FatalError is final.
func TestFailLocked(t *testing.T) {
	cause := errors.New("cause")
	for _, from := range allStates {
		for _, kind := range []Kind{Abortable, Fatal} {
			m := &Manager{state: from}
			m.failLocked(kind, cause)
			want := from
			switch {
			case from == FatalError:
			case kind == Fatal:
				want = FatalError
			case validTransition(from, AbortableError):
				want = AbortableError
			}
			if m.state != want {
				t.Errorf("%s + %s error: state %s, want %s", from, kindName(kind), m.state, want)
			}
		}
	}
	m := &Manager{state: FatalError, lastErr: cause}
	m.failLocked(Abortable, errors.New("later"))
	if err := m.errLocked(); !errors.Is(err, cause) {
		t.Errorf("a later error replaced the fatal cause: %v", err)
	}
}

// TestOpFailedAlwaysReports: a coordinator request that fails with an abortable or fatal
// code must report it, whatever the state. While aborting, the state machine keeps
// ABORTING_TRANSACTION (Java skips that transition), so the error must come back from
// the call itself: Java fails the abort's pending result with it.
func TestOpFailedAlwaysReports(t *testing.T) {
	for _, from := range []State{Initializing, InTransaction, Committing, Aborting} {
		for _, code := range []int16{codeInvalidProducerIDMapping, codeTransactionAbortable, codeProducerFenced, codeTransactionalIDAuth} {
			t.Run(fmt.Sprintf("%s/%d", from, code), func(t *testing.T) {
				m := &Manager{state: from}
				err := m.opFailed("EndTxn", &CodeError{Op: "EndTxn", Code: code})
				var se *StateError
				if !errors.As(err, &se) || se.Kind != coordinatorErrorKind(code) {
					t.Fatalf("opFailed in %s with code %d returned %v; want a StateError of kind %s", from, code, err, kindName(coordinatorErrorKind(code)))
				}
				var ce *CodeError
				if !errors.As(err, &ce) || ce.Code != code {
					t.Errorf("opFailed's error %v does not hold the CodeError %d", err, code)
				}
			})
		}
	}
}

// TestProduceErrorNeedsNewEpoch: with transactions v1 the epoch only changes by
// re-initialising, so after any produce failure that dooms a transaction the abort must
// obtain a new epoch (KIP-360; Java sets epochBumpRequired for every abortable error when
// the coordinator can bump, maybeTransitionToErrorState), or the next transaction reuses
// an epoch whose sequences or mapping are in doubt.
func TestProduceErrorNeedsNewEpoch(t *testing.T) {
	for _, code := range []int16{codeOutOfOrderSequence, codeUnknownProducerID, codeInvalidProducerEpoch,
		codeInvalidProducerIDMapping, codeTransactionAbortable, 0} {
		m := New(Config{TransactionalID: "x"})
		m.state = InTransaction
		kind := m.OnProduceError(code, errors.New("produce failed"))
		if kind != Abortable {
			t.Errorf("code %d: kind %s, want abortable", code, kindName(kind))
		}
		if !m.bumpNeeded {
			t.Errorf("code %d: the abort will not take a new epoch", code)
		}
		m.Close()
	}
}

func kindName(k Kind) string {
	switch k {
	case Retriable:
		return "retriable"
	case Abortable:
		return "abortable"
	case Fatal:
		return "fatal"
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// TestCallsPerState: the public operations in each state, without a network: empty
// transactions commit and abort locally (no partition, no offsets: no EndTxn).
func TestCallsPerState(t *testing.T) {
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	m := New(Config{TransactionalID: "x"})
	defer m.Close()

	wrong := func(what string, err error) {
		t.Helper()
		var se *StateError
		if !errors.As(err, &se) || se.Kind != Retriable || !errors.Is(err, ErrWrongState) {
			t.Errorf("%s in %s: %v; want ErrWrongState", what, m.State(), err)
		}
	}
	wrong("Begin", m.Begin())
	wrong("CheckSend", m.CheckSend())
	wrong("Commit", m.Commit(ctx, ok))
	wrong("Abort", m.Abort(ctx, func() {}, ok))

	m.mu.Lock()
	m.state, m.pid, m.epoch, m.have = Ready, 7, 3, true
	m.mu.Unlock()
	wrong("CheckSend", m.CheckSend())
	wrong("Commit", m.Commit(ctx, ok))
	if err := m.Begin(); err != nil {
		t.Fatalf("Begin in READY: %v", err)
	}
	wrong("Begin", m.Begin())
	if err := m.CheckSend(); err != nil {
		t.Errorf("CheckSend in IN_TRANSACTION: %v", err)
	}
	if err := m.Commit(ctx, ok); err != nil || m.State() != Ready {
		t.Fatalf("Commit of an empty transaction: %v, state %s; want READY", err, m.State())
	}
	if err := m.Begin(); err != nil {
		t.Fatal(err)
	}
	failed := false
	if err := m.Abort(ctx, func() { failed = true }, ok); err != nil || m.State() != Ready || !failed {
		t.Fatalf("Abort of an empty transaction: %v, state %s, queued records failed: %v", err, m.State(), failed)
	}

	// A commit whose flush ends with ctx stays COMMITTING: Commit again resumes it.
	if err := m.Begin(); err != nil {
		t.Fatal(err)
	}
	stuck := func(context.Context) error { return context.DeadlineExceeded }
	if err := m.Commit(ctx, stuck); !errors.Is(err, context.DeadlineExceeded) || m.State() != Committing {
		t.Fatalf("Commit with its flush timing out: %v, state %s; want the ctx error in COMMITTING", err, m.State())
	}
	wrong("Begin during a commit", m.Begin())
	if err := m.Commit(ctx, ok); err != nil || m.State() != Ready {
		t.Fatalf("Commit again: %v, state %s", err, m.State())
	}
	// A commit that has not sent its EndTxn may be aborted instead (a deliberate
	// difference from Java); once EndTxn(commit) was sent, Abort is refused (KAFKA-17754).
	if err := m.Begin(); err != nil {
		t.Fatal(err)
	}
	if err := m.Commit(ctx, stuck); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Commit with its flush timing out: %v", err)
	}
	if err := m.Abort(ctx, func() {}, ok); err != nil || m.State() != Ready {
		t.Fatalf("Abort of a commit that sent no EndTxn: %v, state %s; want READY", err, m.State())
	}
	wrong("Commit after the abort", m.Commit(ctx, ok))
	if err := m.Begin(); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	m.state, m.commitSent = Committing, true // as after an EndTxn(commit) whose answer was lost
	m.mu.Unlock()
	wrong("Abort once EndTxn(commit) was sent", m.Abort(ctx, func() {}, ok))
	if m.State() != Committing {
		t.Fatalf("the refused Abort left state %s", m.State())
	}
	m.mu.Lock()
	m.state, m.commitSent = Ready, false
	m.mu.Unlock()

	// A failed record makes the transaction abortable: Commit reports it, Abort recovers.
	if err := m.Begin(); err != nil {
		t.Fatal(err)
	}
	m.OnProduceError(codeTransactionAbortable, errors.New("record failed"))
	var se *StateError
	if err := m.CheckSend(); !errors.As(err, &se) || se.Kind != Abortable {
		t.Errorf("CheckSend after an abortable error: %v", err)
	}
	if err := m.Commit(ctx, ok); !errors.As(err, &se) || se.Kind != Abortable {
		t.Errorf("Commit after an abortable error: %v", err)
	}
	if err, wait := m.SendBlock("t", 0); !errors.As(err, &se) || se.Kind != Abortable || wait {
		t.Errorf("SendBlock after an abortable error: %v, %v; want the error, no wait", err, wait)
	}

	// Fatal: every call reports it.
	m.OnProduceError(codeProducerFenced, errors.New("fenced"))
	for name, err := range map[string]error{"Begin": m.Begin(), "CheckSend": m.CheckSend(), "Commit": m.Commit(ctx, ok),
		"Abort": m.Abort(ctx, func() {}, ok), "Init": m.Init(ctx)} {
		if !errors.As(err, &se) || se.Kind != Fatal {
			t.Errorf("%s after a fatal error: %v; want a Fatal StateError", name, err)
		}
	}
}
