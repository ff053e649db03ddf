package sender

import (
	"runtime"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/config"
)

// paceSender is a sender over an empty accumulator on the test's clock, with
// max.request.size 100 and the pause bound 10 ms; GOMAXPROCS is procs during the test.
func paceSender(t *testing.T, procs int) (*Sender, *testClock) {
	t.Helper()
	prev := runtime.GOMAXPROCS(procs)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	clock := &testClock{now: time.Unix(1000, 0)}
	s, err := New(Config{Settings: config.Settings{MaxRequestSize: 100},
		Acc:  accumulator.New(accumulator.Config{BatchSize: 1024, BufferMemory: 1 << 20}),
		Pool: testPool(t), Now: clock.Now, Complete: func(*accumulator.Batch, Result) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(nil) })
	return s, clock
}

// pass runs one sender pass that finds blocked bytes behind taken in-flight slots.
func pass(s *Sender, blocked int64) time.Time {
	s.pace.blocked = blocked
	return s.RunOnce()
}

// pausedSend calls Pause on a goroutine, waits until it is held, and returns a channel
// closed when Pause returns.
func pausedSend(t *testing.T, s *Sender) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); s.Pause() }()
	for deadline := time.Now().Add(time.Minute); s.Paused() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Pause did not hold while the sender held appenders")
		}
	}
	return done
}

func released(t *testing.T, done <-chan struct{}, by string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("a held Pause did not return after %s", by)
	}
}

// TestPaceHoldEndsAtBound: a pass with max.request.size waiting behind taken slots holds
// appenders and asks to run again at the bound; the pass at the bound lets them go and
// holds no more until an answer is handled.
func TestPaceHoldEndsAtBound(t *testing.T) {
	s, clock := paceSender(t, 1)
	start := clock.Now()
	if next := pass(s, 100); !s.pace.held.Load() || !next.Equal(start.Add(DefaultPauseBound)) {
		t.Fatalf("after a pass with a request waiting: held %v, next pass at %v; want held, next at %v",
			s.pace.held.Load(), next.Sub(start), DefaultPauseBound)
	}
	done := pausedSend(t, s)
	clock.Add(DefaultPauseBound - time.Nanosecond)
	if next := pass(s, 100); !s.pace.held.Load() || !next.Equal(start.Add(DefaultPauseBound)) {
		t.Fatalf("just before the bound: held %v, next pass at %v", s.pace.held.Load(), next.Sub(start))
	}
	clock.Add(time.Nanosecond)
	if next := pass(s, 100); s.pace.held.Load() || !next.IsZero() {
		t.Fatalf("at the bound: held %v, next pass at %v; want released, no pass due", s.pace.held.Load(), next)
	}
	released(t, done, "the bound")
	if pass(s, 100); s.pace.held.Load() {
		t.Fatal("held again after the bound, with no answer since")
	}
	s.pace.answered = true // handleResponses handled an answer
	if pass(s, 100); !s.pace.held.Load() {
		t.Fatal("not held after an answer, with a request waiting behind taken slots")
	}
}

// TestPaceHold: what holds appenders and what lets them go.
func TestPaceHold(t *testing.T) {
	t.Run("less than a request waits", func(t *testing.T) {
		s, _ := paceSender(t, 1)
		if pass(s, 99); s.pace.held.Load() {
			t.Fatal("held with less than max.request.size waiting")
		}
	})
	t.Run("more than one P", func(t *testing.T) {
		s, _ := paceSender(t, 2)
		if pass(s, 1000); s.pace.held.Load() {
			t.Fatal("held with GOMAXPROCS=2: an idle P reads the answers")
		}
	})
	t.Run("the next pass finds less waiting", func(t *testing.T) {
		s, _ := paceSender(t, 1)
		pass(s, 100)
		done := pausedSend(t, s)
		if pass(s, 50); s.pace.held.Load() {
			t.Fatal("still held after a pass that found less than a request waiting")
		}
		released(t, done, "the pass that found less waiting")
	})
	t.Run("Shutdown", func(t *testing.T) {
		s, _ := paceSender(t, 1)
		pass(s, 100)
		done := pausedSend(t, s)
		s.Shutdown(nil)
		released(t, done, "Shutdown")
		s.pace.held.Store(true) // a late pass: Pause must not hold after Shutdown
		ok := make(chan struct{})
		go func() { defer close(ok); s.Pause() }()
		released(t, ok, "Shutdown, for a later Pause")
	})
}
