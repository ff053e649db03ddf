package kprod_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// Issue 13 item 7: a Send that cannot get its topic's metadata fails within max.block.ms
// or the caller's ctx, says which of the two ended it, and names the cause: the last
// connection error of an unreachable cluster, or that the topic does not exist.
func TestSendWaitErrorsNameLimitAndCause(t *testing.T) {
	c := kafkatest.New(t) // no auto-creation: "missing" does not exist
	const maxBlock = 700 * time.Millisecond
	unreachable := []string{"127.0.0.1:1"} // nothing listens on port 1
	for _, tc := range []struct {
		name      string
		bootstrap []string
		ctx       time.Duration // 0: only max.block.ms bounds the wait
		cause     string
	}{
		{"unreachable/max.block.ms", unreachable, 0, "last error: kprod: cannot connect to broker 127.0.0.1:1"},
		{"unreachable/ctx", unreachable, 300 * time.Millisecond, "last error: kprod: cannot connect to broker 127.0.0.1:1"},
		{"missing topic/max.block.ms", c.Bootstrap(), 0, "topic missing does not exist"},
		{"missing topic/ctx", c.Bootstrap(), 300 * time.Millisecond, "topic missing does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProducer(t, tc.bootstrap, func(cfg *kprod.Config) {
				cfg.MaxBlock = maxBlock
				cfg.ReconnectBackoffMax = 50 * time.Millisecond
				cfg.RetryBackoffMax = 50 * time.Millisecond
			}, kprod.WithLogger(nil))
			ctx := context.Background()
			if tc.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctx)
				defer cancel()
			}
			start := time.Now()
			_, err := p.SendSync(ctx, &kprod.Record{Topic: "missing", Value: []byte("v")})
			took := time.Since(start)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if took > maxBlock+waitLong/10 {
				t.Errorf("Send took %v, max.block.ms is %v", took, maxBlock)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.cause) {
				t.Errorf("error %q does not name the cause %q", msg, tc.cause)
			}
			if kprod.MaybeWritten(err) {
				t.Errorf("MaybeWritten(%v) = true for a record never accepted", err)
			}
			if tc.ctx > 0 {
				if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kprod.ErrMetadataTimeout) {
					t.Errorf("ctx ended the wait: %v should wrap context.DeadlineExceeded, not ErrMetadataTimeout", err)
				}
				if !strings.Contains(msg, "the caller's ctx ended") {
					t.Errorf("error %q does not say the caller's ctx ended the wait", msg)
				}
				return
			}
			if !errors.Is(err, kprod.ErrMetadataTimeout) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("max.block.ms ended the wait: %v should wrap ErrMetadataTimeout, not context.DeadlineExceeded", err)
			}
			if want := "topic missing not present in metadata after 700 ms (max.block.ms expired)"; !strings.Contains(msg, want) {
				t.Errorf("error %q does not contain %q", msg, want)
			}
		})
	}
}
