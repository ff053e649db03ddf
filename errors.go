package kprod

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/sender"
	"github.com/kprod-io/kprod/internal/txn"
	"github.com/kprod-io/kprod/serde"
)

// Errors Send returns before accepting a record. A record refused this way was not
// written: MaybeWritten reports false for all of them.
var (
	// ErrClosed is returned by every call after Close, and fails records that Close
	// could not deliver within its deadline.
	ErrClosed = errors.New("kprod: producer is closed")
	// ErrRecordTooLarge: the record is larger than a limit and could never be written.
	// Send returns it for a record over the producer's max.request.size or buffer.memory,
	// or over the topic's max.message.bytes (when known and compression.type is none; see
	// sizelimit.go); the message names the limit, its value and the record's size. A
	// broker's MESSAGE_TOO_LARGE (a *KafkaError with Code 10, in a *DeliveryError, the
	// batch's size in its message) matches it too. Never retriable, never written.
	ErrRecordTooLarge = errors.New("kprod: record too large")
	// ErrBufferExhausted: buffer.memory stayed full for max.block.ms (Java's
	// BufferExhaustedException).
	ErrBufferExhausted = errors.New("kprod: buffer.memory exhausted")
	// ErrMetadataTimeout: the topic or partition was not in the cluster's metadata
	// within max.block.ms (an unknown topic with auto-creation off, or a partition
	// number beyond the topic's partition count).
	ErrMetadataTimeout = errors.New("kprod: not present in metadata")
	// ErrInvalidTopic: the topic name is not a legal Kafka topic name.
	ErrInvalidTopic = errors.New("kprod: invalid topic")
	// ErrInvalidPartition: an explicit partition number is negative, or a custom
	// Partitioner returned a number outside [0, partition count) other than -1.
	ErrInvalidPartition = errors.New("kprod: invalid partition")
	// ErrNilRecord: Send or SendSync was given a nil record (Java's send(null)
	// throws NullPointerException).
	ErrNilRecord = errors.New("kprod: nil record")
	// ErrNilContext: a call was given a nil context.Context; the error names the call.
	// Pass context.Background() for no deadline.
	ErrNilContext = errors.New("kprod: nil context.Context")
)

// nilContext is the error of a call given a nil ctx. Go's convention makes that a
// programming error; it is reported, not a panic, and the call does nothing.
func nilContext(call string) error {
	return fmt.Errorf("%w passed to %s; use context.Background() for no deadline", ErrNilContext, call)
}

// ErrAuthentication: a broker could not be authenticated with, or refused this
// producer: an untrusted or wrong-host broker certificate, a missing or refused
// client certificate, the wrong security.protocol for the listener, refused SASL
// credentials (a wrong password, an expired or refused token, a mechanism the user or
// broker lacks) or a SASL mechanism that failed. The error names the broker and the
// cause (for SASL the mechanism and the broker's message), never a secret. A Send
// waiting for metadata returns it as soon as a metadata request fails this way, as
// Java's send() throws AuthenticationException; it is not retriable: the same
// settings fail the same way. A failed SASL re-authentication (KIP-368) closes the
// connection: its in-flight records are retried as after any lost connection.
var ErrAuthentication = broker.ErrAuthentication

// Errors a record's delivery can end in, inside a *DeliveryError.
var (
	// ErrDeliveryTimeout: delivery.timeout.ms passed before the record was
	// acknowledged. If it had been sent, it may have been written.
	ErrDeliveryTimeout = sender.ErrDeliveryTimeout
)

// notWritten lists the errors that prove a record was never handed to a broker: the
// refusals of Send, and the transaction calls' misuse errors, which concern no record.
var notWritten = []error{ErrClosed, ErrRecordTooLarge, ErrBufferExhausted, ErrMetadataTimeout,
	ErrInvalidTopic, ErrInvalidPartition, ErrInvalidConfig, ErrNilRecord, ErrNilContext,
	ErrNotTransactional, ErrInvalidTxnState, ErrSpooled, ErrSpoolLocked}

// KafkaError is an error code a broker returned.
type KafkaError struct {
	// Code is Kafka's numeric error code; Name its name, e.g. NOT_LEADER_OR_FOLLOWER.
	Code int16
	Name string
	// Message is the broker's error message, when it sent one.
	Message string
	// Retriable is Kafka's classification: the same request may succeed later.
	Retriable bool
	// Description is Kafka's explanation of the code.
	Description string
	// Resource names what an authorization error concerns, when kprod knows it: the
	// topic, transactional.id or consumer group. Denied reads it.
	Resource string
	// metadata marks a TOPIC_AUTHORIZATION_FAILED from a metadata request, which needs
	// DESCRIBE (WRITE implies it), rather than from a Produce request.
	metadata bool
}

