package txn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"kprod/internal/broker"
)

// errNoBroker: metadata has not named any broker yet (normal right after start).
var errNoBroker = errors.New("kprod: no broker known yet")

// Coordinator key types of FindCoordinator.
const (
	keyGroup int8 = 0
	keyTxn   int8 = 1
)

// conn returns a live connection to node, dialing when needed. The manager keeps its own
// connections for coordinator requests so they never wait behind produce requests.
func (m *Manager) conn(ctx context.Context, node int32, addr string) (*broker.Conn, error) {
	m.connMu.Lock()
	c := m.conns[node]
	m.connMu.Unlock()
	if c != nil {
		select {
		case <-c.Done():
		default:
			if addr == "" || c.Addr() == addr {
				return c, nil
			}
		}
		c.Close()
	}
	if addr == "" {
		var ok bool
		if addr, ok = m.cfg.Meta.BrokerAddr(node); !ok {
			m.cfg.Meta.Refresh()
			return nil, fmt.Errorf("kprod: no address for broker %d yet", node)
		}
	}
	c, err := broker.Dial(ctx, addr, m.cfg.Conn)
	if err != nil {
		return nil, err
	}
	m.connMu.Lock()
	if old := m.conns[node]; old != nil && old != c {
		old.Close()
	}
	m.conns[node] = c
	m.connMu.Unlock()
	return c, nil
}

func (m *Manager) closeConns() {
	m.connMu.Lock()
	defer m.connMu.Unlock()
	for id, c := range m.conns {
		c.Close()
		delete(m.conns, id)
	}
}

// anyConn returns a connection to any broker, for FindCoordinator and idempotent
// InitProducerId.
func (m *Manager) anyConn(ctx context.Context) (*broker.Conn, error) {
	node, addr, ok := m.cfg.Meta.AnyBroker()
	if !ok {
		m.cfg.Meta.Refresh()
		return nil, errNoBroker
	}
	return m.conn(ctx, node, addr)
}

// pinned sets req's version to the highest both sides support up to max and pins it, so
// broker-only versions of shared messages (AddPartitionsToTxn v4+) are never sent.
func pinned(c *broker.Conn, req kmsg.Request, max int16) (kmsg.Request, error) {
	v, err := c.Versions().Pick(req.Key(), 0, min(max, req.MaxVersion()))
	if err != nil {
		return nil, err
	}
	req.SetVersion(v)
	return broker.Pin(req), nil
}

// findCoordinator asks any broker which node coordinates key.
func (m *Manager) findCoordinator(ctx context.Context, typ int8, key string) (int32, string, error) {
	c, err := m.anyConn(ctx)
	if err != nil {
		return -1, "", err
	}
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorType = typ
	req.CoordinatorKey = key
	req.CoordinatorKeys = []string{key}
	preq, err := pinned(c, req, 6)
	if err != nil {
		return -1, "", err
	}
	resp, err := c.Do(ctx, preq)
	if err != nil {
		return -1, "", err
	}
	r := resp.(*kmsg.FindCoordinatorResponse)
	code, node, host, port := r.ErrorCode, r.NodeID, r.Host, r.Port
	if len(r.Coordinators) > 0 { // v4+
		co := r.Coordinators[0]
		code, node, host, port = co.ErrorCode, co.NodeID, co.Host, co.Port
	}
	if code != 0 {
		return -1, "", &CodeError{Op: "FindCoordinator", Code: code}
	}
	return node, net.JoinHostPort(host, strconv.Itoa(int(port))), nil
}

// coordinated sends the request build makes to the coordinator of (typ, key) and hands
// the response to handle, retrying on connection loss and on retriable coordinator errors
// (rediscovering it on NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE) until ctx ends.
// handle returns a Kafka error code (0 on success).
func (m *Manager) coordinated(ctx context.Context, op string, typ int8, key string, max int16, build func() kmsg.Request,
	handle func(kmsg.Response) int16) error {
	attempt := 0
	var last error
	for {
		if attempt > 0 {
			wait := m.backoff(attempt)
			if errors.As(last, new(*CodeError)) && last.(*CodeError).Code == codeConcurrentTransactions && attempt < 4 {
				wait = 20 * time.Millisecond // Java retries CONCURRENT_TRANSACTIONS quickly at first
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
			case <-t.C:
			}
		}
		attempt++
		node, addr, err := m.coordinator(ctx, typ, key)
		if err != nil {
			last = err
			var ce *CodeError
			if errors.As(err, &ce) && coordinatorErrorKind(ce.Code) != Retriable {
				return err
			}
			continue
		}
		c, err := m.conn(ctx, node, addr)
		if err != nil {
			last = err
			m.forgetCoordinator(typ, key)
			continue
		}
		req, err := pinned(c, build(), max)
		if err != nil {
			return &StateError{Kind: Fatal, Err: err}
		}
		resp, err := c.Do(ctx, req)
		if err != nil {
			last = err
			if ctx.Err() != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
			}
			m.forgetCoordinator(typ, key)
			continue
		}
		code := handle(resp)
		if code == 0 {
			return nil
		}
		last = &CodeError{Op: op, Code: code}
		switch code {
		case codeNotCoordinator, codeCoordinatorNotAvailable:
			m.forgetCoordinator(typ, key)
		}
		if coordinatorErrorKind(code) != Retriable {
			return last
		}
	}
}

// coordinator returns the cached coordinator of (typ, key), finding it when unknown.
func (m *Manager) coordinator(ctx context.Context, typ int8, key string) (int32, string, error) {
	ck := coordKey{typ, key}
	m.connMu.Lock()
	co, ok := m.coords[ck]
	m.connMu.Unlock()
	if ok {
		return co.node, co.addr, nil
	}
	node, addr, err := m.findCoordinator(ctx, typ, key)
	if err != nil {
		return -1, "", err
	}
	m.connMu.Lock()
	m.coords[ck] = coord{node, addr}
	m.connMu.Unlock()
	return node, addr, nil
}

func (m *Manager) forgetCoordinator(typ int8, key string) {
	m.connMu.Lock()
	delete(m.coords, coordKey{typ, key})
	m.connMu.Unlock()
}

type coordKey struct {
	typ int8
	key string
}

type coord struct {
	node int32
	addr string
}
