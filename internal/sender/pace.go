package sender

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod/internal/accumulator"
)

// DefaultPauseBound is the longest the sender holds appenders back waiting for an
// answer (Config.PauseBound). Go's own scheduler gives a goroutine 10 ms before it
// preempts it and polls the network. Past it the broker is slow, not busy: appenders go
// on queueing up to buffer.memory, as Java's do, until an answer comes.
const DefaultPauseBound = 10 * time.Millisecond

// pacer holds back appenders on one P while the sender cannot write anything more.
//
// With GOMAXPROCS=1 the Go scheduler polls the network only when no goroutine is
// runnable (or every 10 ms from sysmon). A caller sending in a loop is always runnable,
// so the answers that free in-flight slots are read late and the caller goes on copying
// records into a queue that nothing can drain: it fills buffer.memory, and each batch
// reaches writev long after its bytes were copied, from memory the caches no longer
// hold (1 KiB values on the sink: about a quarter more CPU per record with buffer.memory
// at 32 MiB than at 4 MiB). Java's sender is a thread the kernel runs as soon as the answer arrives,
// whatever the caller does. So when every in-flight slot is taken and a whole request
// (max.request.size) already waits behind them, an append that sealed a batch waits for
// the sender's next pass after an answer: the runtime, with nothing runnable, polls the
// network at once. Nothing appended meanwhile could have been sent before that answer,
// so throughput does not drop; the queue stays a request or two deep instead of
// buffer.memory.
type pacer struct {
	held atomic.Bool // appenders that sealed a batch wait for the next release
	mu   sync.Mutex
	cond sync.Cond // broadcast at release; L is &mu
	gen  uint64    // releases so far; guarded by mu
	shut bool      // Shutdown: never hold again; guarded by mu
	wait int       // appenders waiting; guarded by mu

	// Sender goroutine only.
	bound    time.Duration
	heldAt   time.Time
	stalled  bool  // held for bound without an answer: not again until one
	answered bool  // an answer was handled since the last pass
	blocked  int64 // during a pass: bytes queued behind taken in-flight slots
}

// Pause blocks while the sender holds appenders back, until its next release: at most
// Config.PauseBound from when the hold began, whatever the caller's ctx (a Send's ctx
// bounds its waits for metadata and memory, and this is neither). The accumulator calls
// it on one P after an append sealed a batch. The hold is the sender's, not a
// partition's: a Send to another topic or broker that seals a batch meanwhile waits
// too, as it would behind the held one on the same P.
func (s *Sender) Pause() {
	pc := &s.pace
	if !pc.held.Load() {
		return
	}
	pc.mu.Lock()
	gen := pc.gen
	pc.wait++
	for pc.held.Load() && pc.gen == gen && !pc.shut {
		pc.cond.Wait()
	}
	pc.wait--
	pc.mu.Unlock()
}

// Paused returns how many appenders wait in Pause.
func (s *Sender) Paused() int {
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	return s.pace.wait
}

// blockedBehind counts p's queued bytes, which wait for an answer to free an in-flight
// slot.
func (s *Sender) blockedBehind(p *accumulator.Partition) {
	s.pace.blocked += p.QueuedCharged()
}

// updatePace decides, at the end of a pass over the ready partitions, whether appenders
// are held: on one P, nothing was sent and at least max.request.size waits behind taken
// in-flight slots. It returns when the sender must look again (zero: no need).
func (s *Sender) updatePace(now time.Time, sent bool) time.Time {
	pc := &s.pace
	if pc.answered {
		pc.stalled = false
	}
	want := !sent && !pc.stalled && pc.blocked >= int64(s.set.MaxRequestSize)
	pc.answered, pc.blocked = false, 0
	// With more Ps an idle one reads the answers; GOMAXPROCS is read per pass, not per
	// record, and only when a hold is otherwise due (it takes the scheduler's lock).
	want = want && runtime.GOMAXPROCS(0) == 1
	if want && pc.held.Load() && now.Sub(pc.heldAt) >= pc.bound {
		want, pc.stalled = false, true
	}
	switch {
	case want && !pc.held.Load():
		pc.heldAt = now
		pc.held.Store(true)
	case !want && pc.held.Load():
		s.release(false)
	}
	if pc.held.Load() {
		return pc.heldAt.Add(pc.bound)
	}
	return time.Time{}
}

// release lets held appenders go; with shut, for good.
func (s *Sender) release(shut bool) {
	pc := &s.pace
	pc.mu.Lock()
	pc.held.Store(false)
	pc.gen++
	pc.shut = pc.shut || shut
	pc.cond.Broadcast()
	pc.mu.Unlock()
}
