package kprod

import (
	"errors"
	"testing"

	"github.com/kprod-io/kprod/internal/sender"
	"github.com/kprod-io/kprod/internal/txn"
)

// TestBatchCauseNamesOwnTopicOnly: TOPIC_AUTHORIZATION_FAILED names the batch's topic
// only when the batch's own Produce answer carried it. In a transaction, topic A's
// denial dooms the transaction and topic B's unsent batches fail with a StateError
// wrapping A's error (drain.go): B's records must not say "lacks WRITE on TOPIC B".
// An idempotent InitProducerId refused (CLUSTER_AUTHORIZATION_FAILED, TakeDenied)
// concerns the cluster, not the topic.
func TestBatchCauseNamesOwnTopicOnly(t *testing.T) {
	denied := &sender.BrokerError{Code: 29, Message: "Not authorized to access topics: [A]"}
	for _, tc := range []struct {
		name string
		err  error
		want string // Resource of the KafkaError
	}{
		{"own Produce answer", &sender.BrokerError{Code: 29}, "B"},
		{"doomed transaction", &txn.StateError{Kind: txn.Abortable, Err: denied}, ""},
		{"idempotent InitProducerId denied", &txn.CodeError{Code: 31, Op: "InitProducerId"}, ""},
	} {
		var ke *KafkaError
		cause := batchCause(tc.err, "B")
		if !errors.As(cause, &ke) {
			t.Fatalf("%s: no *KafkaError in %v", tc.name, cause)
		}
		if ke.Resource != tc.want {
			t.Errorf("%s: Resource %q (%v), want %q", tc.name, ke.Resource, cause, tc.want)
		}
	}
}
