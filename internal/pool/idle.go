package pool

import "time"

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
// that have nothing in flight, and returns when to look again. broker.Conn.CloseIfIdle
// re-checks under the connection's own lock: a caller already holding the connection
// (TryGet's sender, Get's metadata or coordinator) that takes a slot first keeps it
// open, one that takes it after fails unwritten, so retriable without duplicates.
// The node backs off as after any lost connection: Java's Selector expires an idle
// channel into its disconnected list and NetworkClient.processDisconnection calls
// ClusterConnectionStates.disconnected, which backs off and resets the setup timeout.
// The closes are retiring ones: CloseAll waits for them.
func (p *Pool) closeIdle(now time.Time) time.Duration {
	next := p.cfg.MaxIdle
	p.mu.Lock()
	defer p.mu.Unlock()
	var lost map[int32]bool // nodes backed off in this pass: one disconnection each
	for purpose, conns := range p.conns {
		for id, e := range conns {
			if e.conn == nil || e.conn.InFlight() > 0 {
				continue // in use: it goes idle, and LastUsed moves, when its last answer comes
			}
			idle := now.Sub(e.conn.LastUsed())
			if idle <= p.cfg.MaxIdle {
				next = min(next, p.cfg.MaxIdle-idle+time.Millisecond)
				continue
			}
			if !e.conn.CloseIfIdle() {
				continue // a request took a slot since InFlight: looked at again when it ends
			}
			if !lost[id] {
				if lost == nil {
					lost = map[int32]bool{}
				}
				lost[id] = true
				p.nodeLocked(id).lost(p.cfg.Now(), p)
			}
			p.retireLocked(key{id, Purpose(purpose)}, e, false)
		}
	}
	return next
}
