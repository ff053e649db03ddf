package txn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/logsum"
	"github.com/kprod-io/kprod/internal/pool"
)

// Meta is the cluster view the manager needs.
type Meta interface {
	AnyBroker() (node int32, addr string, ok bool)
	Refresh()
}

// Config configures a Manager.
type Config struct {
	// TransactionalID is transactional.id; empty for an idempotent-only producer.
	TransactionalID    string
	TransactionTimeout time.Duration
	// Pool is the producer's connection pool; coordinator requests use its Control
	// connections.
	Pool *pool.Pool
	// Features, the finalized features every connection of the producer reports,
	// decides transactions v2 (KIP-890); nil means v1.
	Features *broker.Features
	Meta     Meta
	// RetryBackoff and RetryBackoffMax pace retried coordinator requests.
	RetryBackoff, RetryBackoffMax time.Duration
	// MaxBlock is max.block.ms: it bounds each transactional call. 0 (max.block.ms=0):
	// only ctx does, since the call's work runs on the caller's goroutine (Config.MaxBlock
	// of package kprod says why).
	MaxBlock time.Duration
	// ErrClosed is the error transactional calls return once the producer closes.
	ErrClosed error
	// Wake tells the sender that partitions became sendable or the identity changed.
	Wake   func()
	Logger *slog.Logger
}

// TP is a topic partition.
type TP struct {
	Topic     string
	Partition int32
}

// Manager owns the producer id and epoch and, for a transactional producer, the
// transaction state machine. Its methods are safe for concurrent use; the transactional
// ones (Init, Begin, SendOffsets, Commit, Abort) are meant to be called by one goroutine
// at a time, as Java's are.
type Manager struct {
	cfg Config
	log *logsum.Logger // cfg.Logger, summarising repeated failures

	mu       sync.Mutex // guards every field below
	state    State
	pid      int64
	epoch    int16
	have     bool
	fetching bool
	// backingOff: an idempotent InitProducerId failed and the next waits out its backoff
	// (retry.backoff.ms, growing): EnsureIdentity starts none meanwhile, however often the
	// sender runs.
	backingOff bool
	failures   int
	lastErr    error // cause of AbortableError / FatalError
	// denied is an idempotent InitProducerId's authorization error the sender has not yet
	// failed the queued records with (KAFKA-13668; TakeDenied).
	denied error
	// bumpNeeded: the transaction failed in a way that needs a new epoch once aborted
	// (KIP-360), or the idempotent producer must bump before sending more.
	bumpNeeded bool
	// abortBump: an abort reached its epoch bump (state Initializing) and the bump has not
	// completed: only AbortTransaction may resume it, as Java hands a timed-out
	// abortTransaction's pending result back (handleCachedTransactionRequestResult).
	abortBump bool
	// commitSent: Commit reached its EndTxn(commit), so the coordinator may commit the
	// transaction from now on: AbortTransaction is refused (KAFKA-17754), and a commit call
	// that ends without the answer has an unknown outcome.
	commitSent bool
	// unmapped: the transaction's last error was INVALID_PRODUCER_ID_MAPPING, so the
	// coordinator would refuse an EndTxn: the abort goes straight to InitProducerId
	// (Java's beginCompletingTransaction).
	unmapped bool
	// tv2: transactions v2 (KIP-890), partitions added implicitly, EndTxn bumps the epoch.
	// Written under mu between transactions; read by the sender without it.
	tv2           atomic.Bool
	featuresEpoch int64 // finalized-features epoch tv2 was last decided from (Java's latestFinalizedFeaturesEpoch)
	added         map[TP]bool
	pending       map[TP]bool
	offsets       bool // offsets were added to the transaction
	// offsetCommits are the transaction's consumer offsets not yet confirmed by the group
	// coordinator (Java's pendingTxnOffsetCommits): Commit sends them before EndTxn.
	offsetCommits []*offsetCommit
	addWake       chan struct{}
	// adding is non-nil while addLoop has an AddPartitionsToTxn under way, and closed when
	// it ends: an abort waits for it to learn whether the coordinator registered anything.
	adding      chan struct{}
	callsClosed bool // StopCalls ran: transactional calls return the closed error

	coordMu sync.Mutex // guards coords
	coords  map[coordKey]coord

	ctx    context.Context // lives until Close: background work (addLoop, fetchIdempotent)
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines

	callsCtx  context.Context // ends when the producer starts closing: transactional calls
	stopCalls context.CancelFunc
	calls     sync.WaitGroup // transactional calls running on their callers' goroutines
}

