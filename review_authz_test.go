package kprod

import (
	"errors"
	"strings"
	"testing"

	"kprod/internal/sender"
	"kprod/internal/txn"
)

// TestDoomedTxnNamesWrongTopic (review): in a transaction, TOPIC_AUTHORIZATION_FAILED on
// topic A makes the transaction abortable; the unsent batches of topic B then fail with
// txn.SendBlock's StateError wrapping A's BrokerError (drain.go:74-77). complete.go:128
// runs withResource(publicError(err), b.Topic) on every batch, so B's records say
// "the principal lacks WRITE on TOPIC B": the administrator is sent to the wrong ACL.
func TestDoomedTxnNamesWrongTopic(t *testing.T) {
	doom := &txn.StateError{Kind: txn.Abortable, Err: &sender.BrokerError{Code: 29, Message: "Not authorized to access topics: [A]"}}
	cause := withResource(publicError(doom), "B") // what complete does for a topic-B batch
	var ke *KafkaError
	if !errors.As(cause, &ke) {
		t.Fatalf("no *KafkaError in %v", cause)
	}
	if strings.Contains(ke.Denied(), "TOPIC B") {
		t.Fatalf("topic B's record blames B for A's denial: %v", cause)
	}
}
