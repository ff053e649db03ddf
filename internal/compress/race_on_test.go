//go:build race

package compress

// raceEnabled reports whether the race detector is on: it allocates on its
// own, so allocation counts are only checked without it.
const raceEnabled = true
