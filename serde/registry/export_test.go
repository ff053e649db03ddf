package registry

import "time"

// SetNow replaces the resolver's clock.
func (r *Resolver) SetNow(now func() time.Time) { r.now = now }

// Waiting is the number of callers blocked on another caller's request.
func (r *Resolver) Waiting() int { return int(r.waiting.Load()) }
