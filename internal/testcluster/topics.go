package testcluster

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateTopic creates topic through cl with CreateTopics, with optional topic configs,
// failing the test on any error.
func CreateTopic(t testing.TB, cl *kgo.Client, topic string, partitions int32, rf int16, configs map[string]string) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, rf
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	if tr := resp.Topics[0]; tr.ErrorCode != 0 {
		msg := ""
		if tr.ErrorMessage != nil {
			msg = *tr.ErrorMessage
		}
		t.Fatalf("create topic %s: error code %d %s", topic, tr.ErrorCode, msg)
	}
}

// WaitTopicKnown waits until every broker's own metadata shows topic with a leader for each
// partition. CreateTopics returns once the controller has the topic; brokers learn it
// later, and a Kafka 4.x producer that reaches a leader still without the topic id fails
// the records with UNKNOWN_TOPIC_ID (seen with Java 4.4 on three loaded nodes).
func WaitTopicKnown(t testing.TB, cl *kgo.Client, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	known := func() bool {
		meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		if err != nil {
			return false
		}
		for _, b := range meta.Brokers {
			req := kmsg.NewPtrMetadataRequest()
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(topic)
			req.Topics = append(req.Topics, rt)
			kr, err := cl.Broker(int(b.NodeID)).Request(ctx, req)
			if err != nil {
				return false
			}
			resp := kr.(*kmsg.MetadataResponse)
			if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || resp.Topics[0].TopicID == [16]byte{} {
				return false
			}
			for _, p := range resp.Topics[0].Partitions {
				if p.ErrorCode != 0 || p.Leader < 0 {
					return false
				}
			}
		}
		return true
	}
	for !known() {
		select {
		case <-ctx.Done():
			t.Fatalf("topic %s not known to every broker within 60s", topic)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
