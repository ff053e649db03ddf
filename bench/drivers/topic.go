package drivers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// createTopic creates topic with partitions (replication factor 1) before a run, so
// every client starts with the same partitions; TOPIC_ALREADY_EXISTS is fine. With a CA
// file it connects over TLS, as the run will. It uses a
// short-lived franz-go client that is closed before anything is measured.
func createTopic(ctx context.Context, brokers, topic string, partitions int, caFile string) error {
	tlsOpts, err := franzTLS(caFile)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(tlsOpts, kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ClientID("bench-setup"))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, int32(partitions), 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil && err != kerr.TopicAlreadyExists {
			return fmt.Errorf("create topic %s: %w", topic, err)
		}
	}
	return nil
}
