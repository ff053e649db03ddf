// Package txn holds the producer's identity (producer id and epoch, KIP-98) and the
// transaction state machine with its coordinator requests (KIP-98, KIP-360, KIP-447,
// KIP-890), the part Java keeps in TransactionManager.
package txn

import "fmt"

// State is a transactional producer's state (Java's TransactionManager.State).
type State int8

// The states.
const (
	Uninitialized State = iota
	Initializing
	Ready
	InTransaction
	Committing
	Aborting
	AbortableError
	FatalError
)

var stateNames = [...]string{"UNINITIALIZED", "INITIALIZING", "READY", "IN_TRANSACTION",
	"COMMITTING_TRANSACTION", "ABORTING_TRANSACTION", "ABORTABLE_ERROR", "FATAL_ERROR"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", s)
}

// transitions is the table of valid transitions: transitions[to] lists the states it
// may be entered from (Java's isTransitionValid). FatalError is reachable from anywhere.
var transitions = map[State][]State{
	// An InitProducerId refused for authorization (KAFKA-13668): Java passes through
	// ABORTABLE_ERROR to UNINITIALIZED; here the step is direct.
	Uninitialized: {Initializing},
	Initializing:  {Uninitialized, Aborting}, // first init; new epoch after a failed transaction's abort
	Ready:         {Initializing, Committing, Aborting},
	InTransaction: {Ready},
	Committing:    {InTransaction},
	// From Committing only while the commit has not sent its EndTxn (Manager.Abort): a
	// deliberate difference from Java, which never allows it.
	Aborting:       {InTransaction, AbortableError, Committing},
	AbortableError: {InTransaction, Committing, AbortableError, Initializing},
}

// validTransition reports whether from -> to is allowed.
func validTransition(from, to State) bool {
	if to == FatalError {
		return true
	}
	for _, s := range transitions[to] {
		if s == from {
			return true
		}
	}
	return false
}
