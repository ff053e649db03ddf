package txn

import (
	"fmt"
	"time"

	"github.com/kprod-io/kprod/internal/broker"
)

// progress says where a coordinator call is: a call whose ctx ends says which wait it cut
// short and how long the call had run, beside the last error it saw. A wait that ends
// only with the ctx records no error (each of them is bounded below it: a dial by
// socket.connection.setup.timeout.ms, a re-authentication, a write and an answer by
// request.timeout.ms), so without this a ctx shorter than those bounds left "context
// deadline exceeded while awaiting InitProducerId" and nothing to tell a slow broker from
// a ctx that was nearly spent before the call began. A nil *progress records nothing.
type progress struct {
	start  time.Time
	step   string
	stepAt time.Time
	where  string // where the cut-short request stood (broker.WaitedAt)
}

func newProgress() *progress { return &progress{start: time.Now()} }

// at records that the call now waits for step.
func (p *progress) at(format string, args ...any) {
	if p == nil {
		return
	}
	p.step, p.stepAt, p.where = fmt.Sprintf(format, args...), time.Now(), ""
}

// cut records the error of the request the ctx cut short, which says where it stood.
func (p *progress) cut(err error) {
	if p != nil {
		p.where = broker.WaitedAt(err)
	}
}

// String is "<d> into it: <step>, for <d>[: <where>]", or "<d> into it" before any step.
func (p *progress) String() string {
	if p == nil {
		return ""
	}
	now := time.Now()
	s := fmt.Sprintf("%v into it", round(now.Sub(p.start)))
	if p.step == "" {
		return s
	}
	s += fmt.Sprintf(": %s, for %v", p.step, round(now.Sub(p.stepAt)))
	if p.where != "" {
		s += ": " + p.where
	}
	return s
}

// round rounds a duration for a message.
func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
