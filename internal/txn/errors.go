package txn

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka error codes the transaction logic acts on.
const (
	codeRequestTimedOut           int16 = 7
	codeCoordinatorLoadInProgress int16 = 14
	codeCoordinatorNotAvailable   int16 = 15
	codeNotCoordinator            int16 = 16
	codeTopicAuthorization        int16 = 29
	codeGroupAuthorization        int16 = 30
	codeClusterAuthorization      int16 = 31
	codeUnsupportedVersion        int16 = 35
	codeUnsupportedForMsgFormat   int16 = 43
	codeOutOfOrderSequence        int16 = 45
	codeInvalidProducerEpoch      int16 = 47
	codeInvalidTxnState           int16 = 48
	codeInvalidProducerIDMapping  int16 = 49
	codeConcurrentTransactions    int16 = 51
	codeTransactionalIDAuth       int16 = 53
	codeOperationNotAttempted     int16 = 55
	codeUnknownProducerID         int16 = 59
	codeUnknownMemberID           int16 = 25
	codeIllegalGeneration         int16 = 22
	codeRebalanceInProgress       int16 = 27
	codeFencedInstanceID          int16 = 82
	codeProducerFenced            int16 = 90
	codeTransactionAbortable      int16 = 120
)

// Kind is what a transactional error means for the producer.
type Kind int8

// The kinds.
const (
	Retriable Kind = iota // the same request may succeed: retry it
	Abortable             // the transaction is doomed: abort, then begin anew
	Fatal                 // the producer is unusable: close it
)

// ProduceErrorKind classifies a Produce error code inside a transaction (rule 7 of the
// reference: fencing and authorization are fatal; sequence and epoch trouble abortable).
func ProduceErrorKind(code int16) Kind {
	switch code {
	case codeProducerFenced, codeTransactionalIDAuth, codeClusterAuthorization, codeUnsupportedVersion:
		return Fatal
	}
	if isRetriable(code) {
		return Retriable
	}
	return Abortable
}

// txnOffsetCommitKind classifies a partition's error code in a TxnOffsetCommit answer as
// Java 4.x's TxnOffsetCommitHandler does: every retriable code is retried (after looking
// the coordinator up again for NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE and
// REQUEST_TIMED_OUT); group authorization, a fenced or outdated member and
// TRANSACTION_ABORTABLE doom the transaction; fencing (PRODUCER_FENCED,
// INVALID_PRODUCER_EPOCH), the transactional id's authorization,
// UNSUPPORTED_FOR_MESSAGE_FORMAT and any other code are fatal ("Unexpected error in
// TxnOffsetCommitResponse").
func txnOffsetCommitKind(code int16) Kind {
	if isRetriable(code) {
		return Retriable
	}
	switch code {
	case codeGroupAuthorization, codeFencedInstanceID, codeTransactionAbortable, codeUnknownMemberID, codeIllegalGeneration:
		return Abortable
	}
	return Fatal
}

// opTxnOffsetCommit is the Op of a TxnOffsetCommit's *CodeError, classified by
// txnOffsetCommitKind rather than coordinatorErrorKind.
const opTxnOffsetCommit = "TxnOffsetCommit"

// coordinatorErrorKind classifies an error code from the transaction coordinator.
func coordinatorErrorKind(code int16) Kind {
	switch code {
	case codeNotCoordinator, codeCoordinatorNotAvailable, codeCoordinatorLoadInProgress,
		codeConcurrentTransactions, codeOperationNotAttempted:
		return Retriable
	case codeProducerFenced, codeInvalidProducerEpoch, codeTransactionalIDAuth, codeClusterAuthorization,
		codeUnsupportedVersion, codeInvalidTxnState,
		codeUnsupportedForMsgFormat: // TxnOffsetCommit, Java's TxnOffsetCommitHandler
		return Fatal
	case codeTopicAuthorization, codeGroupAuthorization, codeInvalidProducerIDMapping, codeTransactionAbortable,
		codeUnknownMemberID, codeIllegalGeneration, codeFencedInstanceID, codeRebalanceInProgress:
		return Abortable
	}
	if isRetriable(code) {
		return Retriable
	}
	return Abortable
}

func isRetriable(code int16) bool {
	if code == codeConcurrentTransactions { // a RetriableException in Java; not in kerr's table
		return true
	}
	var ke *kerr.Error
	return errors.As(kerr.ErrorForCode(code), &ke) && ke.Retriable
}

// CodeError is an error code a transaction request got back.
type CodeError struct {
	Op   string
	Code int16
	// TransactionalID and Group name the request's transactional id and consumer group
	// (if any), so an authorization error can say what was denied.
	TransactionalID string
	Group           string
}

func (e *CodeError) Error() string {
	return fmt.Sprintf("kprod: %s: %v", e.Op, kerr.ErrorForCode(e.Code))
}

// kind classifies the code as Java's handler of the request does.
func (e *CodeError) kind() Kind {
	if e.Op == opTxnOffsetCommit {
		return txnOffsetCommitKind(e.Code)
	}
	return coordinatorErrorKind(e.Code)
}

// KafkaCode returns the Kafka error code.
func (e *CodeError) KafkaCode() int16 { return e.Code }

// Fenced reports whether the code says another producer took over the transactional.id.
func (e *CodeError) Fenced() bool {
	return e.Code == codeProducerFenced || e.Code == codeInvalidProducerEpoch
}

// StateError is an error of the transaction state machine: the producer is in an
// abortable or fatal state, or a call does not fit the state.
type StateError struct {
	// Kind is Abortable or Fatal for errors that put the producer in those states, and
	// Retriable for a call made in the wrong state (nothing changed).
	Kind Kind
	// Err is the cause.
	Err error
}

func (e *StateError) Error() string { return e.Err.Error() }
func (e *StateError) Unwrap() error { return e.Err }

// ErrWrongState is wrapped by calls made in a state that does not allow them.
var ErrWrongState = errors.New("kprod: invalid transaction state")

// OutcomeUnknownError wraps the error of a CommitTransaction that ended (Close, ctx,
// max.block.ms) after its EndTxn(commit) was sent and before the answer arrived: the
// coordinator may have committed the transaction, whatever Err says.
type OutcomeUnknownError struct{ Err error }

func (e *OutcomeUnknownError) Error() string {
	return e.Err.Error() + " (EndTxn(commit) was sent: the transaction may have committed)"
}
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }
