package kprod_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestFaultClosePending closes, with an expired ctx, a producer that has requests in
// flight, records queued behind them and Sends blocked for buffer space and for
// metadata. The state is built step by step on observable events, never on timing:
//
//   - the broker holds the first Produce request (it reached the broker, unanswered);
//   - four more are written whole to the connection behind it (a tap on the connection
//     sees their last byte go out), which fills max.in.flight=5, so nothing else can be
//     sent;
//   - more records are accepted into the queue, one Send blocks for buffer.memory and
//     one for the metadata of a topic that does not exist.
//
// Close must fail every pending record with a *DeliveryError wrapping ErrClosed, its
// callback run before Close returns, and MaybeWritten true for exactly the records of
// the requests the connection wrote (Java's Sender fails in-flight batches on close as
// possibly written; queued ones never left) and false for every other one. Blocked Sends
// fail with ErrClosed, not written; every later call fails with ErrClosed. Then the broker
// handles the held request: reading the partitions back with franz-go finds its records
// (MaybeWritten was no formality) and none of the records reported not written.
func TestFaultClosePending(t *testing.T) {
	for _, idempotent := range []bool{true, false} {
		name := map[bool]string{true: "idempotent", false: "not idempotent"}[idempotent]
		t.Run(name, func(t *testing.T) { closePending(t, idempotent) })
	}
}

