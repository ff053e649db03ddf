package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// admin asks the cluster, directly (not through the proxies), who leads what: franz-go's
// kgo/kmsg, an independent client, so the driver does not trust kprod's own view.
type admin struct {
	cl *kgo.Client
}

func newAdmin(bootstrap []string) (*admin, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.MetadataMinAge(250*time.Millisecond),
		kgo.DialTimeout(3*time.Second), kgo.RequestTimeoutOverhead(5*time.Second), kgo.RetryTimeout(10*time.Second))
	if err != nil {
		return nil, err
	}
	return &admin{cl: cl}, nil
}

func (a *admin) close() { a.cl.Close() }

// request sends req with retries on errors (a node may be down or paused) until ctx ends;
// each attempt is bounded by 8s.
func (a *admin) request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	var last error
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 8*time.Second)
		resp, err := a.cl.Request(actx, req)
		cancel()
		if err == nil {
			return resp, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-time.After(time.Duration(min(attempt+1, 10)) * 200 * time.Millisecond):
		}
	}
}

// createTopic creates topic with the given partitions, replication factor and
// min.insync.replicas; an existing topic is an error (every run writes a fresh one).
func (a *admin) createTopic(ctx context.Context, topic string, partitions int32, rf int16, minISR int) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = topic, partitions, rf
	c := kmsg.NewCreateTopicsRequestTopicConfig()
	c.Name, c.Value = "min.insync.replicas", kmsg.StringPtr(fmt.Sprint(minISR))
	t.Configs = append(t.Configs, c)
	req.Topics = append(req.Topics, t)
	req.TimeoutMillis = 30000
	kresp, err := a.request(ctx, req)
	if err != nil {
		return fmt.Errorf("chaos: create topic %s: %w", topic, err)
	}
	resp := kresp.(*kmsg.CreateTopicsResponse)
	if len(resp.Topics) != 1 {
		return fmt.Errorf("chaos: create topic %s: %d topics in the response", topic, len(resp.Topics))
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		return fmt.Errorf("chaos: create topic %s: %w", topic, err)
	}
	return nil
}

// metadata returns the cluster's metadata for topics (none: brokers only).
func (a *admin) metadata(ctx context.Context, topics ...string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	kresp, err := a.request(ctx, req)
	if err != nil {
		return nil, err
	}
	return kresp.(*kmsg.MetadataResponse), nil
}

// brokers returns the registered brokers' host:port by node id.
func (a *admin) brokers(ctx context.Context) (map[int32]string, error) {
	m, err := a.metadata(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int32]string{}
	for _, b := range m.Brokers {
		out[b.NodeID] = fmt.Sprintf("%s:%d", b.Host, b.Port)
	}
	return out, nil
}

// leader returns the leader of topic's partition p.
func (a *admin) leader(ctx context.Context, topic string, p int32) (int32, error) {
	m, err := a.metadata(ctx, topic)
	if err != nil {
		return -1, err
	}
	for _, t := range m.Topics {
		for _, tp := range t.Partitions {
			if tp.Partition == p && tp.ErrorCode == 0 && tp.Leader >= 0 {
				return tp.Leader, nil
			}
		}
	}
	return -1, fmt.Errorf("chaos: no leader for %s/%d", topic, p)
}

