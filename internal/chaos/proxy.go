package chaos

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Proxy forwards TCP connections to one broker and injects network faults into them:
// resets (RST), blackholes (connections stay open, nothing is forwarded) and latency.
// The producer dials the proxy instead of the broker (see Dialer), so every byte it
// exchanges with that broker passes here.
type Proxy struct {
	target string
	ln     net.Listener

	mu       sync.Mutex // guards the fields below
	links    map[*link]struct{}
	gate     chan struct{} // closed while forwarding; open (blocking) while blackholed
	delay    time.Duration
	closed   bool
	accepted int64

	wg sync.WaitGroup // accept loop and every link goroutine
}

// chunkSize is the largest read forwarded at once; queueLen bounds the chunks a
// direction holds while delayed or blackholed (then TCP backpressure takes over).
const (
	chunkSize = 32 << 10
	queueLen  = 256
)

// NewProxy listens on a free port of 127.0.0.1 and forwards every connection to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gate := make(chan struct{})
	close(gate)
	p := &Proxy{target: target, ln: ln, links: map[*link]struct{}{}, gate: gate}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the broker address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Accepted returns how many connections the proxy accepted.
func (p *Proxy) Accepted() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Active returns how many connections are open.
func (p *Proxy) Active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Reset aborts every open connection with a TCP RST on both sides (SO_LINGER 0), as a
// crashed middlebox or a peer reboot would, and returns how many it reset.
func (p *Proxy) Reset() int {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.teardown(true)
	}
	return len(links)
}

// SetBlackhole starts or ends a blackhole: while on, connections (open and new) are
// accepted and kept but nothing is forwarded in either direction; what was held is
// delivered when it ends, like a network partition that heals before TCP gives up.
func (p *Proxy) SetBlackhole(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate: // forwarding
		if on {
			p.gate = make(chan struct{})
		}
	default: // blackholed
		if !on {
			close(p.gate)
		}
	}
}

// SetDelay adds d of latency to every chunk forwarded in either direction from now on
// (0 removes it). Order is kept: a chunk waits for the ones read before it.
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = max(d, 0)
}

func (p *Proxy) state() (gate chan struct{}, delay time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gate, p.delay
}

// Close stops listening, resets every connection and waits for the proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.Reset()
	p.SetBlackhole(false)
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve connects to the broker and runs the two directions of one connection.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	upstream, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		resetConn(client) // the broker is down: the client sees a refused-like RST
		return
	}
	l := &link{p: p, a: client, b: upstream, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.teardown(true)
		return
	}
	p.links[l] = struct{}{}
	p.accepted++
	p.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(4)
	up, down := make(chan chunk, queueLen), make(chan chunk, queueLen)
	go func() { defer wg.Done(); l.read(client, up) }()
	go func() { defer wg.Done(); l.write(upstream, up) }()
	go func() { defer wg.Done(); l.read(upstream, down) }()
	go func() { defer wg.Done(); l.write(client, down) }()
	wg.Wait()
	l.teardown(false)
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// link is one proxied connection: a is the client side, b the broker side.
type link struct {
	p    *Proxy
	a, b net.Conn
	once sync.Once
	done chan struct{} // closed by teardown
}

type chunk struct {
	data []byte
	at   time.Time // when it was read
}

// read forwards what src sends into q until src fails or the link is torn down.
func (l *link) read(src net.Conn, q chan<- chunk) {
	defer close(q)
	for {
		buf := make([]byte, chunkSize)
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case q <- chunk{data: buf[:n], at: time.Now()}:
			case <-l.done:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// write delivers q's chunks to dst, each once the blackhole (if any) is over and its
// delay has passed; when q ends (its source closed) it tears the link down.
func (l *link) write(dst net.Conn, q <-chan chunk) {
	defer l.teardown(false)
	for c := range q {
		for {
			gate, delay := l.p.state()
			select {
			case <-gate:
			case <-l.done:
				return
			}
			if wait := time.Until(c.at.Add(delay)); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-l.done:
					t.Stop()
					return
				}
				continue // the blackhole may have started meanwhile
			}
			break
		}
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
}

// teardown closes both sides once; with rst, with a TCP RST instead of a FIN.
func (l *link) teardown(rst bool) {
	l.once.Do(func() {
		close(l.done)
		if rst {
			resetConn(l.a)
			resetConn(l.b)
			return
		}
		l.a.Close()
		l.b.Close()
	})
}

// resetConn closes c with SO_LINGER 0, so the peer gets an RST.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
