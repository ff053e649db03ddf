package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod"
)

// connSet is one producer instance's view of the network: its dialer sends every
// connection, to any broker address the producer learns, through that broker's proxy,
// and kill cuts the instance off at once, as kill -9 of its process would.
type connSet struct {
	proxies map[string]string // broker host:port -> proxy host:port

	mu    sync.Mutex
	conns map[*net.TCPConn]struct{}
	dead  bool

	unknown *atomic.Int64 // dials to an address without a proxy (refused), shared
}

var errCrashed = errors.New("chaos: producer process crashed (simulated)")

func newConnSet(proxies map[string]string, unknown *atomic.Int64) *connSet {
	return &connSet{proxies: proxies, conns: map[*net.TCPConn]struct{}{}, unknown: unknown}
}

// dial is the producer's kprod.WithDialer: broker address X goes to proxy(X).
func (s *connSet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	target, ok := s.proxies[addr]
	if !ok {
		s.unknown.Add(1)
		return nil, fmt.Errorf("chaos: no proxy for broker address %s", addr)
	}
	s.mu.Lock()
	dead := s.dead
	s.mu.Unlock()
	if dead {
		return nil, errCrashed
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, target)
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		resetConn(tc)
		return nil, errCrashed
	}
	s.conns[tc] = struct{}{}
	return &trackedConn{TCPConn: tc, s: s}, nil
}

// kill resets every connection of the instance and refuses new ones.
func (s *connSet) kill() int {
	s.mu.Lock()
	s.dead = true
	conns := make([]*net.TCPConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		resetConn(c)
	}
	return len(conns)
}

type trackedConn struct {
	*net.TCPConn
	s *connSet
}

func (c *trackedConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c.TCPConn)
	c.s.mu.Unlock()
	return c.TCPConn.Close()
}

// classify maps a send's error to its outcome.
func classify(err error) Outcome {
	switch {
	case err == nil:
		return Acked
	case errors.Is(err, kprod.ErrTransactionAborted):
		return Aborted
	case kprod.MaybeWritten(err):
		return MaybeWritten
	default:
		return NotWritten
	}
}

// errStats counts errors by their text with numbers blanked, for the report.
type errStats struct {
	mu sync.Mutex
	m  map[string]int
}

var digits = regexp.MustCompile(`[0-9]+`)

func (e *errStats) add(err error) {
	if err == nil {
		return
	}
	k := digits.ReplaceAllString(err.Error(), "N")
	if len(k) > 300 {
		k = k[:300]
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]int{}
	}
	e.m[k]++
}

func (e *errStats) snapshot() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

// pacer spreads sends over time at rate per second.
type pacer struct {
	rate  int
	start time.Time
	sent  int64
}

// wait blocks until the next n records may go, or ctx ends.
func (p *pacer) wait(ctx context.Context, n int) error {
	p.sent += int64(n)
	if p.rate <= 0 {
		return ctx.Err()
	}
	due := p.start.Add(time.Duration(float64(p.sent) / float64(p.rate) * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// idemWorker sends unique values "idem/partition/counter" round-robin over the
// partitions, with at most maxOutstanding records unresolved.
type idemWorker struct {
	p          *kprod.Producer
	led        *Ledger
	topic      string
	partitions int32
	rate       int
	slots      chan struct{}
	errs       errStats
	doubles    atomic.Int64
}

const producerIdem, producerTxn = "idem", "txn"

func (w *idemWorker) run(ctx context.Context) {
	counters := make([]int64, w.partitions)
	pc := pacer{rate: w.rate, start: time.Now()}
	for part := int32(0); ctx.Err() == nil; part = (part + 1) % w.partitions {
		if pc.wait(ctx, 1) != nil {
			return
		}
		select {
		case w.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := counters[part]
		counters[part]++
		ref := w.led.Add(producerIdem, part, n, 0)
		rec := &kprod.Record{Topic: w.topic, Partition: kprod.InPartition(part), Value: []byte(FormatValue(producerIdem, part, n))}
		err := w.p.Send(ctx, rec, func(md kprod.RecordMetadata, err error) {
			<-w.slots
			w.errs.add(err)
			off := int64(-1)
			if err == nil {
				off = md.Offset
			}
			if !w.led.Resolve(ref, classify(err), off, err) {
				w.doubles.Add(1)
			}
		})
		if err != nil {
			<-w.slots
			w.errs.add(err)
			w.led.Resolve(ref, classify(err), -1, err)
		}
	}
}
