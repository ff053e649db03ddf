package kprod_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

func newProducer(t *testing.T, bootstrap []string, mod func(*kprod.Config), opts ...kprod.Option) *kprod.Producer {
	t.Helper()
	cfg := kprod.Config{BootstrapServers: bootstrap}
	if mod != nil {
		mod(&cfg)
	}
	p, err := kprod.NewProducer(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		p.Close(ctx)
	})
	return p
}

// readBack reads n records of topic from the start with franz-go (see ftReadAll).
func readBack(t *testing.T, bootstrap []string, topic string, n int) []*kgo.Record {
	t.Helper()
	return ftReadAll(t, bootstrap, topic, n)
}

func TestSmokeEmbedded(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Brokers(3), kafkatest.Topic("smoke", 4))
	p := newProducer(t, c.Bootstrap(), nil)
	ctx := context.Background()
	md, err := p.SendSync(ctx, &kprod.Record{Topic: "smoke", Key: []byte("k"), Value: []byte("v0")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sync: %+v", md)
	var wg sync.WaitGroup
	var mu sync.Mutex
	offsets := map[string]kprod.RecordMetadata{}
	for i := 1; i < 1000; i++ {
		wg.Add(1)
		v := fmt.Sprint("v", i)
		err := p.Send(ctx, &kprod.Record{Topic: "smoke", Value: []byte(v)}, func(md kprod.RecordMetadata, err error) {
			defer wg.Done()
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			offsets[v] = md
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	offsets["v0"] = md
	recs := readBack(t, c.Bootstrap(), "smoke", 1000)
	for _, r := range recs {
		m, ok := offsets[string(r.Value)]
		if !ok || m.Partition != r.Partition || m.Offset != r.Offset {
			t.Fatalf("record %s at %d/%d, metadata said %+v", r.Value, r.Partition, r.Offset, m)
		}
	}
}
