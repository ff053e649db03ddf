package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(1, "t")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestKfakeApiVersions(t *testing.T) {
	checkLeaks(t)
	cl := newCluster(t)
	c := mustDial(t, cl.ListenAddrs()[0], Options{ClientID: "test"})

	v := c.Versions()
	if v.Len() == 0 {
		t.Fatal("no versions negotiated")
	}
	r, ok := v.Range(0)
	if !ok || r.Max < 9 {
		t.Fatalf("produce range %+v, %v", r, ok)
	}
	got, err := v.Pick(0, 3, 11)
	if err != nil || got != min(11, r.Max) {
		t.Fatalf("Pick(produce, 3, 11) = %d, %v", got, err)
	}
	if _, err := v.Pick(0, r.Max+1, r.Max+5); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("Pick above broker range: %v", err)
	}
	if c.InFlight() != 0 || time.Since(c.LastUsed()) > time.Minute {
		t.Fatalf("in flight %d, last used %v", c.InFlight(), c.LastUsed())
	}
}

// A broker that only knows ApiVersions v0-v2 answers our v3 with
// UNSUPPORTED_VERSION in a v0 body; we retry at v2 (KIP-511).
func TestKfakeApiVersionsFallback(t *testing.T) {
	checkLeaks(t)
	cl := newCluster(t, kfake.MaxVersions(kversion.V2_3_0()))
	var mu sync.Mutex
	var seen []int16
	cl.ControlKey(18, func(req kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		mu.Lock()
		seen = append(seen, req.GetVersion())
		mu.Unlock()
		return nil, nil, false
	})
	c := mustDial(t, cl.ListenAddrs()[0], Options{})
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != 3 || seen[1] != 2 {
		t.Fatalf("ApiVersions versions sent: %v, want [3 2]", seen)
	}
	if r, _ := c.Versions().Range(apiVersionsKey); r.Max != 2 {
		t.Fatalf("ApiVersions range %+v", r)
	}
}

func TestKfakeMetadataDo(t *testing.T) {
	checkLeaks(t)
	cl := newCluster(t)
	c := mustDial(t, cl.ListenAddrs()[0], Options{})

	req := kmsg.NewPtrMetadataRequest()
	topic := kmsg.NewMetadataRequestTopic()
	topic.Topic = kmsg.StringPtr("t")
	req.Topics = append(req.Topics, topic)
	kresp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp := kresp.(*kmsg.MetadataResponse)
	want, _ := c.Versions().Pick(3, 0, req.MaxVersion())
	if req.Version != want || resp.Version != want {
		t.Fatalf("version %d/%d, want %d", req.Version, resp.Version, want)
	}
	if len(resp.Topics) != 1 || *resp.Topics[0].Topic != "t" || len(resp.Topics[0].Partitions) != 1 || len(resp.Brokers) != 1 {
		t.Fatalf("metadata %+v", resp)
	}

	// Pin sends exactly the version set, here the oldest.
	req.Version = 0
	kresp, err = c.Do(context.Background(), Pin(req))
	if err != nil || kresp.GetVersion() != 0 {
		t.Fatalf("pinned v0: %v, %v", kresp, err)
	}
	req.Version = 99
	if _, err := c.Do(context.Background(), Pin(req)); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("pinned v99: %v", err)
	}
}

