// Package logsum keeps a failure that repeats from flooding the log (issue 13): the
// first occurrence of a kind of event is logged as it comes, later ones within the
// interval are only counted, and the first one after the interval has passed is logged
// with that count ("... (repeated 57 times in the last 1m0s)"). An unreachable broker,
// dialed once per reconnect.backoff.max.ms, so costs one line a minute instead of one a
// second, and a retry storm one line per kind instead of one per batch.
//
// Events are grouped by a key the caller chooses (the broker's address, the topic):
// different brokers failing are different lines. Logging is off the hot path: every
// event it sees is a failure.
package logsum

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultInterval is how long repeats of one kind of event are counted before the next
// one is logged with the count.
const DefaultInterval = time.Minute

// Logger summarises repeated events before handing them to an slog.Logger. Its methods
// are safe for concurrent use; the zero value is not usable: call New.
type Logger struct {
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time

	mu    sync.Mutex // guards kinds
	kinds map[string]*kind
}

// kind is one key's state: when its current interval began and how many events of it
// were counted without being logged since.
type kind struct {
	start      time.Time
	suppressed int
}

// New returns a Logger writing to l (a nil l discards) that summarises over interval
// (DefaultInterval if not positive), reading the time from now (time.Now if nil).
func New(l *slog.Logger, interval time.Duration, now func() time.Time) *Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	if now == nil {
		now = time.Now
	}
	return &Logger{log: l, interval: interval, now: now, kinds: map[string]*kind{}}
}

// Warn logs msg with args at WARN unless an event with the same key was logged less than
// the interval ago; then it only counts it.
func (l *Logger) Warn(key, msg string, args ...any) { l.Log(slog.LevelWarn, key, msg, args...) }

// Error is Warn at ERROR.
func (l *Logger) Error(key, msg string, args ...any) { l.Log(slog.LevelError, key, msg, args...) }

// Debug is Warn at DEBUG.
func (l *Logger) Debug(key, msg string, args ...any) { l.Log(slog.LevelDebug, key, msg, args...) }

// Log logs or counts one event of key at level.
func (l *Logger) Log(level slog.Level, key, msg string, args ...any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return // nothing would be written: keep no state either
	}
	now := l.now()
	l.mu.Lock()
	k := l.kinds[key]
	if k == nil {
		if len(l.kinds) >= maxKinds {
			l.pruneLocked(now)
		}
		k = &kind{start: now}
		l.kinds[key] = k
	} else if now.Sub(k.start) < l.interval {
		k.suppressed++
		l.mu.Unlock()
		return
	}
	repeated, since := k.suppressed, now.Sub(k.start)
	k.start, k.suppressed = now, 0
	l.mu.Unlock()
	if repeated > 0 {
		// This event and the ones counted: the line stands for all of them.
		msg = fmt.Sprintf("%s (repeated %d times in the last %v)", msg, repeated+1, since.Round(time.Second))
	}
	l.log.Log(ctx, level, msg, args...)
}

// maxKinds bounds the keys remembered: past it, keys whose interval has passed are
// forgotten (keys can be topics, which a producer may send to by the thousand).
const maxKinds = 1024

func (l *Logger) pruneLocked(now time.Time) {
	for key, k := range l.kinds {
		if now.Sub(k.start) >= l.interval {
			delete(l.kinds, key)
		}
	}
}

// Resolved ends key's run of failures: the next event of key is logged at once. If
// events of key were logged, msg is logged at INFO with args and, when some were only
// counted, their number, so the log says the failure ended.
func (l *Logger) Resolved(key, msg string, args ...any) {
	l.mu.Lock()
	k := l.kinds[key]
	delete(l.kinds, key)
	l.mu.Unlock()
	if k == nil {
		return
	}
	if k.suppressed > 0 {
		args = append(args, "unlogged_failures", k.suppressed)
	}
	l.log.Info(msg, args...)
}
