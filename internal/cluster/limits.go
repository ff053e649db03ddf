package cluster

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/pool"
)

// maxMessageBytes is the topic config a broker checks every record batch against
// (UnifiedLog.analyzeAndValidateRecords refuses a batch whose size in bytes, header
// included, exceeds it with RecordTooLargeException, MESSAGE_TOO_LARGE on the wire).
const maxMessageBytes = "max.message.bytes"

// limits is the refresher goroutine's bookkeeping of the topics' max.message.bytes.
type limits struct {
	asked  map[string]time.Time // topic -> when it was last described
	logged map[string]bool      // reasons already logged: a denial is logged once, not per refresh
}

// describeLimits fills MaxMessageBytes on the topics of s, a snapshot not yet published:
// the value of the topic it replaces (the same topic: a recreated one starts unknown),
// and for topics never described, or described more than metadata.max.age.ms ago, a
// DescribeConfigs answer. It runs before s is published, so the first Send to a new topic
// already knows its limit (one more round trip when a topic is first seen, on the
// connection that has just answered the Metadata request). A broker slow to answer holds
// the snapshot back at most LimitsTimeout (5s); the limit then stays unknown until the
// next ask, metadata.max.age.ms later. Java's producer does not ask:
// it learns the limit from the broker's refusal. A failure (no DESCRIBE_CONFIGS
// permission, an old broker, a lost connection) leaves the limit as it was (unknown for a
// new topic: Send then checks nothing) and is logged once; it never fails a refresh.
func (c *Cluster) describeLimits(s, old *snapshot) {
	now := c.cfg.Now()
	var due []string
	for name, t := range s.topics {
		if ot, ok := old.topics[name]; ok && sameTopic(ot, t) {
			t.MaxMessageBytes = ot.MaxMessageBytes
		} else {
			delete(c.lim.asked, name)
		}
		if t.ErrorCode != 0 {
			continue
		}
		if at, ok := c.lim.asked[name]; !ok || now.Sub(at) >= c.cfg.MaxAge {
			due = append(due, name)
		}
	}
	for name := range c.lim.asked {
		if _, ok := s.topics[name]; !ok {
			delete(c.lim.asked, name) // forgotten (metadata.max.idle.ms): asked afresh if used again
		}
	}
	if len(due) == 0 {
		return
	}
	for _, name := range due {
		c.lim.asked[name] = now
	}
	got, err := c.describe(due)
	if err != nil {
		if c.ctx.Err() == nil {
			c.noLimit("request", "kprod: cannot ask the topics' max.message.bytes (DescribeConfigs); records are not checked against it before sending",
				"topics", len(due), "err", err)
		}
		return
	}
	for i := range got.Resources {
		r := &got.Resources[i]
		t, ok := s.topics[r.ResourceName]
		if !ok || r.ResourceType != kmsg.ConfigResourceTypeTopic {
			continue
		}
		if r.ErrorCode != 0 {
			// TOPIC_AUTHORIZATION_FAILED: the principal lacks DESCRIBE_CONFIGS on the
			// topic, common where ACLs grant only WRITE. Not the producer's failure.
			name := kerr.ErrorForCode(r.ErrorCode).Error()
			c.noLimit("code "+strconv.Itoa(int(r.ErrorCode)), "kprod: a topic's max.message.bytes cannot be read (DescribeConfigs refused); records to it are not checked against it before sending",
				"topic", r.ResourceName, "err", name, "message", deref(r.ErrorMessage))
			continue
		}
		for _, cfg := range r.Configs {
			if cfg.Name != maxMessageBytes || cfg.Value == nil {
				continue
			}
			if n, err := strconv.ParseInt(*cfg.Value, 10, 32); err == nil && n > 0 {
				t.MaxMessageBytes = int32(n)
			}
		}
	}
}

// MaxMessageBytes returns the topic's max.message.bytes from the current snapshot, 0
// when unknown.
func (c *Cluster) MaxMessageBytes(topic string) int32 {
	if t, ok := c.snap.Load().topics[topic]; ok {
		return t.MaxMessageBytes
	}
	return 0
}

// describe sends one DescribeConfigs request for the topics' max.message.bytes to the
// broker that answered the Metadata request (topic configs may be asked of any broker).
func (c *Cluster) describe(topics []string) (*kmsg.DescribeConfigsResponse, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, name := range topics {
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType = kmsg.ConfigResourceTypeTopic
		r.ResourceName = name
		r.ConfigNames = []string{maxMessageBytes}
		req.Resources = append(req.Resources, r)
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.LimitsTimeout)
	defer cancel()
	conn, err := c.cfg.Pool.Get(ctx, pool.Control, c.last)
	if err != nil {
		return nil, err
	}
	resp, err := conn.Do(ctx, req)
	if err != nil {
		// A broker answers a connection's requests in order: one that left this request
		// unanswered would hold up the next Metadata request behind it.
		conn.Abort(err)
		return nil, err
	}
	out, ok := resp.(*kmsg.DescribeConfigsResponse)
	if !ok {
		return nil, errors.New("kprod: unexpected answer to DescribeConfigs")
	}
	return out, nil
}

// noLimit logs, once per reason for the producer's life, why a limit is unknown.
func (c *Cluster) noLimit(reason, msg string, args ...any) {
	if c.lim.logged[reason] {
		return
	}
	c.lim.logged[reason] = true
	c.cfg.Logger.Info(msg, args...)
}

// sameTopic reports whether two snapshots' entries are the same topic: a topic deleted
// and created again under the same name has a new id (KIP-516) and maybe a new config.
func sameTopic(a, b *Topic) bool {
	return a.ID == [16]byte{} || b.ID == [16]byte{} || a.ID == b.ID
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