func closePending(t *testing.T, idempotent bool) {
	const topic, inFlight = "stuck", 5
	c := kafkatest.New(t, kafkatest.Topic(topic, 2))
	tap := &ftTap{}
	cfg := kprod.Config{BootstrapServers: c.Bootstrap(), Linger: kprod.ZeroDuration, MaxInFlight: inFlight,
		// buffer.memory is charged by the buffers batches hold; at batch.size 1024 (the
		// smallest buffer class) that is 1024 bytes a batch: room for the in-flight
		// batches, the queued ones and a few more.
		BatchSize: 1024, BufferMemory: 12 * 1024, MaxBlock: time.Minute, Idempotence: kprod.ToggleOff}
	if idempotent {
		cfg.Idempotence = kprod.ToggleOn
	}
	p, err := kprod.NewProducer(cfg, kprod.WithDialer(tap.dial))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.PartitionsFor(ctx, topic); err != nil {
		t.Fatal(err)
	}
	fake := c.Fake()
	hold := holdProduce(t, fake, nil)

	var mu sync.Mutex
	outcome := map[string]error{}
	var order []string
	send := func(part int32, v string, size int) error {
		val := append([]byte(v+"|"), make([]byte, size)...)
		err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(part), Value: val},
			func(_ kprod.RecordMetadata, err error) {
				mu.Lock()
				defer mu.Unlock()
				if _, dup := outcome[v]; dup {
					t.Errorf("record %s: callback ran twice", v)
				}
				outcome[v] = err
			})
		if err == nil {
			mu.Lock()
			order = append(order, v)
			mu.Unlock()
		}
		return err
	}
	mustSend := func(part int32, v string) {
		t.Helper()
		if err := send(part, v, 0); err != nil {
			t.Fatalf("Send(%s): %v", v, err)
		}
	}

	// In flight: one request held at the broker, the others written behind it. Each
	// record is sent once the previous request went out, so each is a request of its own.
	for i := range inFlight {
		mustSend(int32(i%2), fmt.Sprintf("inflight-%d", i))
		if i == 0 {
			hold.wait(t)
		}
		tap.waitProduces(t, i+1)
	}
	// Queued: the connection has no free slot, so these stay in the accumulator.
	for i := range 4 {
		mustSend(int32(i%2), fmt.Sprintf("queued-%d", i))
	}
	// Blocked: one Send for buffer space (records of a batch each fill buffer.memory until
	// one waits), one for metadata of a topic that does not exist.
	blocked := make(chan error, 2)
	go func() {
		for i := 0; ; i++ {
			if err := send(0, fmt.Sprintf("filler-%d", i), 1000); err != nil {
				blocked <- err
				return
			}
		}
	}()
	waitUntil(t, "a Send blocked for buffer.memory", func() bool { return parkedIn(parkedForBuffer) })
	askedFor := make(chan struct{})
	var once sync.Once
	fake.ControlKey(int16(kmsg.Metadata), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		for _, rt := range kreq.(*kmsg.MetadataRequest).Topics {
			if rt.Topic != nil && *rt.Topic == "no-such-topic" {
				once.Do(func() { close(askedFor) })
			}
		}
		return nil, nil, false
	})
	go func() { blocked <- p.Send(ctx, &kprod.Record{Topic: "no-such-topic", Value: []byte("x")}, nil) }()
	select {
	case <-askedFor: // the Send registered its wait for the topic before the request went out
	case <-time.After(waitLong):
		t.Fatal("the Send for an unknown topic never asked for its metadata")
	}
	if got := len(tap.producesWritten()); got != inFlight {
		t.Fatalf("%d Produce requests were written, want %d (max.in.flight)", got, inFlight)
	}

	expired, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Close(expired); err == nil {
		t.Error("Close returned nil although records had to be failed")
	}

	written := tap.producesWritten()
	mu.Lock()
	wrote := map[string]bool{}
	for _, v := range order {
		for _, f := range written {
			if bytes.Contains(f, []byte(v+"|")) {
				wrote[v] = true
			}
		}
		err, ran := outcome[v]
		var de *kprod.DeliveryError
		switch {
		case !ran:
			t.Errorf("record %s: callback had not run when Close returned", v)
		case !errors.Is(err, kprod.ErrClosed) || !errors.As(err, &de):
			t.Errorf("record %s: %v; want a *DeliveryError wrapping ErrClosed", v, err)
		case kprod.MaybeWritten(err) != wrote[v]:
			t.Errorf("record %s: MaybeWritten = %v; want %v (its request written to the connection: %v)", v, kprod.MaybeWritten(err), wrote[v], wrote[v])
		}
	}
	fillers := len(order) - inFlight - 4
	mu.Unlock()
	for i := range inFlight {
		if v := fmt.Sprintf("inflight-%d", i); !wrote[v] {
			t.Errorf("record %s is in none of the written requests", v)
		}
	}
	if len(wrote) != inFlight {
		t.Errorf("%d records in written requests, want the %d in flight", len(wrote), inFlight)
	}
	if fillers < 1 {
		t.Errorf("no record was accepted before a Send blocked for buffer.memory")
	}
	for range 2 {
		select {
		case err := <-blocked:
			if !errors.Is(err, kprod.ErrClosed) || kprod.MaybeWritten(err) {
				t.Errorf("a Send blocked during Close returned %v (MaybeWritten %v); want ErrClosed", err, kprod.MaybeWritten(err))
			}
		case <-time.After(waitLong):
			t.Fatal("a Send blocked during Close did not return")
		}
	}

	for name, call := range map[string]func() error{
		"Send":  func() error { return p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("late")}, nil) },
		"Flush": func() error { return p.Flush(ctx) },
		"SendSync": func() error {
			_, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("late")})
			return err
		},
		"PartitionsFor": func() error { _, err := p.PartitionsFor(ctx, topic); return err },
	} {
		if err := call(); !errors.Is(err, kprod.ErrClosed) || kprod.MaybeWritten(err) {
			t.Errorf("%s after Close = %v; want ErrClosed, not written", name, err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- p.Close(ctx) }()
	select {
	case <-done:
	case <-time.After(waitLong):
		t.Error("a second Close hung")
	}

	// The broker now handles the held request; the records it holds must be among those
	// reported as possibly written, and the held request's among them.
	held := hold.request()
	hold.release()
	recs := ftReadAll(t, c.Bootstrap(), topic, 1)
	var inLog []string
	for _, r := range recs {
		v, _, _ := bytes.Cut(r.Value, []byte("|"))
		inLog = append(inLog, string(v))
		if !wrote[string(v)] {
			t.Errorf("record %s is in the log at %d/%d, yet was reported not written", v, r.Partition, r.Offset)
		}
	}
	t.Logf("after Close the broker applied %v", inLog)
	if !slices.Contains(inLog, "inflight-0") {
		t.Errorf("the log holds %v; the request the broker held (%d topics) carried inflight-0", inLog, len(held.Topics))
	}
}

// TestFaultCloseWhileConnectionDies closes the producer while a connection that timed
// out is still failing its requests: its read loop has started closing (so the producer
// already dialed a new connection and sent on it) but has not yet failed the request it
// holds. Close must wait for that connection, report its record as possibly written
// (the request was written; the broker holds it) and leave no goroutine behind. Found by
// reading the sender's pool: a dying connection left the pool as soon as it started
// closing, and Close did not wait for it, so the record was reported not written.
func TestFaultCloseWhileConnectionDies(t *testing.T) {
	const topic = "dying"
	before := kprodGoroutines()
	c := kafkatest.New(t, kafkatest.Topic(topic, 2))
	tap := &ftTap{gateClose: make(chan struct{}), gated: make(chan struct{})}
	var released sync.Once
	release := func() { released.Do(func() { close(tap.gateClose) }) }
	t.Cleanup(release)
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), Linger: kprod.ZeroDuration,
		RequestTimeout: 500 * time.Millisecond}, kprod.WithDialer(tap.dial))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.PartitionsFor(ctx, topic); err != nil {
		t.Fatal(err)
	}
	hold := holdProduce(t, c.Fake(), carries(topic, 0)) // never answered before the end
	held := make(chan error, 1)
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: []byte("held")},
		func(_ kprod.RecordMetadata, err error) { held <- err }); err != nil {
		t.Fatal(err)
	}
	hold.wait(t)
	select {
	case <-tap.gated: // request.timeout.ms passed: the connection is closing, slowly
	case <-time.After(waitLong):
		t.Fatal("the connection holding the request never timed out")
	}
	// A record for the other partition goes out on a new connection: the producer has
	// given the dying one up.
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(1), Value: []byte("other")}); err != nil {
		t.Fatalf("a record on a new connection: %v", err)
	}

	expired, cancel := context.WithCancel(ctx)
	cancel()
	closed := make(chan struct{})
	go func() { p.Close(expired); close(closed) }()
	// Close must wait for the dying connection. Let it finish dying once Close is seen
	// waiting for it (Shutdown waiting while a goroutine closes that connection, which is
	// still in its gated close); a Close that returns first did not wait.
	deadline := time.Now().Add(waitLong)
	for waiting := false; !waiting; {
		select {
		case <-closed:
			waiting = true
		case <-time.After(time.Millisecond):
			waiting = parkedIn("github.com/kprod-io/kprod/internal/pool.(*Pool).CloseAll") &&
				(parkedIn("github.com/kprod-io/kprod/internal/broker.(*Conn).Close") || parkedIn("github.com/kprod-io/kprod/internal/broker.(*Conn).shutdown"))
			if !waiting && time.Now().After(deadline) {
				t.Fatalf("Close neither returned nor waited for the dying connection within %v", waitLong)
			}
		}
	}
	select {
	case <-closed:
		t.Error("Close returned while a connection of the producer was still failing its requests")
	default:
	}
	release()
	select {
	case <-closed:
	case <-time.After(waitLong):
		t.Fatal("Close did not return after the connection died")
	}
	select {
	case err := <-held:
		if !errors.Is(err, kprod.ErrClosed) || !kprod.MaybeWritten(err) {
			t.Errorf("the record whose request the broker holds: %v (MaybeWritten %v); want ErrClosed, possibly written",
				err, kprod.MaybeWritten(err))
		}
	default:
		t.Error("the held record's callback had not run when Close returned")
	}
	checkNoLeak(t, before)
}
