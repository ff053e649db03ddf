package txn

import (
	"context"
	"errors"
	"fmt"
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
		cancel(&closeError{fmt.Errorf("%w during %s", m.closedErr(), op)})
	})
	tcancel := context.CancelFunc(func() {})
	if m.cfg.MaxBlock > 0 {
		ctx, tcancel = context.WithTimeoutCause(ctx, m.cfg.MaxBlock,
			fmt.Errorf("%w: max.block.ms (%d ms) expired during %s", ErrTimeout, m.cfg.MaxBlock.Milliseconds(), op))
	}
	return ctx, func() {
		tcancel()
		stop()
		cancel(nil)
		m.calls.Done()
	}, nil
}

// StopCalls makes every running and later transactional call return the closed error and
// waits until the running ones have returned. The producer calls it as Close starts.
func (m *Manager) StopCalls() {
	m.mu.Lock()
	m.callsClosed = true
	m.mu.Unlock()
	m.stopCalls()
	m.calls.Wait()
}

func (m *Manager) closedErr() error {
	if m.cfg.ErrClosed != nil {
		return m.cfg.ErrClosed
	}
	return errClosed
}

// ended is the error of a call whose ctx ended while it was waiting for what, last the
// last error seen before (nil if none). It says which limit ended it: max.block.ms
// (ErrTimeout), the producer's close (the closed error) or the caller's ctx (wrapping
// context.DeadlineExceeded or context.Canceled, and the caller's cause if it gave one).
func ended(ctx context.Context, what string, last error) error {
	cause := context.Cause(ctx)
	err := ctx.Err()
	switch {
	case err == nil:
		return last
	case errors.Is(cause, ErrTimeout) || isClosed(cause):
		err = cause
	case cause != nil && cause != err:
		err = fmt.Errorf("kprod: %w: %w", err, cause)
	default:
		err = fmt.Errorf("kprod: %w", err)
	}
	if last != nil {
		return fmt.Errorf("%w while awaiting %s (last error: %v)", err, what, last)
	}
	return fmt.Errorf("%w while awaiting %s", err, what)
}

func isClosed(err error) bool {
	var cc *closeError
	return errors.As(err, &cc)
}

// closeError wraps the closed error so that ended recognises it whatever error the
// producer chose for ErrClosed.
type closeError struct{ err error }

func (e *closeError) Error() string { return e.err.Error() }
func (e *closeError) Unwrap() error { return e.err }
