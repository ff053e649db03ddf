package cluster

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/kafkatest"
)

// logCapture collects log messages.
type logCapture struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCapture) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	l.msgs = append(l.msgs, msg)
	return nil
}
func (l *logCapture) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCapture) WithGroup(string) slog.Handler      { return l }

func (l *logCapture) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

// hostile starts an embedded broker whose Metadata answers are made by answer, given
// the broker's own entry, and a cluster view reading from it.
func hostile(t *testing.T, answer func(self kmsg.MetadataResponseBroker) *kmsg.MetadataResponse) (*Cluster, *logCapture) {
	k := kafkatest.New(t)
	host, port, err := net.SplitHostPort(k.Bootstrap()[0])
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	self := kmsg.MetadataResponseBroker{NodeID: 0, Host: host, Port: int32(p)}
	fake := k.Fake()
	fake.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		resp := answer(self)
		resp.Version = req.GetVersion()
		return resp, nil, true
	})
	logs := &logCapture{}
	c := New(Config{Bootstrap: k.Bootstrap(), MaxAge: time.Minute, MaxIdle: time.Minute, Pool: testPool(t, broker.Options{}),
		RetryBackoff: 10 * time.Millisecond, RetryBackoffMax: 100 * time.Millisecond, Logger: slog.New(logs)})
	t.Cleanup(c.Close)
	return c, logs
}

func topicAnswer(name string, parts ...kmsg.MetadataResponseTopicPartition) kmsg.MetadataResponseTopic {
	return kmsg.MetadataResponseTopic{Topic: kmsg.StringPtr(name), Partitions: parts}
}

func part(id, leader int32) kmsg.MetadataResponseTopicPartition {
	return kmsg.MetadataResponseTopicPartition{Partition: id, Leader: leader, LeaderEpoch: 1,
		Replicas: []int32{leader}, ISR: []int32{leader}}
}