// Error names the code and gives the broker's message, or Kafka's description of the
// code, and the permission refused for an authorization error.
func (e *KafkaError) Error() string {
	text := e.Message
	if text == "" {
		text = e.Description
	}
	if d := e.Denied(); d != "" {
		return fmt.Sprintf("kprod: broker error %s (%d): %s (the principal lacks %s)", e.Name, e.Code, text, d)
	}
	return fmt.Sprintf("kprod: broker error %s (%d): %s", e.Name, e.Code, text)
}

// Is matches another *KafkaError with the same code, so errors.Is(err,
// &KafkaError{Code: 10}) finds a MESSAGE_TOO_LARGE anywhere in a chain, and
// errors.Is(err, ErrTopicAuthorization) any TOPIC_AUTHORIZATION_FAILED; and
// MESSAGE_TOO_LARGE matches ErrRecordTooLarge, as Send's own size refusals do.
func (e *KafkaError) Is(target error) bool {
	if target == ErrRecordTooLarge {
		return e.Code == codeMessageTooLarge
	}
	t, ok := target.(*KafkaError)
	return ok && t.Code == e.Code
}

// Denied names the permission the broker refused, for an authorization error, as ACLs
// are written: "WRITE on TOPIC orders", "WRITE on TRANSACTIONAL_ID tx-1", "READ on GROUP
// g" (TxnOffsetCommit), "IDEMPOTENT_WRITE on CLUSTER" (an idempotent InitProducerId on
// brokers before Kafka 3.0; later ones accept WRITE on any topic instead, KIP-679). The
// name is left out when the broker's answer does not say it. It is "" for other codes.
func (e *KafkaError) Denied() string {
	a, ok := authorizationCodes[e.Code]
	if !ok {
		return ""
	}
	op := a.operation
	if e.metadata {
		op = "DESCRIBE (or WRITE, which implies it)"
	}
	if e.Resource == "" || a.resource == "CLUSTER" {
		return op + " on " + a.resource
	}
	return op + " on " + a.resource + " " + e.Resource
}

// Authorization errors (Java's AuthorizationException subclasses), matched with errors.Is
// on every error that carries their code: a record's *DeliveryError, Send's refusal when
// metadata was denied, and the transaction calls' errors. None is retriable: the same
// request fails until an administrator grants the permission; the *KafkaError's Denied
// names it. A record failed with one was not written.
var (
	// ErrTopicAuthorization: TOPIC_AUTHORIZATION_FAILED. Only that topic's records fail
	// (Send refuses them when metadata was denied; Produce fails their batches); other
	// topics keep flowing, as in Java. In a transaction the transaction is abortable.
	ErrTopicAuthorization = authorizationSentinel(29)
	// ErrGroupAuthorization: GROUP_AUTHORIZATION_FAILED, from SendOffsetsToTransaction
	// without READ on the consumer group: the transaction is abortable (*AbortableError).
	ErrGroupAuthorization = authorizationSentinel(30)
	// ErrClusterAuthorization: CLUSTER_AUTHORIZATION_FAILED, an InitProducerId refused
	// (IDEMPOTENT_WRITE on CLUSTER on brokers before 3.0). As in Java 3.6+ (KAFKA-13668) it
	// is not fatal there: the queued records fail, and the producer asks again, so records
	// sent after the ACL is granted go through; InitTransactions may be called again.
	ErrClusterAuthorization = authorizationSentinel(31)
	// ErrTransactionalIDAuthorization: TRANSACTIONAL_ID_AUTHORIZATION_FAILED. From
	// InitTransactions (InitProducerId) it is not fatal (KAFKA-13668): call
	// InitTransactions again once WRITE on the transactional id is granted. From any
	// later transaction request it is fatal (*FatalError), as in Java.
	ErrTransactionalIDAuthorization = authorizationSentinel(53)
)

// codeMessageTooLarge is MESSAGE_TOO_LARGE: a record batch over the topic's
// max.message.bytes (Java's RecordTooLargeException).
const codeMessageTooLarge int16 = 10

// authorizationCodes is the authorization part of the error table: what each code says
// is missing.
var authorizationCodes = map[int16]struct{ operation, resource string }{
	29: {"WRITE", "TOPIC"},
	30: {"READ", "GROUP"},
	31: {"IDEMPOTENT_WRITE", "CLUSTER"},
	53: {"WRITE", "TRANSACTIONAL_ID"},
}

func authorizationSentinel(code int16) *KafkaError {
	return kafkaError(code, "").(*KafkaError)
}