// New returns a manager. A transactional one starts Uninitialized; an idempotent one
// fetches its producer id when EnsureIdentity is first called.
func New(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	m := &Manager{cfg: cfg, log: logsum.New(cfg.Logger, 0, nil), pid: -1, epoch: -1, featuresEpoch: -1, added: map[TP]bool{}, pending: map[TP]bool{},
		addWake: make(chan struct{}, 1), coords: map[coordKey]coord{}}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.callsCtx, m.stopCalls = context.WithCancel(context.Background())
	if cfg.TransactionalID != "" {
		m.wg.Add(1)
		go m.addLoop()
	}
	return m
}

// Close ends the transactional calls still running at once (StopCalls) and stops
// background work: nothing of the manager asks for a connection afterwards (the pool's
// owner closes those).
func (m *Manager) Close() {
	now, cancel := context.WithCancel(context.Background())
	cancel()
	m.StopCalls(now)
	m.cancel()
	m.wg.Wait()
}

// Transactional reports whether the producer has a transactional.id.
func (m *Manager) Transactional() bool { return m.cfg.TransactionalID != "" }

// TV2 reports whether transactions v2 (KIP-890) are in use. It does not block: the sender
// reads it for every Produce request.
func (m *Manager) TV2() bool { return m.tv2.Load() }

// State returns the transaction state.
func (m *Manager) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

// Identity returns the producer id and epoch, ok=false while there is none (before the
// first InitProducerId, or during an epoch bump).
func (m *Manager) Identity() (int64, int16, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pid, m.epoch, m.have
}

func (m *Manager) transition(to State) error {
	if !validTransition(m.state, to) {
		return &StateError{Kind: Retriable, Err: fmt.Errorf("%w: cannot go from %s to %s", ErrWrongState, m.state, to)}
	}
	m.state = to
	return nil
}

// enterLocked moves to state to, unless the producer is in an abortable or fatal state
// (that error is returned) or already there: a call that timed out may be made again and
// resumes where it stopped.
func (m *Manager) enterLocked(to State) error {
	if err := m.errLocked(); err != nil {
		return err
	}
	if m.state == to {
		return nil
	}
	return m.transition(to)
}

// abortPendingLocked refuses op while an abort's epoch bump is pending (abortBump): Java
// refuses every other operation until a timed-out abortTransaction is called again.
func (m *Manager) abortPendingLocked(op string) error {
	if !m.abortBump {
		return nil
	}
	return &StateError{Kind: Retriable, Err: fmt.Errorf(
		"%w: cannot %s: the previous AbortTransaction did not finish taking a new epoch: call AbortTransaction again to finish it",
		ErrWrongState, op)}
}

// fail moves to AbortableError or FatalError with cause err (a fatal state is final).
func (m *Manager) failLocked(kind Kind, err error) {
	if m.state == FatalError {
		return
	}
	m.lastErr = err
	var ce *CodeError
	m.unmapped = errors.As(err, &ce) && ce.Code == codeInvalidProducerIDMapping
	if kind == Fatal {
		m.state = FatalError
		return
	}
	if validTransition(m.state, AbortableError) {
		m.state = AbortableError
	}
}

// Err returns the producer's abortable or fatal error as a *StateError, nil otherwise.
func (m *Manager) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.errLocked()
}

func (m *Manager) errLocked() error {
	switch m.state {
	case FatalError:
		return &StateError{Kind: Fatal, Err: m.lastErr}
	case AbortableError:
		return &StateError{Kind: Abortable, Err: m.lastErr}
	}
	return nil
}

func (m *Manager) backoff(attempt int) time.Duration {
	d := m.cfg.RetryBackoff
	for i := 1; i < attempt && d < m.cfg.RetryBackoffMax; i++ {
		d *= 2
	}
	return min(d, m.cfg.RetryBackoffMax)
}