// coordinator returns the transaction coordinator of transactional id id.
func (a *admin) coordinator(ctx context.Context, id string) (int32, error) {
	for {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType = 1 // transaction
		req.CoordinatorKey = id
		req.CoordinatorKeys = []string{id}
		kresp, err := a.request(ctx, req)
		if err != nil {
			return -1, err
		}
		resp := kresp.(*kmsg.FindCoordinatorResponse)
		node, code := resp.NodeID, resp.ErrorCode
		if len(resp.Coordinators) > 0 {
			node, code = resp.Coordinators[0].NodeID, resp.Coordinators[0].ErrorCode
		}
		if code == 0 && node >= 0 {
			return node, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("chaos: find coordinator of %s: %w (last code %d)", id, ctx.Err(), code)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// controller returns the active KRaft controller: the leader of __cluster_metadata that
// DescribeQuorum reports (brokers forward it to the controllers). DescribeCluster's
// ControllerID is no use here: in KRaft mode brokers answer a random broker there.
func (a *admin) controller(ctx context.Context) (int32, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	t.Partitions = append(t.Partitions, kmsg.NewDescribeQuorumRequestTopicPartition())
	req.Topics = append(req.Topics, t)
	for {
		kresp, err := a.request(ctx, req)
		if err != nil {
			return -1, err
		}
		resp := kresp.(*kmsg.DescribeQuorumResponse)
		if resp.ErrorCode == 0 && len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 {
			if p := resp.Topics[0].Partitions[0]; p.ErrorCode == 0 && p.LeaderID >= 0 {
				return p.LeaderID, nil
			}
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("chaos: describe quorum: %w", ctx.Err())
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// health says what keeps the cluster from being whole: a missing broker, a partition of
// topics without leader or with a shrunken ISR; "" when whole.
func (a *admin) health(ctx context.Context, nodes int, topics ...string) (string, error) {
	m, err := a.metadata(ctx, topics...)
	if err != nil {
		return "", err
	}
	if len(m.Brokers) < nodes {
		ids := make([]int32, 0, len(m.Brokers))
		for _, b := range m.Brokers {
			ids = append(ids, b.NodeID)
		}
		slices.Sort(ids)
		return fmt.Sprintf("brokers %v registered", ids), nil
	}
	for _, t := range m.Topics {
		if t.ErrorCode != 0 {
			return fmt.Sprintf("topic %s: %v", *t.Topic, kerr.ErrorForCode(t.ErrorCode)), nil
		}
		for _, p := range t.Partitions {
			if p.Leader < 0 || p.ErrorCode != 0 || len(p.ISR) < len(p.Replicas) {
				return fmt.Sprintf("%s/%d leader %d isr %v replicas %v", *t.Topic, p.Partition, p.Leader, p.ISR, p.Replicas), nil
			}
		}
	}
	return "", nil
}

// waitHealthy waits until health reports nothing, up to timeout.
func (a *admin) waitHealthy(ctx context.Context, timeout time.Duration, nodes int, topics ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "no answer"
	for {
		why, err := a.health(ctx, nodes, topics...)
		if err == nil && why == "" {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = why
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos: cluster not whole after %s: %s", timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// endOffsets returns, per partition of topic, the end offset a reader with the given
// isolation sees: the high watermark (0, read_uncommitted) or the last stable offset
// (1, read_committed).
func (a *admin) endOffsets(ctx context.Context, topic string, partitions int32, isolation int8) (map[int32]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	req.IsolationLevel = isolation
	t := kmsg.NewListOffsetsRequestTopic()
	t.Topic = topic
	for p := int32(0); p < partitions; p++ {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p, -1, -1
		t.Partitions = append(t.Partitions, rp)
	}
	req.Topics = append(req.Topics, t)
	kresp, err := a.request(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := kresp.(*kmsg.ListOffsetsResponse)
	out := map[int32]int64{}
	var errs []error
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				errs = append(errs, fmt.Errorf("%s/%d: %w", topic, rp.Partition, err))
				continue
			}
			out[rp.Partition] = rp.Offset
		}
	}
	if len(out) != int(partitions) {
		return nil, fmt.Errorf("chaos: list offsets of %s: %d of %d partitions answered: %w", topic, len(out), partitions, errors.Join(errs...))
	}
	return out, nil
}

// waitStable waits until every partition's last stable offset reached its high
// watermark (no transaction left open), up to timeout, and returns the end offsets.
func (a *admin) waitStable(ctx context.Context, topic string, partitions int32, timeout time.Duration) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		hw, err1 := a.endOffsets(ctx, topic, partitions, 0)
		lso, err2 := a.endOffsets(ctx, topic, partitions, 1)
		if err := errors.Join(err1, err2); err != nil {
			last = err.Error()
		} else {
			var open []string
			for p := int32(0); p < partitions; p++ {
				if lso[p] != hw[p] {
					open = append(open, fmt.Sprintf("%d: lso %d < hw %d", p, lso[p], hw[p]))
				}
			}
			if len(open) == 0 {
				return hw, nil
			}
			sort.Strings(open)
			last = fmt.Sprint(open)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("chaos: %s never became stable in %s (open transactions?): %s", topic, timeout, last)
		case <-time.After(time.Second):
		}
	}
}
