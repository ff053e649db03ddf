package txn

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrTimeout is wrapped by a transactional call that max.block.ms ended, as Java's
// TransactionalRequestResult.await throws a TimeoutException: the call may be made again
// and resumes where it stopped. It never wraps context.DeadlineExceeded, which is kept for
// the caller's own ctx.
var ErrTimeout = errors.New("kprod: transaction call timed out")

// errClosed stands for Config.ErrClosed when none is set.
var errClosed = errors.New("kprod: producer is closed")

// call starts one transactional call (InitTransactions, SendOffsetsToTransaction,
// CommitTransaction, AbortTransaction) on the caller's goroutine. The returned ctx ends
// when the caller's ctx ends, when max.block.ms passes (Java bounds each of these calls by
// max.block.ms) or when the producer closes; context.Cause tells which. Close waits for
// every call to return, so no coordinator request, dial or retry outlives it. done must
// be called when the call returns.
func (m *Manager) call(ctx context.Context, op string) (context.Context, func(), error) {
	m.mu.Lock()
	if m.callsClosed {
		m.mu.Unlock()
		return nil, nil, fmt.Errorf("%w: %s", m.closedErr(), op)
	}
	m.calls.Add(1)
	m.mu.Unlock()

	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(m.callsCtx, func() {
		cancel(&limitError{fmt.Errorf("%w during %s", m.closedErr(), op)})
	})
	tcancel := context.CancelFunc(func() {})
	if m.cfg.MaxBlock > 0 {
		ctx, tcancel = context.WithTimeoutCause(ctx, m.cfg.MaxBlock,
			&limitError{fmt.Errorf("%w: max.block.ms (%d ms) expired during %s", ErrTimeout, m.cfg.MaxBlock.Milliseconds(), op)})
	}
	return ctx, func() {
		tcancel()
		stop()
		cancel(nil)
		m.calls.Done()
	}, nil
}

// StopCalls makes every later transactional call return the closed error and waits for
// the running ones to return: until ctx ends, then it interrupts them (they return the
// closed error) and waits until they have. The producer's Close calls it, so a call
// blocked when Close starts finishes within Close's deadline, as Java's close lets the
// sender finish pending transactional requests, and none outlives Close.
func (m *Manager) StopCalls(ctx context.Context) {
	m.mu.Lock()
	m.callsClosed = true // no call starts (calls.Add) from now on
	m.mu.Unlock()
	returned := make(chan struct{})
	go func() {
		m.calls.Wait()
		close(returned)
	}()
	select {
	case <-returned:
	case <-ctx.Done():
	}
	m.stopCalls()
	<-returned
}

func (m *Manager) closedErr() error {
	if m.cfg.ErrClosed != nil {
		return m.cfg.ErrClosed
	}
	return errClosed
}

// ended is the error of a call whose ctx ended while it was waiting for what, last the
// last error seen before (nil if none). It says which limit ended it: one of the
// producer's own (a *limitError cause: max.block.ms wrapping ErrTimeout, the producer's
// close wrapping the closed error, transaction.timeout.ms), or the caller's ctx (wrapping
// context.DeadlineExceeded or context.Canceled, and the caller's cause if it gave one).
// Only the caller's ctx makes it wrap the context errors.
func ended(ctx context.Context, what string, last error) error {
	return endedAt(ctx, what, nil, last)
}

// endedAt is ended for a coordinator call that knows where it was (p, nil if it does
// not): the message says which wait the ctx cut short and how long the call had run.
func endedAt(ctx context.Context, what string, p *progress, last error) error {
	cause := context.Cause(ctx)
	err := ctx.Err()
	var own *limitError
	switch {
	case err == nil:
		return last
	case errors.As(cause, &own):
		err = own.err
	case cause != nil && cause != err:
		err = fmt.Errorf("kprod: the caller's ctx ended: %w: %w", err, cause)
	default:
		err = fmt.Errorf("kprod: the caller's ctx ended: %w", err)
	}
	var notes []string
	if p != nil {
		notes = append(notes, p.String())
	}
	if last != nil {
		notes = append(notes, fmt.Sprintf("last error: %v", last))
	}
	if len(notes) > 0 {
		return fmt.Errorf("%w while awaiting %s (%s)", err, what, strings.Join(notes, "; "))
	}
	return fmt.Errorf("%w while awaiting %s", err, what)
}

// limitError is the cause of a ctx one of the producer's own limits ended; ended unwraps
// it, so the context errors of the caller's ctx never appear in its chain.
type limitError struct{ err error }

func (e *limitError) Error() string { return e.err.Error() }
func (e *limitError) Unwrap() error { return e.err }