// TestHostileMetadataAnswers: whatever numbers a Metadata answer holds, the view keeps
// one entry per partition listed (a partition id of 1<<20 made it allocate a million
// entries), the count Java's Cluster reports, only brokers it can dial, only topics
// it asked for, and says in the log what it left out.
func TestHostileMetadataAnswers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		answer     func(self kmsg.MetadataResponseBroker) *kmsg.MetadataResponse
		count      int32
		leaders    []int32 // per partition id
		brokers    []int32 // nodes kept
		notBrokers []int32 // nodes left out
	}{
		{"partition 1<<20", func(self kmsg.MetadataResponseBroker) *kmsg.MetadataResponse {
			return &kmsg.MetadataResponse{Brokers: []kmsg.MetadataResponseBroker{self},
				Topics: []kmsg.MetadataResponseTopic{topicAnswer("t", part(0, 0), part(1<<20, 0))}}
		}, 2, []int32{0, -1}, []int32{0}, nil},
		{"MaxInt32 alone", func(self kmsg.MetadataResponseBroker) *kmsg.MetadataResponse {
			return &kmsg.MetadataResponse{Brokers: []kmsg.MetadataResponseBroker{self},
				Topics: []kmsg.MetadataResponseTopic{topicAnswer("t", part(1<<31-1, 0))}}
		}, 1, []int32{-1}, []int32{0}, nil},
		{"negative and repeated ids", func(self kmsg.MetadataResponseBroker) *kmsg.MetadataResponse {
			return &kmsg.MetadataResponse{Brokers: []kmsg.MetadataResponseBroker{self},
				Topics: []kmsg.MetadataResponseTopic{topicAnswer("t", part(-1, 0), part(-1<<31, 0), part(1, 0), part(0, 0), part(1, 7))}}
		}, 3, []int32{0, 0, -1}, []int32{0}, nil},
		{"topic repeated, larger the second time", func(self kmsg.MetadataResponseBroker) *kmsg.MetadataResponse {
			big := make([]kmsg.MetadataResponseTopicPartition, 1000)
			for i := range big {
				big[i] = part(int32(i), 0)
			}
			return &kmsg.MetadataResponse{Brokers: []kmsg.MetadataResponseBroker{self},
				Topics: []kmsg.MetadataResponseTopic{topicAnswer("t", part(0, 0), part(1, 0)), topicAnswer("t", big...)}}
		}, 2, []int32{0, 0}, []int32{0}, nil},
		{"brokers with bad addresses, unknown leaders", func(self kmsg.MetadataResponseBroker) *kmsg.MetadataResponse {
			return &kmsg.MetadataResponse{
				Brokers: []kmsg.MetadataResponseBroker{self, {NodeID: 1, Host: "", Port: 9092},
					{NodeID: 2, Host: "h", Port: 0}, {NodeID: 3, Host: "h", Port: 70000}, {NodeID: 4, Host: "h", Port: -5},
					{NodeID: -7, Host: "h", Port: 9092}, {NodeID: 0, Host: "elsewhere", Port: 1}},
				Topics: []kmsg.MetadataResponseTopic{topicAnswer("t", part(0, 0), part(1, 1), part(2, 2), part(3, 3), part(4, 4), part(5, 9))}}
		}, 6, []int32{0, -1, -1, -1, -1, -1}, []int32{0}, []int32{1, 2, 3, 4, -7}},
		{"topics not requested", func(self kmsg.MetadataResponseBroker) *kmsg.MetadataResponse {
			return &kmsg.MetadataResponse{Brokers: []kmsg.MetadataResponseBroker{self},
				Topics: []kmsg.MetadataResponseTopic{topicAnswer("other", part(0, 0)), topicAnswer("t", part(0, 0))}}
		}, 1, []int32{0}, []int32{0}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, logs := hostile(t, tc.answer)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			top, err := c.Wait(ctx, "t", 1)
			if err != nil {
				t.Fatal(err)
			}
			if top.Parts.Count != tc.count || len(top.Partitions) != int(tc.count) {
				t.Fatalf("count %d with %d partition entries; want %d", top.Parts.Count, len(top.Partitions), tc.count)
			}
			var avail []int32
			for i, p := range top.Partitions {
				if p.ID != int32(i) || p.Leader != tc.leaders[i] {
					t.Errorf("partition entry %d: id %d leader %d; want id %d leader %d", i, p.ID, p.Leader, i, tc.leaders[i])
				}
				if p.Leader >= 0 {
					avail = append(avail, p.ID)
				}
				if l, ok := c.Leader("t", p.ID); l != p.Leader || ok != (p.Leader >= 0) {
					t.Errorf("Leader(t, %d) = %d, %v", p.ID, l, ok)
				}
			}
			if len(avail) != len(top.Parts.Available) {
				t.Errorf("available %v; want %v", top.Parts.Available, avail)
			}
			for _, n := range tc.brokers {
				if addr, ok := c.BrokerAddr(n); !ok || strings.Contains(addr, "elsewhere") {
					t.Errorf("BrokerAddr(%d) = %q, %v; want the broker's first entry", n, addr, ok)
				}
			}
			for _, n := range tc.notBrokers {
				if addr, ok := c.BrokerAddr(n); ok {
					t.Errorf("BrokerAddr(%d) = %q: a broker that cannot be dialled was kept", n, addr)
				}
			}
			if _, ok := c.Topics()["other"]; ok {
				t.Error("a topic that was not requested was kept")
			}
			if l, ok := c.Leader("t", -1); ok || l != -1 {
				t.Errorf("Leader(t, -1) = %d, %v", l, ok)
			}
			// Every case but the last has entries that cannot be right: a log line says
			// so. A topic not asked for is dropped silently, as Java does.
			if logged := logs.count("left out") > 0; logged != (tc.name != "topics not requested") {
				t.Errorf("logged about entries left out: %v", logged)
			}
		})
	}
}
