package pool

import (
	"time"

	"kprod/internal/broker"
)

// minReapInterval bounds how often the reaper looks, whatever connections.max.idle.ms.
const minReapInterval = 10 * time.Millisecond

// reapIdle closes connections idle for connections.max.idle.ms (Java's Selector
// idle expiry), looking again when the oldest may expire.
func (p *Pool) reapIdle() {
	defer p.wg.Done()
	t := time.NewTimer(p.cfg.MaxIdle)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(max(p.closeIdle(p.cfg.Now()), minReapInterval))
	}
}

// closeIdle closes connections whose last use is more than MaxIdle before now and
// that have nothing in flight, and returns when to look again. The next request for
// one dials again, without backoff: closing it was no failure.
func (p *Pool) closeIdle(now time.Time) time.Duration {
	next := p.cfg.MaxIdle
	var cs []*broker.Conn
	p.mu.Lock()
	for _, conns := range p.conns {
		for _, e := range conns {
			if e.conn == nil || e.conn.InFlight() > 0 {
				continue // in use: it goes idle, and LastUsed moves, when its last answer comes
			}
			idle := now.Sub(e.conn.LastUsed())
			if idle > p.cfg.MaxIdle {
				cs = append(cs, e.conn)
				e.conn = nil
				continue
			}
			next = min(next, p.cfg.MaxIdle-idle+time.Millisecond)
		}
	}
	p.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
	return next
}
