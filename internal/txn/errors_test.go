package txn

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TestProduceErrorKind: how a Produce error code inside a transaction is classified
// (rule 7 of the idempotence reference; Java's TransactionManager.maybeTransitionToErrorState
// and Sender.canRetry): fencing, authorization of the transactional id or cluster, and
// unsupported versions are fatal; retriable codes are retried; the rest doom the
// transaction.
func TestProduceErrorKind(t *testing.T) {
	for _, tc := range []struct {
		err  *kerr.Error
		want Kind
	}{
		{kerr.ProducerFenced, Fatal},
		{kerr.TransactionalIDAuthorizationFailed, Fatal},
		{kerr.ClusterAuthorizationFailed, Fatal},
		{kerr.UnsupportedVersion, Fatal},
		{kerr.NotLeaderForPartition, Retriable},
		{kerr.NotEnoughReplicas, Retriable},
		{kerr.NotEnoughReplicasAfterAppend, Retriable},
		{kerr.RequestTimedOut, Retriable},
		{kerr.UnknownTopicOrPartition, Retriable},
		{kerr.CorruptMessage, Retriable},
		{kerr.OutOfOrderSequenceNumber, Abortable},
		{kerr.UnknownProducerID, Abortable},
		{kerr.InvalidProducerEpoch, Abortable}, // KIP-588: abortable on Produce
		{kerr.InvalidProducerIDMapping, Abortable},
		{kerr.TransactionAbortable, Abortable},
		{kerr.InvalidTxnState, Abortable},
		{kerr.TopicAuthorizationFailed, Abortable},
		{kerr.MessageTooLarge, Abortable},
		{kerr.InvalidRecord, Abortable},
	} {
		if got := ProduceErrorKind(tc.err.Code); got != tc.want {
			t.Errorf("ProduceErrorKind(%s) = %s, want %s", tc.err.Message, kindName(got), kindName(tc.want))
		}
	}
}

// TestCoordinatorErrorKind: how a transaction coordinator's error code is classified
// (Java's InitProducerIdHandler, AddPartitionsToTxnHandler, AddOffsetsToTxnHandler,
// EndTxnHandler): coordinator moves and loads and concurrent transactions are retried;
// fencing, authorization of the transactional id or cluster, unsupported versions and an
// invalid transaction state are fatal; the rest are abortable.
func TestCoordinatorErrorKind(t *testing.T) {
	for _, tc := range []struct {
		err  *kerr.Error
		want Kind
	}{
		{kerr.NotCoordinator, Retriable},
		{kerr.CoordinatorNotAvailable, Retriable},
		{kerr.CoordinatorLoadInProgress, Retriable},
		{kerr.ConcurrentTransactions, Retriable},
		{kerr.OperationNotAttempted, Retriable},
		{kerr.UnknownTopicOrPartition, Retriable},
		{kerr.RequestTimedOut, Retriable},
		{kerr.ProducerFenced, Fatal},
		{kerr.InvalidProducerEpoch, Fatal}, // from the coordinator it means fenced
		{kerr.TransactionalIDAuthorizationFailed, Fatal},
		{kerr.ClusterAuthorizationFailed, Fatal},
		{kerr.UnsupportedVersion, Fatal},
		{kerr.InvalidTxnState, Fatal},
		{kerr.TopicAuthorizationFailed, Abortable},
		{kerr.GroupAuthorizationFailed, Abortable},
		{kerr.InvalidProducerIDMapping, Abortable},
		{kerr.UnknownProducerID, Abortable},
		{kerr.TransactionAbortable, Abortable},
		{kerr.UnknownMemberID, Abortable},
		{kerr.IllegalGeneration, Abortable},
		{kerr.FencedInstanceID, Abortable},
		{kerr.RebalanceInProgress, Abortable},
	} {
		if got := coordinatorErrorKind(tc.err.Code); got != tc.want {
			t.Errorf("coordinatorErrorKind(%s) = %s, want %s", tc.err.Message, kindName(got), kindName(tc.want))
		}
	}
}

