package kprod

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/internal/txn"
	"github.com/kprod-io/kprod/serde"
)

// exportedSentinels lists the exported Err* variables of the package's sources.
func exportedSentinels(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") && n.IsExported() {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	slices.Sort(names)
	return names
}

// TestErrorClassification: IsRetriable and MaybeWritten answer for every exported
// sentinel, bare and wrapped as the producer returns them, as Java's exception
// hierarchy does (RetriableException: TimeoutException and its BufferExhaustedException;
// not retriable: RecordTooLargeException, InvalidTopicException, ProducerFencedException,
// TransactionAbortedException, IllegalStateException, IllegalArgumentException,
// NullPointerException, ConfigException). A new sentinel without a row fails the test.
func TestErrorClassification(t *testing.T) {
	sentinels := []struct {
		name               string
		err                error
		retriable, written bool
	}{
		{"ErrClosed", ErrClosed, false, false},
		{"ErrRecordTooLarge", ErrRecordTooLarge, false, false},
		// The next producer on spool.dir delivers a spooled record: resending it
		// would write it twice.
		{"ErrSpooled", ErrSpooled, false, false},
		{"ErrSpoolLocked", ErrSpoolLocked, false, false},
		{"ErrBufferExhausted", ErrBufferExhausted, true, false},
		{"ErrMetadataTimeout", ErrMetadataTimeout, true, false},
		{"ErrInvalidTopic", ErrInvalidTopic, false, false},
		{"ErrInvalidPartition", ErrInvalidPartition, false, false},
		{"ErrNilRecord", ErrNilRecord, false, false},
		{"ErrNilContext", ErrNilContext, false, false},
		{"ErrDeliveryTimeout", ErrDeliveryTimeout, true, true},
		{"ErrInvalidConfig", ErrInvalidConfig, false, false},
		{"ErrNotTransactional", ErrNotTransactional, false, false},
		{"ErrInvalidTxnState", ErrInvalidTxnState, false, false},
		{"ErrProducerFenced", ErrProducerFenced, false, true},
		{"ErrTransactionAborted", ErrTransactionAborted, false, true},
		{"ErrTransactionTimeout", ErrTransactionTimeout, true, true},
		// Java's AuthenticationException is not retriable; Send's is a refusal (never
		// written), elsewhere nothing proves a record absent.
		{"ErrAuthentication", ErrAuthentication, false, true},
		// Java's AuthorizationException subclasses are not retriable; a request refused
		// for authorization wrote nothing.
		{"ErrTopicAuthorization", ErrTopicAuthorization, false, false},
		{"ErrGroupAuthorization", ErrGroupAuthorization, false, false},
		{"ErrClusterAuthorization", ErrClusterAuthorization, false, false},
		{"ErrTransactionalIDAuthorization", ErrTransactionalIDAuthorization, false, false},
	}
	var covered []string
	for _, s := range sentinels {
		covered = append(covered, s.name)
		// Bare, wrapped as a message, and refused by Send: the answer must not change
		// (a refusal is never written).
		for form, err := range map[string]error{
			"bare":    s.err,
			"wrapped": fmt.Errorf("kprod: context: %w", s.err),
			"refused": refused(s.err),
		} {
			if got := IsRetriable(err); got != s.retriable {
				t.Errorf("IsRetriable(%s %s) = %v, want %v", form, s.name, got, s.retriable)
			}
			wantWritten := s.written && form != "refused"
			if got := MaybeWritten(err); got != wantWritten {
				t.Errorf("MaybeWritten(%s %s) = %v, want %v", form, s.name, got, wantWritten)
			}
		}
	}
	slices.Sort(covered)
	if all := exportedSentinels(t); !slices.Equal(all, covered) {
		t.Errorf("exported sentinels %v; the table covers %v", all, covered)
	}

	// Transaction calls whose outcome the error alone does not decide.
	for _, tc := range []struct {
		name               string
		err                error
		retriable, written bool
	}{
		// Close interrupted the commit after its EndTxn was sent: the coordinator may
		// have committed, although the error wraps ErrClosed (not written by itself).
		{"commit closed after EndTxn", &txn.OutcomeUnknownError{Err: fmt.Errorf("%w during CommitTransaction", ErrClosed)}, false, true},
		{"commit timed out after EndTxn", &txn.OutcomeUnknownError{Err: fmt.Errorf("%w: max.block.ms", ErrTransactionTimeout)}, true, true},
		{"commit closed before EndTxn", fmt.Errorf("%w during CommitTransaction", ErrClosed), false, false},
		// txnError maps what is inside and keeps the outcome unknown.
		{"commit failed fatally after EndTxn", txnError(&txn.OutcomeUnknownError{Err: &txn.StateError{Kind: txn.Fatal,
			Err: fmt.Errorf("%w: EndTxn", ErrClosed)}}), false, true},
	} {
		if got := IsRetriable(tc.err); got != tc.retriable {
			t.Errorf("IsRetriable(%s: %v) = %v, want %v", tc.name, tc.err, got, tc.retriable)
		}
		if got := MaybeWritten(tc.err); got != tc.written {
			t.Errorf("MaybeWritten(%s: %v) = %v, want %v", tc.name, tc.err, got, tc.written)
		}
		if !errors.Is(tc.err, ErrClosed) && !errors.Is(tc.err, ErrTransactionTimeout) {
			t.Errorf("%s: %v lost its cause", tc.name, tc.err)
		}
	}

	retriableKafka := kafkaError(19, "") // NOT_ENOUGH_REPLICAS, a RetriableException
	for _, tc := range []struct {
		name      string
		err       error
		retriable bool
	}{
		{"nil", nil, false},
		{"NOT_LEADER_OR_FOLLOWER", kafkaError(6, ""), true},
		{"UNKNOWN_TOPIC_OR_PARTITION", kafkaError(3, ""), true},
		{"CORRUPT_MESSAGE", kafkaError(2, ""), true},
		{"NOT_ENOUGH_REPLICAS", retriableKafka, true},
		{"CONCURRENT_TRANSACTIONS", kafkaError(51, ""), true},
		{"REQUEST_TIMED_OUT", kafkaError(7, ""), true},
		{"MESSAGE_TOO_LARGE", kafkaError(10, ""), false},
		{"TOPIC_AUTHORIZATION_FAILED", kafkaError(29, ""), false},
		{"INVALID_PRODUCER_EPOCH", kafkaError(47, ""), false},
		{"PRODUCER_FENCED", kafkaError(90, ""), false},
		{"TRANSACTION_ABORTABLE", kafkaError(120, ""), false},
		{"delivery of a retriable broker error", &DeliveryError{Topic: "t", Err: retriableKafka, MaybeWritten: true}, true},
		{"delivery timeout", &DeliveryError{Topic: "t", Err: ErrDeliveryTimeout, MaybeWritten: true}, true},
		{"delivery failed by Close", &DeliveryError{Topic: "t", Err: ErrClosed}, false},
		// A transaction doomed by a retriable error must be aborted, not resent.
		{"abortable wrapping a retriable broker error", &AbortableError{Err: retriableKafka}, false},
		{"fatal wrapping a retriable broker error", &FatalError{Err: retriableKafka}, false},
		{"fenced", fmt.Errorf("%w: %w", ErrProducerFenced, kafkaError(90, "")), false},
		{"invalid state", fmt.Errorf("%w: %v", ErrInvalidTxnState, "commit without begin"), false},
		{"config error", errors.Join(&ConfigError{Property: "acks", Value: "2"}), false},
		{"serialization", &serde.SerializationError{Side: serde.SideKey, Topic: "t", Err: errors.New("x")}, false},
		{"partitioner out of range", fmt.Errorf("%w: partitioner X returned partition 9", ErrInvalidPartition), false},
		{"nil ctx", nilContext("Send"), false},
		{"ctx deadline", context.DeadlineExceeded, true},
		{"lost connection", errors.New("kprod: connection reset"), true},
	} {
		if got := IsRetriable(tc.err); got != tc.retriable {
			t.Errorf("IsRetriable(%s: %v) = %v, want %v", tc.name, tc.err, got, tc.retriable)
		}
	}
}