// ---- idempotent identity ----

// EnsureIdentity starts an InitProducerId request in the background for an idempotent
// producer without an id. Transactional producers get theirs from Init.
func (m *Manager) EnsureIdentity() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Transactional() || m.have || m.fetching || m.backingOff || m.state == FatalError || m.ctx.Err() != nil {
		return
	}
	m.fetching = true
	m.wg.Add(1)
	go m.fetchIdempotent(m.pid, m.epoch)
}

// BumpEpoch moves an idempotent producer to the next epoch of its producer id, as Java's
// TransactionManager.bumpIdempotentProducerEpoch does (KIP-360): locally, since the
// broker accepts the next epoch at sequence 0 and from then on refuses the old epoch's
// batches. That fences a batch of the old epoch that reaches the log late (a timed-out
// request a paused or overloaded broker still works off), which would otherwise land
// after records sent later. InitProducerId cannot bump an idempotent producer: without a
// transactional.id the broker always answers with a new producer id
// (TransactionCoordinator.handleInitProducerId), whose sequences do not fence the old
// id's. Only at the last epoch is a new id fetched. The sender calls BumpEpoch once no
// batch is in flight.
func (m *Manager) BumpEpoch() {
	m.mu.Lock()
	if m.Transactional() || m.fetching || m.ctx.Err() != nil {
		m.mu.Unlock()
		return
	}
	if m.have && m.epoch >= 0 && m.epoch < math.MaxInt16 {
		m.epoch++
		m.mu.Unlock()
		m.cfg.Wake()
		return
	}
	defer m.mu.Unlock()
	pid, epoch := m.pid, m.epoch
	m.have = false
	m.fetching = true
	m.wg.Add(1)
	go m.fetchIdempotent(pid, epoch)
}

func (m *Manager) fetchIdempotent(pid int64, epoch int16) {
	defer m.wg.Done()
	newPID, newEpoch, err := m.initProducerID(m.ctx, "", pid, epoch)
	m.mu.Lock()
	m.fetching = false
	if err == nil {
		m.pid, m.epoch, m.have, m.failures = newPID, newEpoch, true, 0
		m.mu.Unlock()
		m.cfg.Wake()
		return
	}
	var ce *CodeError
	denied := errors.As(err, &ce) && initDenied(ce.Code)
	if !denied && ce != nil && ce.kind() == Fatal {
		// The broker lacks a needed version: retrying cannot help. Every record fails
		// with this error, as Java's fatal errors do.
		m.failLocked(Fatal, fmt.Errorf("kprod: InitProducerId: %w", err))
		m.mu.Unlock()
		m.cfg.Wake()
		return
	}
	if denied {
		// Not authorised: not fatal since Java 3.6 (KAFKA-13668). The records waiting for
		// the id fail with it (the sender takes it), and the id is asked for again, so
		// records sent once the ACL is granted go through.
		m.denied = err
		m.cfg.Wake()
	}
	m.failures++
	wait := m.backoff(m.failures)
	// Without a known broker the next attempt waits for metadata (a wake), not a backoff.
	m.backingOff = !errors.Is(err, errNoBroker)
	m.mu.Unlock()
	if m.ctx.Err() != nil {
		return
	}
	if !errors.Is(err, errNoBroker) {
		m.log.Warn("init", "kprod: InitProducerId failed; retrying", "err", err, "in", wait)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		m.mu.Lock()
		m.backingOff = false
		m.mu.Unlock()
		m.cfg.Wake() // the sender calls EnsureIdentity again
	case <-m.ctx.Done():
	}
}

