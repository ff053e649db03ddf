package sender

import (
	"errors"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var errNoBroker = errors.New("kprod: no broker known yet")

// producerID obtains and holds the idempotent producer's id and epoch (KIP-98).
type producerID struct {
	s *Sender

	mu       sync.Mutex // guards the fields below
	pid      int64
	epoch    int16
	have     bool
	fetching bool
	failures int
}

func (p *producerID) ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.have
}

func (p *producerID) get() (int64, int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid, p.epoch
}

// ensure starts an InitProducerId request in the background unless one is running.
func (p *producerID) ensure() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.have || p.fetching || p.s.ctx.Err() != nil {
		return
	}
	p.fetching = true
	p.s.wg.Add(1)
	go p.fetch()
}

// fetch asks any broker for a producer id; idempotent producers without a
// transactional.id need no coordinator. On failure it backs off and lets the sender
// loop ask again.
func (p *producerID) fetch() {
	defer p.s.wg.Done()
	pid, epoch, err := p.request()
	p.mu.Lock()
	p.fetching = false
	if err == nil {
		p.pid, p.epoch, p.have, p.failures = pid, epoch, true, 0
		p.mu.Unlock()
		p.s.Wake()
		return
	}
	p.failures++
	wait := p.s.backoff(p.failures)
	p.mu.Unlock()
	if !errors.Is(err, errNoBroker) {
		p.s.log.Warn("kprod: InitProducerId failed; retrying", "err", err, "in", wait)
	}
	p.s.wakeAt(p.s.now().Add(wait))
}

func (p *producerID) request() (int64, int16, error) {
	ctx := p.s.ctx
	conn, temp, err := p.s.conns.any(ctx)
	if err != nil {
		return 0, 0, err
	}
	if temp {
		defer conn.Close()
	}
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionTimeoutMillis = int32(p.s.set.TransactionTimeout / time.Millisecond)
	req.ProducerID, req.ProducerEpoch = -1, -1
	resp, err := conn.Do(ctx, req)
	if err != nil {
		return 0, 0, err
	}
	r := resp.(*kmsg.InitProducerIDResponse)
	if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
		return 0, 0, err
	}
	return r.ProducerID, r.ProducerEpoch, nil
}

// Reset forgets the producer id so the next drain obtains a new one (sequence state is
// then restarted per partition).
func (p *producerID) reset() {
	p.mu.Lock()
	p.have = false
	p.mu.Unlock()
}
