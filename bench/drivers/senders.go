package drivers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// forker is a client that several goroutines may send through at once: fork returns
// the producer one more goroutine sends with, sharing the client but none of the
// per-send scratch state (kprod's reused Record). Only the original is closed.
type forker interface {
	fork() producer
}

// sendAll sends records [from, from+n) from o.Goroutines goroutines; goroutine g sends
// records g, g+N, g+2N..., so payloads, keys and (paced) intended send times follow the
// same sequence as with one sender. Unpaced, the senders together keep at most
// buffer-bytes of unacknowledged values in flight (an equal bound for clients that have
// none); paced, record i is due at start + i*period and each sender sends its due
// records in bursts after each sleep. The first error stops every sender and is returned.
func sendAll(ctx context.Context, p producer, tr *tracker, o Options, from, n int, paced bool) error {
	maxInFlight := int64(max(o.BufferBytes/o.ValueSize, 1024))
	if paced {
		tr.start = mono() // before the senders start: they only read it
	}
	senders := max(o.Goroutines, 1)
	if senders == 1 {
		return sendShare(ctx, p, tr, from, n, 0, 1, paced, maxInFlight, nil)
	}
	f, ok := p.(forker)
	if !ok {
		return fmt.Errorf("%s cannot send from several goroutines", o.Client)
	}
	forks := []producer{p}
	for len(forks) < senders { // all before any sender starts: a fork copies p
		forks = append(forks, f.fork())
	}
	// A sender's error stops the others through stop, not by cancelling ctx: kgo fails
	// the buffered records of a cancelled Produce context.
	var (
		wg    sync.WaitGroup
		stop  atomic.Bool
		first atomic.Pointer[error]
	)
	for g, sp := range forks {
		wg.Go(func() {
			if err := sendShare(ctx, sp, tr, from, n, g, senders, paced, maxInFlight, &stop); err != nil {
				first.CompareAndSwap(nil, &err)
				stop.Store(true)
			}
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return *err
	}
	return nil
}

// errStopped ends a sender whose sibling failed.
var errStopped = errors.New("stopped: another sender failed")

// sendShare sends records first, first+step, ... below n. The in-flight bound is
// checked every 1024 sends against every sender's count (tr.sent), so several
// senders share one bound instead of each having its own; stop, when set, is checked
// there too.
func sendShare(ctx context.Context, p producer, tr *tracker, from, n, first, step int, paced bool, maxInFlight int64, stop *atomic.Bool) error {
	latency := tr.slots != nil
	var unsent int64 // sends not yet added to tr.sent
	for i := first; i < n; {
		end := n
		if paced {
			due := int(float64(mono()-tr.start)/tr.period) + 1 // records [0, due) are due
			if due <= i {
				time.Sleep(time.Duration(float64(i)*tr.period) - time.Duration(mono()-tr.start))
				continue
			}
			end = min(due, n)
		}
		for ; i < end; i += step {
			var s *slot
			if latency {
				s = &tr.slots[(from+i)%len(tr.slots)]
				// Claimed, not just awaited: with several senders, two records a ring
				// apart may be waiting for the same slot.
				for !s.busy.CompareAndSwap(false, true) {
					time.Sleep(50 * time.Microsecond)
				}
				s.idx = int64(i)
			}
			if err := p.send(ctx, from+i, s); err != nil {
				return err
			}
			if unsent++; unsent == 1024 {
				tr.sent.Add(unsent)
				unsent = 0
				if stop != nil && stop.Load() {
					return errStopped
				}
				for tr.sent.Load()-tr.done.Load() > maxInFlight {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					time.Sleep(50 * time.Microsecond)
				}
			}
		}
	}
	return nil
}