// initProducerID sends InitProducerId: to any broker for an idempotent producer, to the
// transaction coordinator otherwise. With a current id and epoch (v3+) it asks for the
// next epoch of the same id.
func (m *Manager) initProducerID(ctx context.Context, txnID string, pid int64, epoch int16) (int64, int16, error) {
	build := func(c *broker.Conn) kmsg.Request {
		req := kmsg.NewPtrInitProducerIDRequest()
		if txnID != "" {
			req.TransactionalID = &txnID
		}
		req.TransactionTimeoutMillis = int32(min(m.cfg.TransactionTimeout/time.Millisecond, math.MaxInt32))
		req.ProducerID, req.ProducerEpoch = -1, -1
		if c == nil || c.Versions().Supports(req.Key(), 3) {
			req.ProducerID, req.ProducerEpoch = pid, epoch
		}
		return req
	}
	var out *kmsg.InitProducerIDResponse
	handle := func(resp kmsg.Response) error {
		out = resp.(*kmsg.InitProducerIDResponse)
		return codeErr("InitProducerId", out.ErrorCode)
	}
	if txnID == "" {
		c, err := m.anyConn(ctx, nil, "InitProducerId")
		if err != nil {
			return 0, 0, err
		}
		req, err := pinned(c, build(c), 5)
		if err != nil {
			return 0, 0, err
		}
		resp, err := c.Do(ctx, req)
		if err != nil {
			return 0, 0, err
		}
		if err := handle(resp); err != nil {
			return 0, 0, err
		}
		return out.ProducerID, out.ProducerEpoch, nil
	}
	var current *broker.Conn
	err := m.coordinated(ctx, "InitProducerId", keyTxn, txnID, 5, func() kmsg.Request { return build(current) }, handle)
	if err != nil {
		return 0, 0, err
	}
	return out.ProducerID, out.ProducerEpoch, nil
}

// initDenied reports the InitProducerId answers Java 3.6+ recovers from (KAFKA-13668):
// CLUSTER_AUTHORIZATION_FAILED and TRANSACTIONAL_ID_AUTHORIZATION_FAILED. The producer goes
// back to having no id and asks again; the same codes on any other request stay fatal.
func initDenied(code int16) bool {
	return code == codeClusterAuthorization || code == codeTransactionalIDAuth
}

// TakeDenied returns, once, the authorization error an idempotent InitProducerId got:
// the sender fails the records waiting for an id with it (Java's maybeAbortBatches).
func (m *Manager) TakeDenied() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.denied
	m.denied = nil
	return err
}

// ---- transactions ----

// Init is InitTransactions: find the coordinator, get the producer id and epoch (fencing
// older producers with the same transactional.id) and become Ready. After a timeout it may
// be called again and resumes.
func (m *Manager) Init(ctx context.Context) error {
	if !m.Transactional() {
		return &StateError{Kind: Retriable, Err: errors.New("kprod: producer has no transactional.id")}
	}
	ctx, done, err := m.call(ctx, "InitTransactions")
	if err != nil {
		return err
	}
	defer done()
	m.mu.Lock()
	if err := m.abortPendingLocked("InitTransactions"); err != nil {
		m.mu.Unlock()
		return err
	}
	if err := m.enterLocked(Initializing); err != nil {
		m.mu.Unlock()
		return err
	}
	pid, epoch := m.pid, m.epoch
	if !m.have {
		pid, epoch = -1, -1
	}
	m.mu.Unlock()
	return m.reinit(ctx, pid, epoch)
}

// reinit runs InitProducerId for the transactional id and moves Initializing -> Ready.
func (m *Manager) reinit(ctx context.Context, pid int64, epoch int16) error {
	newPID, newEpoch, err := m.initProducerID(ctx, m.cfg.TransactionalID, pid, epoch)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		var ce *CodeError
		if errors.As(err, &ce) && initDenied(ce.Code) {
			// Not authorised: not fatal since Java 3.6 (KAFKA-13668, Sender's
			// shouldHandleAuthorizationError): back to Uninitialized, and InitTransactions
			// may be called again once the ACL is granted. It asks for a new id, as
			// Java's initializeTransactions does.
			m.state, m.have = Uninitialized, false
			m.clearTxnLocked()
			return err
		}
		if errors.As(err, &ce) && ce.kind() == Fatal {
			m.failLocked(Fatal, err)
			return m.errLocked()
		}
		return err // ctx ended or not retriable yet: stay Initializing, Init may be retried
	}
	m.pid, m.epoch, m.have = newPID, newEpoch, true
	m.bumpNeeded = false
	m.decideTV2Locked(true)
	m.clearTxnLocked()
	m.state = Ready
	m.cfg.Wake()
	return nil
}

