package clock

import (
	"testing"
	"time"
)

func TestCoarseTracksTheWallClock(t *testing.T) {
	c := New()
	defer c.Stop()
	for range 50 {
		got, want := c.NowMilli(), time.Now().UnixMilli()
		if d := want - got; d < -2 || d > 20 {
			t.Fatalf("coarse clock %d is %d ms off the wall clock", got, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestCoarseParksAndWakes(t *testing.T) {
	c := New()
	defer c.Stop()
	c.NowMilli()
	deadline := time.Now().Add(5 * time.Second)
	for c.ms.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the clock never parked while unused")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got, want := c.NowMilli(), time.Now().UnixMilli(); want-got > 2 {
		t.Fatalf("a parked clock answered %d, %d ms old", got, want-got)
	}
	deadline = time.Now().Add(time.Second)
	for c.ms.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the clock did not wake up when read")
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkNowMilli(b *testing.B) {
	c := New()
	defer c.Stop()
	for b.Loop() {
		c.NowMilli()
	}
}

func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		_ = time.Now().UnixMilli()
	}
}
