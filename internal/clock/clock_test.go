package clock

import (
	"sync"
	"testing"
	"time"
)

// TestWallMillisFollowsTimeNow checks WallMillis against time.Now around it, across
// several rebases and from concurrent callers.
func TestWallMillisFollowsTimeNow(t *testing.T) {
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * RebaseEvery)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline); n++ {
				before := time.Now().UnixMilli()
				got := WallMillis()
				after := time.Now().UnixMilli()
				// One millisecond of slack either side: the anchor's midpoint pairing and
				// the truncation to milliseconds can each move a reading across a boundary.
				if got < before-1 || got > after+1 {
					t.Errorf("call %d: WallMillis %d outside time.Now's [%d, %d]", n, got, before, after)
					return
				}
				if n%1000 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
}

// TestRebaseAfterInterval checks that an anchor older than RebaseEvery is replaced,
// so a wall-clock step shows within that interval.
func TestRebaseAfterInterval(t *testing.T) {
	WallMillis()
	stale := &anchor{mono: nanotime() - int64(RebaseEvery), wall: 0} // a wall clock "stepped" far away
	current.Store(stale)
	got := WallMillis()
	if current.Load() == stale {
		t.Fatal("anchor not replaced after RebaseEvery")
	}
	if now := time.Now().UnixMilli(); got < now-1000 || got > now+1000 {
		t.Fatalf("WallMillis %d after rebase, time.Now %d", got, now)
	}
	fresh := &anchor{mono: nanotime(), wall: 42 * int64(time.Millisecond)}
	current.Store(fresh)
	if got := WallMillis(); got < 42 || got > 42+RebaseEvery.Milliseconds() {
		t.Fatalf("fresh anchor not used: %d", got)
	}
	current.Store(nil)
}

func BenchmarkWallMillis(b *testing.B) {
	var s int64
	for b.Loop() {
		s += WallMillis()
	}
	_ = s
}

func BenchmarkTimeNowUnixMilli(b *testing.B) {
	var s int64
	for b.Loop() {
		s += time.Now().UnixMilli()
	}
	_ = s
}
