package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kprod-io/kprod"
)

// maxTxnAttempts bounds how often one batch of lines is retried in new transactions
// after abortable errors before the command gives up.
const maxTxnAttempts = 10

// produceTransactional commits every size lines (and what is left at the end of input)
// in its own transaction. On an abortable error it aborts and sends the same lines again in
// a new transaction, so every line is committed exactly once; a fatal error stops it.
// Lines that cannot be parsed are reported and counted, as in the plain mode.
func produceTransactional(ctx context.Context, p *kprod.Producer, lr *lineReader, topic string, size int,
	stdin io.Reader, stderr io.Writer) (failed int64, err error) {
	if err := p.InitTransactions(ctx); err != nil {
		return 0, fmt.Errorf("init transactions: %w", err)
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var batch []kprod.Record
	lineNo, committed := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := commitLines(ctx, p, batch, stderr); err != nil {
			return err
		}
		committed += len(batch)
		batch = batch[:0]
		return nil
	}
	for sc.Scan() && ctx.Err() == nil {
		lineNo++
		rec, err := lr.parse(topic, sc.Text())
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "kprod produce: line %d (not written): %v\n", lineNo, err)
			continue
		}
		batch = append(batch, rec)
		if len(batch) >= size {
			if err := flush(); err != nil {
				return failed + int64(len(batch)), err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return failed, fmt.Errorf("reading stdin: %w", err)
	}
	if err := flush(); err != nil {
		return failed + int64(len(batch)), err
	}
	fmt.Fprintf(stderr, "kprod produce: committed %d line(s) in transactions of up to %d\n", committed, size)
	return failed, ctx.Err()
}

// commitLines sends recs in one transaction and commits it, aborting and starting over on
// abortable errors.
func commitLines(ctx context.Context, p *kprod.Producer, recs []kprod.Record, stderr io.Writer) error {
	var lastErr error
	for attempt := 1; attempt <= maxTxnAttempts; attempt++ {
		err := oneTransaction(ctx, p, recs)
		if err == nil {
			return nil
		}
		var fatal *kprod.FatalError
		if errors.As(err, &fatal) || ctx.Err() != nil {
			return err
		}
		lastErr = err
		fmt.Fprintf(stderr, "kprod produce: transaction of %d line(s) failed (attempt %d), aborting and sending them again: %v\n",
			len(recs), attempt, err)
		abortCtx, cancel := context.WithTimeout(ctx, time.Minute)
		aerr := p.AbortTransaction(abortCtx)
		cancel()
		if aerr != nil {
			return fmt.Errorf("abort after %v: %w", err, aerr)
		}
	}
	return fmt.Errorf("gave up after %d transactions: %w", maxTxnAttempts, lastErr)
}

func oneTransaction(ctx context.Context, p *kprod.Producer, recs []kprod.Record) error {
	if err := p.BeginTransaction(); err != nil {
		return err
	}
	var mu sync.Mutex
	var sendErr error
	for i := range recs {
		err := p.Send(ctx, &recs[i], func(_ kprod.RecordMetadata, err error) {
			if err != nil {
				mu.Lock()
				if sendErr == nil {
					sendErr = err
				}
				mu.Unlock()
			}
		})
		if err != nil {
			return err
		}
	}
	err := p.CommitTransaction(ctx)
	for err != nil && ctx.Err() == nil && !isTxnError(err) {
		// The commit's outcome is unknown (a timeout): finish the same commit; it never
		// turns into an abort.
		err = p.CommitTransaction(ctx)
	}
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return sendErr // nil: a failed record makes the commit itself fail
}

func isTxnError(err error) bool {
	var a *kprod.AbortableError
	var f *kprod.FatalError
	return errors.As(err, &a) || errors.As(err, &f) || errors.Is(err, kprod.ErrInvalidTxnState)
}
