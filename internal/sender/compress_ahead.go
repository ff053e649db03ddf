package sender

import (
	"runtime"
	"sync"

	"kprod/internal/accumulator"
	"kprod/internal/wire"
)

// compressAhead compresses, in parallel, the sealed batches of one request that have
// never been encoded, before encode stamps and adds them one by one. Compression is most
// of a compressed producer's CPU; on the sender goroutine alone it would cap throughput
// at one core however many partitions are ready (Java spreads it over the threads
// calling send). The helpers are spawned and joined within the call, so none outlives
// the sender's pass. A batch whose compression fails is left unencoded: encode retries
// it and reports the error the usual way.
func (s *Sender) compressAhead(batches []*accumulator.Batch) {
	if s.comp == nil || len(batches) < 2 {
		return
	}
	workers := min(runtime.GOMAXPROCS(0), len(batches))
	if workers < 2 {
		return
	}
	opts := s.batchOptions()
	var next int
	var mu sync.Mutex
	take := func() *accumulator.Batch {
		mu.Lock()
		defer mu.Unlock()
		if next == len(batches) {
			return nil
		}
		next++
		return batches[next-1]
	}
	work := func() {
		for b := take(); b != nil; b = take() {
			if out, err := b.Builder().FinishCompressed(b.CompressBuffer(), wire.Codec(s.comp.Codec()), s.comp.Compress, opts); err == nil {
				b.SetEncoded(out, out)
			}
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
