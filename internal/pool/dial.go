package pool

import (
	"github.com/kprod-io/kprod/internal/broker"
)

// dialLocked starts k's dial to addr on a goroutine the pool owns and returns it, so
// that every caller wanting k while it runs waits for this one.
func (p *Pool) dialLocked(k key, e *entry, n *node, addr string) *call {
	c := &call{done: make(chan struct{}), addr: addr}
	e.call = c
	opts := p.cfg.Conn
	opts.ConnectionSetupTimeout = p.setup.at(n.setupFailures, p.rand())
	opts.IO = p.cfg.Metrics.IO(k.id)
	p.wg.Add(1)
	go p.dial(k, e, c, addr, opts)
	return c
}

func (p *Pool) dial(k key, e *entry, c *call, addr string, opts broker.Options) {
	defer p.wg.Done()
	conn, err := broker.Dial(p.ctx, addr, opts)
	p.mu.Lock()
	e.call = nil
	closed := p.closed[k.p]
	n := p.nodeLocked(k.id)
	switch {
	case err == nil && closed:
		c.err = ErrClosed
	case err == nil:
		n.ready()
		e.conn, c.conn = conn, conn
	case closed || p.ctx.Err() != nil:
		c.err = err // stopped by Close: not the broker's failure
	default:
		n.failed(p.cfg.Now(), err, p)
		c.err = err
		if c.async {
			p.wakeLocked(n)
		}
	}
	close(c.done)
	p.mu.Unlock()
	if err == nil && closed {
		conn.Close()
		return
	}
	if err != nil && !closed && p.ctx.Err() == nil {
		p.log.Warn("dial "+addr, "kprod: cannot connect to broker", "node", k.id, "addr", addr, "err", err)
		p.cfg.OnFailure()
	}
	if err == nil {
		p.log.Resolved("dial "+addr, "kprod: connected to broker after failed attempts", "node", k.id, "addr", addr)
	}
	if c.async {
		p.cfg.OnReady()
	}
}
