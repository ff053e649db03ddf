package cluster

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestLimitsAskedOncePerMaxAge: a topic's max.message.bytes is asked when the topic is
// first seen, before its metadata is published, and not again on refreshes within
// metadata.max.age.ms; a topic deleted and created again (a new topic id) is asked afresh
// at the next refresh.
func TestLimitsAskedOncePerMaxAge(t *testing.T) {
	k := kafkatest.New(t)
	fake := k.Fake()
	if err := fake.CreateTopic("t", 1, map[string]string{"max.message.bytes": "2000"}); err != nil {
		t.Fatal(err)
	}
	if err := fake.CreateTopic("plain", 1, nil); err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	fake.ControlKey(int16(kmsg.DescribeConfigs), func(kmsg.Request) (kmsg.Response, error, bool) {
		asked.Add(1)
		return nil, nil, false // counted, then answered by kfake
	})
	c := newTestCluster(t, k.Bootstrap()) // metadata.max.age.ms one minute
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	top, err := c.Wait(ctx, "t", 1)
	if err != nil {
		t.Fatal(err)
	}
	if top.MaxMessageBytes != 2000 {
		t.Fatalf("first snapshot with the topic has max.message.bytes=%d, want 2000", top.MaxMessageBytes)
	}
	if top, err = c.Wait(ctx, "plain", 1); err != nil || top.MaxMessageBytes != 1048588 { // Kafka's default
		t.Fatalf("plain: max.message.bytes=%d, err %v, want the default 1048588", top.MaxMessageBytes, err)
	}
	n := asked.Load()
	for range 3 {
		refreshed(t, c)
	}
	if got := asked.Load(); got != n {
		t.Errorf("DescribeConfigs asked %d more times in 3 refreshes within metadata.max.age.ms", got-n)
	}
	if l, _ := c.Lookup("t"); l.MaxMessageBytes != 2000 {
		t.Errorf("refreshes lost the limit: %d", l.MaxMessageBytes)
	}

	if err := fake.DeleteTopic("t"); err != nil {
		t.Fatal(err)
	}
	if err := fake.CreateTopic("t", 1, map[string]string{"max.message.bytes": "3000"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		refreshed(t, c)
		if l, ok := c.Lookup("t"); ok && l.MaxMessageBytes == 3000 {
			break
		}
		if time.Now().After(deadline) {
			l, _ := c.Lookup("t")
			t.Fatalf("recreated topic still has max.message.bytes=%d, want 3000", l.MaxMessageBytes)
		}
	}
}

// refreshed asks for a refresh and waits until one has ended.
func refreshed(t *testing.T, c *Cluster) {
	t.Helper()
	c.mu.Lock()
	ch := c.updated
	c.mu.Unlock()
	c.Refresh()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no refresh in 10s")
	}
}

// TestLimitsOddAnswers: values that are not a positive int32, configs not asked for,
// resources not asked for, a closed connection and no answer within LimitsTimeout leave
// the limit unknown and the refresh successful.
func TestLimitsOddAnswers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value *string
	}{
		{"not a number", kmsg.StringPtr("lots")},
		{"negative", kmsg.StringPtr("-5")},
		{"zero", kmsg.StringPtr("0")},
		{"over int32", kmsg.StringPtr("99999999999")},
		{"null", nil},
		{"connection closed", nil},
		{"no answer", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := kafkatest.New(t, kafkatest.Topic("t", 1))
			fake := k.Fake()
			fake.ControlKey(int16(kmsg.DescribeConfigs), func(req kmsg.Request) (kmsg.Response, error, bool) {
				fake.KeepControl()
				if tc.name == "connection closed" {
					return nil, errors.New("closed"), true
				}
				if tc.name == "no answer" {
					return nil, nil, true // kfake answers nothing and reads on
				}
				resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
				for _, name := range []string{"t", "other"} {
					r := kmsg.NewDescribeConfigsResponseResource()
					r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, name
					for _, cfg := range []string{"segment.bytes", "max.message.bytes"} {
						c := kmsg.NewDescribeConfigsResponseResourceConfig()
						c.Name, c.Value = cfg, tc.value
						if cfg == "segment.bytes" || name == "other" {
							c.Value = kmsg.StringPtr("1234")
						}
						r.Configs = append(r.Configs, c)
					}
					resp.Resources = append(resp.Resources, r)
				}
				return resp, nil, true
			})
			c := New(Config{Bootstrap: k.Bootstrap(), MaxAge: time.Minute, MaxIdle: time.Minute, Pool: testPool(t, broker.Options{}),
				RetryBackoff: 10 * time.Millisecond, RetryBackoffMax: 100 * time.Millisecond, LimitsTimeout: 300 * time.Millisecond})
			t.Cleanup(c.Close)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			top, err := c.Wait(ctx, "t", 1)
			if err != nil {
				t.Fatal(err)
			}
			if top.MaxMessageBytes != 0 || c.MaxMessageBytes("t") != 0 || c.MaxMessageBytes("other") != 0 {
				t.Errorf("max.message.bytes %d from an odd answer", top.MaxMessageBytes)
			}
			if err := c.LastError(); err != nil {
				t.Errorf("refresh failed: %v", err)
			}
		})
	}
}
