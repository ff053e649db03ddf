package drivers

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/kprod-io/kprod"
)

func init() { registry["kprod"] = newKprod }

// kprodClient drives kprod. Record reuse: kprod copies key and value into its batch
// before Send returns, so one kprod.Record is reused for every send. Acknowledgements
// come through one shared callback (no closure per record); latency mode uses one
// callback per ring slot, built before measuring.
type kprodClient struct {
	p        *kprod.Producer
	payloads [][]byte
	keys     [][]byte
	rec      kprod.Record
	cb       func(kprod.RecordMetadata, error)
	slotCBs  []func(kprod.RecordMetadata, error)
	ob       *observer // -observe; nil without
}

func newKprod(o *Options, payloads [][]byte, tr *tracker) (producer, error) {
	cfg := kprod.Config{
		BootstrapServers: strings.Split(o.Brokers, ","),
		ClientID:         "bench-kprod",
		Linger:           time.Duration(o.LingerMs) * time.Millisecond,
		BatchSize:        o.BatchBytes,
		BufferMemory:     int64(o.BufferBytes),
		Compression:      kprod.Compression(codecIndex(o.Compression)),
		Acks:             kprod.AcksAll,
		Idempotence:      kprod.ToggleOff,
		// Every peer leaves SO_SNDBUF to the OS (franz-go, sarama, kafka-go, librdkafka's
		// socket.send.buffer.bytes=0); kprod's default is Java's 128 KiB, which made 1 KiB
		// records ~15% slower on loopback. Compare like with like.
		SendBufferBytes: kprod.OSDefaultBuffer,
	}
	if o.LingerMs == 0 {
		cfg.Linger = kprod.ZeroDuration
	}
	if o.BatchBytes+(64<<10) > 1<<20 {
		cfg.MaxRequestSize = o.BatchBytes + 64<<10 // room for one full batch and framing
	}
	if o.Acks == "1" {
		cfg.Acks = kprod.AcksLeader
	}
	if o.Idempotent {
		cfg.Idempotence = kprod.ToggleOn
	}
	if o.TLSCA != "" {
		// The properties' way (security.protocol=SSL, a PEM ssl.truststore.location),
		// as a Java user would configure it; kprod builds its tls.Config from them.
		cfg.SecurityProtocol = kprod.SecuritySSL
		cfg.SSL.TruststoreType, cfg.SSL.TruststoreLocation = "PEM", o.TLSCA
	}
	if o.SpoolDir != "" {
		if err := os.RemoveAll(o.SpoolDir); err != nil {
			return nil, err
		}
		props, err := kprod.ConfigFromProperties(map[string]string{"bootstrap.servers": o.Brokers,
			"spool.dir": o.SpoolDir, "spool.sync": o.SpoolSync})
		if err != nil {
			return nil, err
		}
		cfg.SpoolDir, cfg.SpoolSync = props.SpoolDir, props.SpoolSync
	}
	var opts []kprod.Option
	if o.Observe {
		opts = observeOptions()
	}
	p, err := kprod.NewProducer(cfg, opts...)
	if err != nil {
		return nil, err
	}
	k := &kprodClient{p: p, payloads: payloads, keys: Keys(o.Keys), rec: kprod.Record{Topic: o.Topic}}
	k.cb = func(_ kprod.RecordMetadata, err error) { tr.ack(1, err) }
	if o.Observe {
		k.ob = &observer{}
		k.ob.start(p)
		k.cb = func(md kprod.RecordMetadata, err error) { k.ob.record(md); tr.ack(1, err) }
	}
	if tr.slots != nil {
		k.slotCBs = make([]func(kprod.RecordMetadata, error), len(tr.slots))
		for i := range tr.slots {
			s := &tr.slots[i]
			k.slotCBs[i] = func(_ kprod.RecordMetadata, err error) { tr.slotDone(s, err) }
			if k.ob != nil {
				k.slotCBs[i] = func(md kprod.RecordMetadata, err error) { k.ob.record(md); tr.slotDone(s, err) }
			}
		}
	}
	return k, nil
}

func (k *kprodClient) send(ctx context.Context, i int, s *slot) error {
	k.rec.Value = k.payloads[i%len(k.payloads)]
	if k.keys != nil {
		k.rec.Key = k.keys[i%len(k.keys)]
	}
	cb := k.cb
	if s != nil {
		cb = k.slotCBs[s.k]
	}
	return k.p.Send(ctx, &k.rec, cb)
}

// fork gives another sender its own Record: Send reads it, so senders cannot share one.
func (k *kprodClient) fork() producer {
	f := *k
	f.rec = kprod.Record{Topic: k.rec.Topic}
	return &f
}

func (k *kprodClient) flush(ctx context.Context) error { return k.p.Flush(ctx) }

func (k *kprodClient) close() {
	if k.ob != nil {
		k.ob.close()
	}
	k.p.Close(context.Background())
}

// observed says what -observe saw, after the run.
func (k *kprodClient) observed() []string {
	if k.ob == nil {
		return nil
	}
	return k.ob.notes()
}

func (k *kprodClient) notes() []string {
	if k.ob != nil {
		return []string{"observe: metrics scraped every second, a debug-level logger, each record's Timing read in its callback"}
	}
	return nil
}