func produceVersion(t *testing.T, c *Conn) int16 {
	t.Helper()
	v, err := c.Versions().Pick(0, 3, 12) // v13 addresses topics by id
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Pipelined produce requests complete in order with their own responses.
// TestKfakePipelinedProduce pipelines Produce requests up to the in-flight limit; with
// 400 KiB values the queued requests exceed maxWritev, so one pass writes them in
// several writev calls, and the broker must still see every request whole and in order.
func TestKfakePipelinedProduce(t *testing.T) {
	for _, size := range []int{1, 400 << 10} {
		t.Run(fmt.Sprintf("value=%d", size), func(t *testing.T) { testPipelinedProduce(t, size) })
	}
}

func testPipelinedProduce(t *testing.T, valueSize int) {
	checkLeaks(t)
	cl := newCluster(t)
	c := mustDial(t, cl.ListenAddrs()[0], Options{MaxInFlight: 5})
	v := produceVersion(t, c)

	const n = 40
	value := strings.Repeat("v", valueSize)
	var mu sync.Mutex
	var offsets []int64
	var errs []error
	all := make(chan struct{})
	for i := range n {
		frame := produceFrame(v, -1, "t", recordBatch(value), 12, 40)
		i := i
		err := c.Produce(context.Background(), frame, true, func(body []byte, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else {
				resp := kmsg.ProduceResponse{Version: v}
				if err := resp.ReadFrom(body); err != nil {
					errs = append(errs, err)
				} else if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 {
					errs = append(errs, errors.New("produce error code"))
				} else {
					offsets = append(offsets, p.BaseOffset)
				}
			}
			if i == n-1 {
				close(all)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.InFlight() > 5 {
			t.Fatalf("in flight %d > 5", c.InFlight())
		}
	}
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatal("timeout")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for i, o := range offsets {
		if o != int64(i) {
			t.Fatalf("offsets out of order: %v", offsets)
		}
	}
}

// The broker sends nothing back for acks=0: the request completes on write
// and the next response still matches the next request.
func TestKfakeAcksZero(t *testing.T) {
	checkLeaks(t)
	cl := newCluster(t)
	c := mustDial(t, cl.ListenAddrs()[0], Options{})
	v := produceVersion(t, c)

	ch := make(chan result, 10)
	for range 3 {
		if err := c.Produce(context.Background(), produceFrame(v, 0, "t", recordBatch("a", "b")), false, collect(ch)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if r := wait(t, ch); r.err != nil || r.body != nil {
			t.Fatalf("acks=0 completion: %+v", r)
		}
	}
	// Do with an acks=0 kmsg.ProduceRequest returns once written.
	preq := kmsg.NewPtrProduceRequest()
	preq.Acks = 0
	preq.Topics = []kmsg.ProduceRequestTopic{{Topic: "t", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: recordBatch("c", "d")}}}}
	if resp, err := c.Do(context.Background(), Pin(withVersion(preq, v))); resp != nil || err != nil {
		t.Fatalf("Do acks=0: %v %v", resp, err)
	}
	// A request after them is matched correctly and sees all 8 records.
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	kresp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := kresp.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0].Offset; got != 8 {
		t.Fatalf("high watermark %d, want 8", got)
	}
}

func TestKfakeAuthenticateHook(t *testing.T) {
	checkLeaks(t)
	cl := newCluster(t)
	var sawVersions int
	c := mustDial(t, cl.ListenAddrs()[0], Options{Authenticate: func(ctx context.Context, c *Conn) error {
		sawVersions = c.Versions().Len()
		_, err := c.Do(ctx, kmsg.NewPtrMetadataRequest())
		return err
	}})
	if sawVersions == 0 || c.Versions().Len() != sawVersions {
		t.Fatalf("hook saw %d versions", sawVersions)
	}

	boom := errors.New("boom")
	_, err := Dial(context.Background(), cl.ListenAddrs()[0], Options{Authenticate: func(context.Context, *Conn) error { return boom }})
	if !errors.Is(err, ErrDial) || !errors.Is(err, boom) {
		t.Fatalf("auth failure: %v", err)
	}
}

// A request the broker sits on past request.timeout.ms closes the connection.
// The control function blocks kfake's run loop until the test releases it; it
// does not use SleepControl, because a slept control still being continued
// while Cluster.Close runs deadlocks inside kfake and leaves its run goroutine
// behind (seen under load). The test releases the broker in its body and then
// dials again: the new connection's ApiVersions is answered only once the run
// loop is past the control, so Close finds it idle.
func TestKfakeTimeout(t *testing.T) {
	checkLeaks(t)
	cl := newCluster(t)
	release := make(chan struct{})
	cl.ControlKey(3, func(kmsg.Request) (kmsg.Response, error, bool) {
		<-release
		return nil, nil, false
	})
	c := mustDial(t, cl.ListenAddrs()[0], Options{RequestTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := c.Do(context.Background(), kmsg.NewPtrMetadataRequest())
	el := time.Since(start)
	close(release)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrConnClosed) || !asRequestError(t, err).Written {
		t.Fatalf("err %v", err)
	}
	if el < 200*time.Millisecond || el > 10*time.Second { // the upper bound catches a hang
		t.Fatalf("timed out after %v", el)
	}
	<-c.Done()
	mustDial(t, cl.ListenAddrs()[0], Options{}).Close()
}

func withVersion(req kmsg.Request, v int16) kmsg.Request {
	req.SetVersion(v)
	return req
}
