package pool

import (
	"math"
	"math/rand/v2"
	"time"
)

// jitter is Java's 20% for both reconnect.backoff.ms and
// socket.connection.setup.timeout.ms (ClusterConnectionStates'
// RECONNECT_BACKOFF_EXP_JITTER and CONNECTION_SETUP_TIMEOUT_JITTER).
const jitter = 0.2

// expBackoff is Java's ExponentialBackoff with multiplier 2: initial doubled
// per attempt up to max, times a random factor in [1-jitter, 1+jitter), then
// capped at max. The exponent stops where the term reaches max, so the cap is
// exact rather than a doubling past it.
type expBackoff struct {
	initial, max time.Duration
	expMax       float64 // 0: no growth and no jitter (max <= initial)
}

func newExpBackoff(initial, max time.Duration) expBackoff {
	b := expBackoff{initial: min(initial, max), max: max}
	if max > initial {
		b.expMax = math.Log2(float64(max) / float64(time.Duration(math.Max(float64(initial), 1))))
	}
	return b
}

// at is the backoff after attempts earlier attempts; u in [0,1) draws the jitter.
func (b expBackoff) at(attempts int, u float64) time.Duration {
	if b.expMax == 0 {
		return b.initial
	}
	term := float64(b.max) // at the top, exactly: 2^log2(max/initial) may fall a hair short
	if float64(attempts) < b.expMax {
		term = float64(b.initial) * math.Pow(2, float64(attempts))
	}
	d := time.Duration((1 - jitter + 2*jitter*u) * term)
	return min(d, b.max)
}

// random draws the jitter; dials run on many goroutines, so the global source.
func random() float64 { return rand.Float64() }
