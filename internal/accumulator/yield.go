package accumulator

import "runtime"

// wakeReason says why an append wakes the sender.
type wakeReason uint8

const (
	wakeNone   wakeReason = iota
	wakeLinger            // a queue got its first batch: the sender starts its linger clock
	wakeSealed            // a batch was sealed: the sender can send it now
)

// yieldToSender lets the sender run after an append sealed a batch, on one P. Java's
// sender is a thread the kernel schedules as soon as append wakes it; a goroutine woken
// here waits in this P's run queue until the appending goroutine blocks or is
// preempted (10 ms). A caller sending in a loop blocks only when buffer.memory is
// spent, so with GOMAXPROCS=1 (a container limited to one CPU) nothing was sent until
// the whole budget was queued: the broker idled while the client filled 32 MiB, then
// the client idled while the broker caught up, and each batch was written long after
// its bytes were copied, from cold memory. One yield per sealed batch (per batch.size
// of records) lets the sender write it at once. With more Ps an idle one takes the
// sender within microseconds, and yielding would only put the caller behind other
// goroutines (BenchmarkSend: +50% at 100 B). The yield changes no outcome; on one P
// callbacks may now run before the caller's next Send, as they could with more Ps.
// GOMAXPROCS is read at every sealed batch (one lock), not cached: since Go 1.25 the
// runtime changes it when the container's CPU limit changes. After the yield the sender
// may hold the caller (Config.Pause, at most 10 ms) while nothing more can be written:
// the yield lets the sender run, the hold lets the runtime poll for the answers that
// free its slots (sender/pace.go).
func (a *Accumulator) yieldToSender() {
	if runtime.GOMAXPROCS(0) == 1 {
		runtime.Gosched()
		a.cfg.Pause()
	}
}
