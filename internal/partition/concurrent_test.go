package partition

import (
	"sync"
	"testing"
	"time"
)

// TestStickyConcurrentProtocol drives the sticky partitioner the way the
// accumulator does (peek, lock the partition's queue, check Changed, append,
// OnAppend under the lock) from many goroutines while the sender publishes
// load statistics and node latencies. Run with -race. Every finished stint
// must hold at least batch.size bytes and less than batch.size plus one
// record: the switch happens exactly at the crossing append, and no record
// joins a stint after it ended.
func TestStickyConcurrentProtocol(t *testing.T) {
	const (
		numPartitions = 8
		batchSize     = 1000
		maxRecord     = 200
		goroutines    = 8
		perGoroutine  = 4000
	)
	parts := partitionsWithout(numPartitions)
	s := NewSticky(batchSize, seededRand(11))
	nl := NewNodeLatency(50*time.Millisecond, time.Unix(0, 0))
	locks := make([]sync.Mutex, numPartitions)

	var bookMu sync.Mutex
	stintBytes := map[*StickyPartition]int{}

	stop := make(chan struct{})
	var sender sync.WaitGroup
	sender.Add(1)
	go func() {
		defer sender.Done()
		var l LoadStats
		for pass := 0; ; pass++ {
			select {
			case <-stop:
				return
			default:
			}
			now := time.Unix(0, 0).Add(time.Duration(pass) * time.Millisecond)
			nl.Update(int32(pass%3), now, pass%7 != 0)
			l.Reset(pass%5 != 0, numPartitions, numPartitions)
			for p := int32(0); p < numPartitions; p++ {
				l.Add(p, (pass+int(p))%4, nl.Unavailable(p%3))
			}
			s.UpdateLoadStats(&l)
			time.Sleep(20 * time.Microsecond) // paces the updates between the readers' picks; any interleaving is valid
		}
	}()

	var wg sync.WaitGroup
	var totalMu sync.Mutex
	total := 0
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := 0
			for i := 0; i < perGoroutine; i++ {
				size := 1 + (i*37+g*11)%maxRecord
				for {
					sp := s.Peek(parts)
					p := sp.Partition()
					locks[p].Lock()
					if s.Changed(sp) {
						locks[p].Unlock()
						continue
					}
					bookMu.Lock()
					stintBytes[sp] += size
					bookMu.Unlock()
					s.OnAppend(sp, size, true, parts)
					locks[p].Unlock()
					break
				}
				sent += size
			}
			totalMu.Lock()
			total += sent
			totalMu.Unlock()
		}()
	}
	wg.Wait()
	close(stop)
	sender.Wait()

	current := s.Peek(parts)
	sum := 0
	for sp, b := range stintBytes {
		sum += b
		if got := int(sp.produced); got != b {
			t.Errorf("stint on %d counted %d bytes, appended %d", sp.Partition(), got, b)
		}
		if sp == current {
			continue
		}
		if b < batchSize || b >= batchSize+maxRecord {
			t.Errorf("finished stint on %d held %d bytes, want [%d, %d)", sp.Partition(), b, batchSize, batchSize+maxRecord)
		}
	}
	if sum != total {
		t.Fatalf("stints account for %d bytes, %d appended", sum, total)
	}
	if len(stintBytes) < total/(batchSize+maxRecord) {
		t.Fatalf("only %d stints for %d bytes", len(stintBytes), total)
	}
}

// The common case, no switch: Peek, Changed and OnAppend only.
func TestStickyCommonCaseDoesNotAllocate(t *testing.T) {
	parts := partitionsWithout(12)
	s := NewSticky(1<<30, nil)
	if a := testing.AllocsPerRun(1000, func() {
		sp := s.Peek(parts)
		if !s.Changed(sp) {
			s.OnAppend(sp, 100, true, parts)
		}
	}); a != 0 {
		t.Fatalf("%v allocations per record", a)
	}
}

// BenchmarkSticky measures the per-record cost of the protocol with 100-byte
// records: "steady" with the default batch.size (a switch every 164 records,
// amortized), "no-switch" the pure common case, "parallel" all CPUs
// appending to one topic.
func BenchmarkSticky(b *testing.B) {
	parts := partitionsWithout(12)
	record := func(s *Sticky) {
		sp := s.Peek(parts)
		if !s.Changed(sp) {
			s.OnAppend(sp, 100, true, parts)
		}
		sinkPartition = sp.Partition()
	}
	b.Run("steady", func(b *testing.B) {
		s := NewSticky(16384, nil)
		b.ReportAllocs()
		for b.Loop() {
			record(s)
		}
	})
	b.Run("no-switch", func(b *testing.B) {
		s := NewSticky(1<<30, nil)
		b.ReportAllocs()
		for b.Loop() {
			record(s)
		}
	})
	b.Run("adaptive", func(b *testing.B) {
		s := NewSticky(16384, nil)
		publish(s, 0, 3, 1, 0, 5, 2, 0, 1, 4, 0, 2, 1)
		b.ReportAllocs()
		for b.Loop() {
			record(s)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := NewSticky(16384, nil)
		var locks [12]sync.Mutex // the partition queues' locks OnAppend runs under
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				sp := s.Peek(parts)
				mu := &locks[sp.Partition()]
				mu.Lock()
				if !s.Changed(sp) {
					s.OnAppend(sp, 100, true, parts)
				}
				mu.Unlock()
			}
		})
	})
}