// TestDeniedNames: Denied names the permission of each authorization code as ACLs are
// written, with the resource when known, and only for those codes; the error text
// carries it; errors.Is finds each sentinel through the wrappers the producer uses.
func TestDeniedNames(t *testing.T) {
	named := func(code int16, res string) *KafkaError {
		ke := kafkaError(code, "").(*KafkaError)
		withResource(ke, res)
		return ke
	}
	meta := named(29, "orders")
	meta.metadata = true
	for _, tc := range []struct {
		err      *KafkaError
		want     string
		sentinel error
	}{
		{named(29, "orders"), "WRITE on TOPIC orders", ErrTopicAuthorization},
		{meta, "DESCRIBE (or WRITE, which implies it) on TOPIC orders", ErrTopicAuthorization},
		{named(29, ""), "WRITE on TOPIC", ErrTopicAuthorization},
		{named(30, "billing"), "READ on GROUP billing", ErrGroupAuthorization},
		{named(31, "ignored"), "IDEMPOTENT_WRITE on CLUSTER", ErrClusterAuthorization},
		{named(53, "payments"), "WRITE on TRANSACTIONAL_ID payments", ErrTransactionalIDAuthorization},
		{named(10, "orders"), "", nil},
	} {
		if got := tc.err.Denied(); got != tc.want {
			t.Errorf("%s: Denied() = %q, want %q", tc.err.Name, got, tc.want)
		}
		if tc.want != "" && !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %q does not name %q", tc.err.Name, tc.err, tc.want)
		}
		if tc.sentinel == nil {
			continue
		}
		for _, wrapped := range []error{tc.err, &DeliveryError{Topic: "orders", Err: tc.err}, &FatalError{Err: tc.err},
			&AbortableError{Err: tc.err}, refused(fmt.Errorf("kprod: metadata of topic orders: %w", tc.err))} {
			if !errors.Is(wrapped, tc.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", wrapped, tc.sentinel)
			}
		}
	}
	if errors.Is(named(29, "x"), ErrGroupAuthorization) {
		t.Error("TOPIC_AUTHORIZATION_FAILED matched ErrGroupAuthorization")
	}
}