// TestTxnOffsetCommitKind: how a TxnOffsetCommit partition error from the group
// coordinator is classified, as Java 4.x's TxnOffsetCommitHandler.handleResponse: every
// retriable code is retried; GROUP_AUTHORIZATION_FAILED, FENCED_INSTANCE_ID,
// TRANSACTION_ABORTABLE, UNKNOWN_MEMBER_ID and ILLEGAL_GENERATION are abortable;
// fencing, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, UNSUPPORTED_FOR_MESSAGE_FORMAT and
// every code the handler does not expect are fatal. The CodeError of a TxnOffsetCommit
// answer is classified the same way.
func TestTxnOffsetCommitKind(t *testing.T) {
	for _, tc := range []struct {
		err  *kerr.Error
		want Kind
	}{
		{kerr.NotCoordinator, Retriable},
		{kerr.CoordinatorNotAvailable, Retriable},
		{kerr.RequestTimedOut, Retriable},
		{kerr.UnknownTopicOrPartition, Retriable},
		{kerr.CoordinatorLoadInProgress, Retriable},
		{kerr.ConcurrentTransactions, Retriable},
		{kerr.NotEnoughReplicas, Retriable},
		{kerr.UnstableOffsetCommit, Retriable},
		{kerr.GroupAuthorizationFailed, Abortable},
		{kerr.FencedInstanceID, Abortable},
		{kerr.TransactionAbortable, Abortable},
		{kerr.UnknownMemberID, Abortable},
		{kerr.IllegalGeneration, Abortable},
		{kerr.ProducerFenced, Fatal},
		{kerr.InvalidProducerEpoch, Fatal},
		{kerr.TransactionalIDAuthorizationFailed, Fatal},
		{kerr.UnsupportedForMessageFormat, Fatal},
		// Unexpected in a TxnOffsetCommit answer: Java fails the producer.
		{kerr.RebalanceInProgress, Fatal},
		{kerr.TopicAuthorizationFailed, Fatal},
		{kerr.InvalidProducerIDMapping, Fatal},
		{kerr.InvalidTxnState, Fatal},
		{kerr.UnknownServerError, Fatal},
	} {
		if got := txnOffsetCommitKind(tc.err.Code); got != tc.want {
			t.Errorf("txnOffsetCommitKind(%s) = %s, want %s", tc.err.Message, kindName(got), kindName(tc.want))
		}
		if got := (&CodeError{Op: opTxnOffsetCommit, Code: tc.err.Code}).kind(); got != tc.want {
			t.Errorf("a TxnOffsetCommit CodeError %s is %s, want %s", tc.err.Message, kindName(got), kindName(tc.want))
		}
	}
}

// TestCodeConstants: the named codes match Kafka's.
func TestCodeConstants(t *testing.T) {
	for code, want := range map[int16]*kerr.Error{
		codeCoordinatorLoadInProgress: kerr.CoordinatorLoadInProgress, codeCoordinatorNotAvailable: kerr.CoordinatorNotAvailable,
		codeNotCoordinator: kerr.NotCoordinator, codeTopicAuthorization: kerr.TopicAuthorizationFailed,
		codeGroupAuthorization: kerr.GroupAuthorizationFailed, codeClusterAuthorization: kerr.ClusterAuthorizationFailed,
		codeUnsupportedVersion: kerr.UnsupportedVersion, codeOutOfOrderSequence: kerr.OutOfOrderSequenceNumber,
		codeInvalidProducerEpoch: kerr.InvalidProducerEpoch, codeInvalidTxnState: kerr.InvalidTxnState,
		codeInvalidProducerIDMapping: kerr.InvalidProducerIDMapping, codeConcurrentTransactions: kerr.ConcurrentTransactions,
		codeTransactionalIDAuth: kerr.TransactionalIDAuthorizationFailed, codeOperationNotAttempted: kerr.OperationNotAttempted,
		codeUnknownProducerID: kerr.UnknownProducerID, codeUnknownMemberID: kerr.UnknownMemberID,
		codeIllegalGeneration: kerr.IllegalGeneration, codeRebalanceInProgress: kerr.RebalanceInProgress,
		codeFencedInstanceID: kerr.FencedInstanceID, codeProducerFenced: kerr.ProducerFenced,
		codeTransactionAbortable: kerr.TransactionAbortable,
	} {
		if code != want.Code {
			t.Errorf("constant for %s is %d, Kafka's code is %d", want.Message, code, want.Code)
		}
	}
}

func TestCodeError(t *testing.T) {
	for _, tc := range []struct {
		code   int16
		fenced bool
	}{{codeProducerFenced, true}, {codeInvalidProducerEpoch, true}, {codeInvalidProducerIDMapping, false}, {codeNotCoordinator, false}} {
		e := &CodeError{Op: "EndTxn", Code: tc.code}
		if e.Fenced() != tc.fenced {
			t.Errorf("CodeError{%d}.Fenced() = %v, want %v", tc.code, e.Fenced(), tc.fenced)
		}
		if e.KafkaCode() != tc.code {
			t.Errorf("KafkaCode() = %d, want %d", e.KafkaCode(), tc.code)
		}
		msg := e.Error()
		name := kerr.ErrorForCode(tc.code).(*kerr.Error).Message
		if !strings.HasPrefix(msg, "kprod: EndTxn: ") || !strings.Contains(msg, name) {
			t.Errorf("CodeError.Error() = %q; want the kprod: prefix, the operation and %s", msg, name)
		}
	}
}

func TestStateError(t *testing.T) {
	cause := &CodeError{Op: "AddPartitionsToTxn", Code: codeTransactionAbortable}
	se := &StateError{Kind: Abortable, Err: cause}
	var ce *CodeError
	if !errors.As(se, &ce) || ce != cause {
		t.Error("StateError does not unwrap to its cause")
	}
	if se.Error() != cause.Error() {
		t.Errorf("StateError.Error() = %q, want its cause's %q", se.Error(), cause.Error())
	}
	wrong := &StateError{Kind: Retriable, Err: ErrWrongState}
	if !errors.Is(wrong, ErrWrongState) {
		t.Error("errors.Is(StateError{ErrWrongState}, ErrWrongState) = false")
	}
	if !strings.HasPrefix(ErrWrongState.Error(), "kprod: ") {
		t.Errorf("ErrWrongState = %q lacks the kprod: prefix", ErrWrongState)
	}
}