// decideTV2Locked decides whether transactions use v2 (KIP-890) from the finalized
// transaction.version of the cluster: the level of the highest finalized-features epoch any
// connection reported (broker.Features, Java's ApiVersions), never one connection's view.
// Java decides it in initTransactions and beginTransaction
// (TransactionManager.maybeUpdateTransactionV2Enabled) and so does this, between
// transactions only, so no transaction mixes the two. At an InitProducerId (atInit) the
// current view is taken. At a BeginTransaction a newer epoch is looked at: a switch back to
// v1 (the feature was downgraded) applies at once, while a switch to v2 waits for the next
// InitProducerId (Java bumps the epoch for it) and v1, which v2 brokers still serve, stays in
// use until then.
func (m *Manager) decideTV2Locked(atInit bool) {
	f := m.cfg.Features
	if f == nil {
		m.tv2.Store(false)
		return
	}
	level, epoch, ok := f.Level("transaction.version")
	if !atInit && epoch <= m.featuresEpoch {
		return
	}
	v2 := ok && level >= 2
	if !atInit && v2 && !m.tv2.Load() {
		return
	}
	m.featuresEpoch = epoch
	m.tv2.Store(v2)
}

func (m *Manager) clearTxnLocked() {
	m.abortBump, m.unmapped, m.commitSent = false, false, false
	clear(m.added)
	clear(m.pending)
	m.offsets = false
	m.offsetCommits = nil
}

// Begin is BeginTransaction: Ready -> InTransaction.
func (m *Manager) Begin() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.errLocked(); err != nil {
		return err
	}
	if err := m.abortPendingLocked("BeginTransaction"); err != nil {
		return err
	}
	if err := m.transition(InTransaction); err != nil {
		return err
	}
	m.decideTV2Locked(false)
	return nil
}

// CheckSend returns why a record may not be sent now, nil when it may: a transactional
// producer sends only inside a transaction and not after an abortable or fatal error.
func (m *Manager) CheckSend() error {
	if !m.Transactional() {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.errLocked(); err != nil {
		return err
	}
	if m.state != InTransaction {
		return &StateError{Kind: Retriable, Err: fmt.Errorf("%w: cannot send in state %s (call BeginTransaction first)", ErrWrongState, m.state)}
	}
	return nil
}

// AddPartition notes that the transaction writes to tp. With transactions v1 the
// partition is registered with the coordinator (AddPartitionsToTxn) before the sender may
// send to it; with v2 the Produce request registers it (KIP-890).
func (m *Manager) AddPartition(topic string, partition int32) {
	if !m.Transactional() {
		return
	}
	tp := TP{topic, partition}
	m.mu.Lock()
	if m.added[tp] || m.pending[tp] {
		m.mu.Unlock()
		return
	}
	if m.tv2.Load() {
		m.added[tp] = true
		m.mu.Unlock()
		m.cfg.Wake() // the batch may already be waiting for this
		return
	}
	m.pending[tp] = true
	m.mu.Unlock()
	select {
	case m.addWake <- struct{}{}:
	default:
	}
}

// SendBlock tells the sender what to do with a partition's queued batches: send them
// (nil, false), wait (nil, true), or fail them with err (an abortable or fatal error:
// Java's abortUndrainedBatches).
func (m *Manager) SendBlock(topic string, partition int32) (error, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.Transactional() {
		if m.state == FatalError {
			return m.errLocked(), false
		}
		return nil, false
	}
	switch m.state {
	case FatalError, AbortableError:
		return m.errLocked(), false
	case InTransaction, Committing:
		return nil, !m.added[TP{topic, partition}]
	}
	return nil, true
}

// OnProduceError records a batch's failure inside a transaction and returns its kind:
// every failed batch dooms the transaction (abortable) unless the error is fatal.
func (m *Manager) OnProduceError(code int16, err error) Kind {
	kind := Abortable
	if code != 0 {
		kind = ProduceErrorKind(code)
		if kind == Retriable {
			kind = Abortable // retries ran out: the transaction cannot commit
		}
	}
	if !m.Transactional() {
		return kind
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Sequences or the epoch may be in doubt after any failed batch: the abort then takes
	// a new epoch (KIP-360; transactions v2 get one from every EndTxn anyway).
	m.bumpNeeded = true
	m.failLocked(kind, err)
	m.unmapped = code == codeInvalidProducerIDMapping
	return kind
}

// addLoop registers pending partitions with the coordinator (transactions v1).
func (m *Manager) addLoop() {
	defer m.wg.Done()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-m.addWake:
		}
		for m.ctx.Err() == nil {
			m.mu.Lock()
			var tps []TP
			for tp := range m.pending {
				tps = append(tps, tp)
			}
			pid, epoch := m.pid, m.epoch
			state := m.state
			if len(tps) == 0 || (state != InTransaction && state != Committing) {
				m.mu.Unlock()
				break
			}
			adding := make(chan struct{})
			m.adding = adding
			m.mu.Unlock()
			err := m.addPartitions(tps, pid, epoch)
			m.mu.Lock()
			m.adding = nil
			close(adding)
			m.mu.Unlock()
			if err != nil {
				var ce *CodeError
				kind := Abortable
				if errors.As(err, &ce) {
					kind = ce.kind()
				}
				if m.ctx.Err() != nil {
					return
				}
				m.mu.Lock()
				if ce != nil && (ce.Code == codeUnknownProducerID || ce.Code == codeInvalidProducerIDMapping) {
					// The coordinator does not know the producer id (any more): the
					// abort must take a new epoch, or every later transaction fails the
					// same way (Java's AddPartitionsToTxnHandler: abortableErrorIfPossible).
					m.bumpNeeded = true
				}
				m.failLocked(kind, fmt.Errorf("kprod: AddPartitionsToTxn: %w", err))
				clear(m.pending)
				m.mu.Unlock()
				m.cfg.Wake()
				break
			}
			m.cfg.Wake()
		}
	}
}

