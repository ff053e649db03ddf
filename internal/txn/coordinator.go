package txn

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/pool"
)

// errNoBroker: metadata has not named any broker yet (normal right after start).
var errNoBroker = errors.New("kprod: no broker known yet")

// Coordinator key types of FindCoordinator.
const (
	keyGroup int8 = 0
	keyTxn   int8 = 1
)

// conn returns a live connection to node (at addr when given) from the producer's pool:
// a Control one, so coordinator requests never wait behind produce requests.
func (m *Manager) conn(ctx context.Context, node int32, addr string) (*broker.Conn, error) {
	return m.cfg.Pool.Get(ctx, pool.Control, pool.Target{Node: node, Addr: addr})
}

// anyConn returns a connection to any broker, for FindCoordinator and idempotent
// InitProducerId; p (may be nil) records the dial as the call's step, for why.
func (m *Manager) anyConn(ctx context.Context, p *progress, why string) (*broker.Conn, error) {
	node, addr, ok := m.cfg.Meta.AnyBroker()
	if !ok {
		m.cfg.Meta.Refresh()
		return nil, errNoBroker
	}
	p.at("connecting to broker %d (%s) for %s", node, addr, why)
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
func (m *Manager) findCoordinator(ctx context.Context, typ int8, key string, p *progress) (int32, string, error) {
	c, err := m.anyConn(ctx, p, "FindCoordinator")
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
	p.at("FindCoordinator to broker %s", c.Addr())
	resp, err := c.Do(ctx, preq)
	if err != nil {
		p.cut(err)
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

// errIncomplete is wrapped by what a handle returns for an answer that left out part of
// the request: the request is sent again after a backoff, as Java re-enqueues a request
// for what is still pending, never at once in a loop.
var errIncomplete = errors.New("kprod: incomplete answer")

// coordinated sends the request build makes to the coordinator of (typ, key) and hands
// the response to handle, retrying on connection loss and on retriable coordinator errors
// (rediscovering it on NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE) until ctx ends, with
// a backoff between attempts. handle returns nil on success, a *CodeError for an error
// code, or an error wrapping errIncomplete.
func (m *Manager) coordinated(ctx context.Context, op string, typ int8, key string, max int16, build func() kmsg.Request,
	handle func(kmsg.Response) error) error {
	attempt := 0
	var last error
	p := newProgress()
	for {
		if attempt > 0 {
			p.at("the backoff before attempt %d", attempt+1)
			wait := m.backoff(attempt)
			var ce *CodeError
			if errors.As(last, &ce) && ce.Code == codeConcurrentTransactions && attempt < 4 {
				wait = 20 * time.Millisecond // Java retries CONCURRENT_TRANSACTIONS quickly at first
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return endedAt(ctx, op, p, last)
			case <-t.C:
			}
		}
		attempt++
		node, addr, err := m.coordinator(ctx, typ, key, p)
		if err != nil {
			if ctx.Err() != nil {
				return endedAt(ctx, op, p, last)
			}
			last = err
			var ce *CodeError
			if errors.As(err, &ce) {
				m.name(ce, typ, key)
				if ce.kind() != Retriable {
					return err
				}
			}
			continue
		}
		p.at("connecting to the coordinator, broker %d (%s)", node, addr)
		c, err := m.conn(ctx, node, addr)
		if err != nil {
			if ctx.Err() != nil {
				return endedAt(ctx, op, p, last)
			}
			last = err
			m.forgetCoordinator(typ, key)
			continue
		}
		req, err := pinned(c, build(), max)
		if err != nil {
			return &StateError{Kind: Fatal, Err: err}
		}
		p.at("%s to the coordinator, broker %d (%s)", op, node, addr)
		resp, err := c.Do(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				p.cut(err) // err says where the request stood
				return endedAt(ctx, op, p, last)
			}
			last = err
			m.forgetCoordinator(typ, key)
			continue
		}
		err = handle(resp)
		if err == nil {
			return nil
		}
		last = err
		if errors.Is(err, errIncomplete) {
			continue
		}
		var ce *CodeError
		if !errors.As(err, &ce) {
			return err
		}
		m.name(ce, typ, key)
		switch ce.Code {
		case codeNotCoordinator, codeCoordinatorNotAvailable:
			m.forgetCoordinator(typ, key)
		}
		if ce.kind() != Retriable {
			return err
		}
	}
}

// name records the transactional id, and the group when the coordinator is a group's,
// on a coordinator's error code: an authorization error then says what was denied.
func (m *Manager) name(ce *CodeError, typ int8, key string) {
	ce.TransactionalID = m.cfg.TransactionalID
	if typ == keyGroup && ce.Group == "" {
		ce.Group = key
	}
}

// codeErr is the error of a Kafka error code in the answer to op, nil for 0.
func codeErr(op string, code int16) error {
	if code == 0 {
		return nil
	}
	return &CodeError{Op: op, Code: code}
}

// coordinator returns the cached coordinator of (typ, key), finding it when unknown.
func (m *Manager) coordinator(ctx context.Context, typ int8, key string, p *progress) (int32, string, error) {
	ck := coordKey{typ, key}
	m.coordMu.Lock()
	co, ok := m.coords[ck]
	m.coordMu.Unlock()
	if ok {
		return co.node, co.addr, nil
	}
	node, addr, err := m.findCoordinator(ctx, typ, key, p)
	if err != nil {
		return -1, "", err
	}
	m.coordMu.Lock()
	m.coords[ck] = coord{node, addr}
	m.coordMu.Unlock()
	return node, addr, nil
}

func (m *Manager) forgetCoordinator(typ int8, key string) {
	m.coordMu.Lock()
	delete(m.coords, coordKey{typ, key})
	m.coordMu.Unlock()
}

type coordKey struct {
	typ int8
	key string
}

type coord struct {
	node int32
	addr string
}