// withResource names what an authorization error concerns (a topic, transactional.id or
// group) on the *KafkaError inside err, when it has none yet; err is returned.
func withResource(err error, resource string) error {
	var ke *KafkaError
	if resource != "" && errors.As(err, &ke) && ke.Resource == "" {
		if _, ok := authorizationCodes[ke.Code]; ok {
			ke.Resource = resource
		}
	}
	return err
}

// kafkaError builds the KafkaError of a broker error code; nil for code 0.
func kafkaError(code int16, msg string) error {
	if code == 0 {
		return nil
	}
	ke := &KafkaError{Code: code, Message: msg, Name: fmt.Sprintf("UNKNOWN_CODE_%d", code)}
	var kerrE *kerr.Error
	if errors.As(kerr.ErrorForCode(code), &kerrE) {
		ke.Name, ke.Description = kerrE.Message, kerrE.Description
	}
	ke.Retriable = sender.RetriableCode(code) // Java's classification
	return ke
}

// DeliveryError is how a record that Send accepted can fail: the callback, SendSync and
// the interceptors' OnAcknowledgement receive it.
type DeliveryError struct {
	// Topic and Partition say where the record was going (Partition is -1 when none was
	// chosen yet).
	Topic     string
	Partition int32
	// Err is the cause: a *KafkaError, ErrDeliveryTimeout, ErrClosed, a connection
	// error, ...
	Err error
	// MaybeWritten is true when the record may be in the log although this error was
	// reported: it had been sent and no answer proved otherwise (a timeout, a lost
	// connection). When false, the record is certainly not in the log.
	MaybeWritten bool
	// Timing is how the record's delivery went until it failed; zero when SendSync's ctx
	// ended before the outcome.
	Timing Timing
}

// Error says where delivery failed, whether the record may have been written, and why.
func (e *DeliveryError) Error() string {
	w := "not written"
	if e.MaybeWritten {
		w = "may have been written"
	}
	return fmt.Sprintf("kprod: delivery to %s-%d failed (%s): %v", e.Topic, e.Partition, w, e.Err)
}

// Unwrap returns Err, for errors.Is and errors.As.
func (e *DeliveryError) Unwrap() error { return e.Err }

// MaybeWritten reports whether a record whose send returned err may nonetheless have been
// written. It is false for nil, for every error Send returns before accepting a record
// (serialization errors included),
// and for a *DeliveryError that proves the record absent; true for any other error,
// since nothing proves the record absent. For a transaction call it says whether the
// transaction may have committed: true for a CommitTransaction that ended (Close, ctx,
// max.block.ms) after its EndTxn(commit) was sent, even when the error wraps ErrClosed.
func MaybeWritten(err error) bool {
	if err == nil {
		return false
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.MaybeWritten
	}
	var ou *txn.OutcomeUnknownError
	if errors.As(err, &ou) {
		return true // the coordinator may have committed: ErrClosed inside proves nothing
	}
	var se *serde.SerializationError
	var re *refusedError
	if errors.As(err, &se) || errors.As(err, &re) {
		return false
	}
	var ke *KafkaError
	if errors.As(err, &ke) && ke.Denied() != "" {
		return false // a request refused for authorization changed nothing
	}
	for _, e := range notWritten {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// IsRetriable reports whether sending the same record again may succeed, as Java's
// RetriableException hierarchy says: a retriable broker error, a timeout
// (ErrMetadataTimeout, ErrBufferExhausted, ErrDeliveryTimeout, a context deadline), a
// lost connection. It is false for misuse and for what a retry cannot change: a closed
// producer, an invalid config, topic, partition or record, a record too large, a
// serialization error, any transaction state error (*FatalError, *AbortableError,
// ErrNotTransactional, ErrInvalidTxnState, ErrProducerFenced, ErrTransactionAborted)
// and a broker error Kafka does not mark retriable, such as an authorization failure.
func IsRetriable(err error) bool {
	if err == nil {
		return false
	}
	// Before *KafkaError: a transaction doomed by a retriable broker error must be
	// aborted, not retried (Java's TransactionAbortableException is not retriable).
	var fe *FatalError
	var ae *AbortableError
	if errors.As(err, &fe) || errors.As(err, &ae) {
		return false
	}
	var ke *KafkaError
	if errors.As(err, &ke) {
		return ke.Retriable
	}
	var se *serde.SerializationError
	if errors.As(err, &se) {
		return false
	}
	for _, e := range notRetriable {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// notRetriable lists the sentinels of misuse and of outcomes a retry cannot change.
var notRetriable = []error{ErrClosed, ErrRecordTooLarge, ErrInvalidTopic, ErrInvalidPartition,
	ErrInvalidConfig, ErrNilRecord, ErrNilContext, ErrNotTransactional, ErrInvalidTxnState,
	ErrProducerFenced, ErrTransactionAborted, ErrAuthentication, ErrSpooled, ErrSpoolLocked}