func (m *Manager) addPartitions(tps []TP, pid int64, epoch int16) error {
	// Past transaction.timeout.ms the coordinator aborts the transaction anyway.
	ctx, cancel := context.WithTimeoutCause(m.ctx, m.cfg.TransactionTimeout, &limitError{fmt.Errorf(
		"kprod: transaction.timeout.ms (%d ms) expired", m.cfg.TransactionTimeout.Milliseconds())})
	defer cancel()
	build := func() kmsg.Request {
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch = m.cfg.TransactionalID, pid, epoch
		byTopic := map[string]int{}
		for _, tp := range tps {
			i, ok := byTopic[tp.Topic]
			if !ok {
				i = len(req.Topics)
				byTopic[tp.Topic] = i
				rt := kmsg.NewAddPartitionsToTxnRequestTopic()
				rt.Topic = tp.Topic
				req.Topics = append(req.Topics, rt)
			}
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, tp.Partition)
		}
		return req
	}
	handle := func(resp kmsg.Response) error {
		r := resp.(*kmsg.AddPartitionsToTxnResponse)
		if r.ErrorCode != 0 { // v4+ top-level error
			return codeErr("AddPartitionsToTxn", r.ErrorCode)
		}
		asked := make(map[TP]bool, len(tps))
		for _, tp := range tps {
			asked[tp] = true
		}
		var worst int16
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				tp := TP{t.Topic, p.Partition}
				if !asked[tp] {
					continue // not asked for (or answered twice): a broker's answer adds nothing else
				}
				delete(asked, tp)
				if p.ErrorCode == 0 {
					delete(m.pending, tp)
					m.added[tp] = true
					continue
				}
				if worst == 0 || (p.ErrorCode != codeOperationNotAttempted && worst == codeOperationNotAttempted) {
					worst = p.ErrorCode
				}
			}
		}
		if worst != 0 {
			return codeErr("AddPartitionsToTxn", worst)
		}
		if len(asked) > 0 {
			// Java leaves such a partition pending; its batches then wait until they
			// expire. Asking again after a backoff lets a coordinator that only
			// stumbled add it; one that never does ends in the transaction's timeout.
			return fmt.Errorf("%w: AddPartitionsToTxn left out %d of %d partitions", errIncomplete, len(asked), len(tps))
		}
		return nil
	}
	return m.coordinated(ctx, "AddPartitionsToTxn", keyTxn, m.cfg.TransactionalID, 3, build, handle)
}
