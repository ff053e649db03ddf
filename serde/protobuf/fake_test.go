package protobuf

import (
	"context"
	"fmt"
	"sync"

	"github.com/kprod-io/kprod/serde/registry"
)

// fakeResolver stands in for a *registry.Resolver: it hands out id for every schema,
// version 1 for every reference, and records what it was asked.
type fakeResolver struct {
	id   int
	used *registry.Schema // returned instead of the asked schema when set (use.latest.version)
	err  error

	mu       sync.Mutex
	calls    int
	names    []string
	asked    []registry.Schema
	refCalls []string
	refTexts map[string]string
}

func (f *fakeResolver) ID(_ context.Context, topic, recordName string, s registry.Schema) (int, registry.Schema, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.names = append(f.names, recordName)
	f.asked = append(f.asked, s)
	if f.err != nil {
		return 0, registry.Schema{}, f.err
	}
	if f.used != nil {
		return f.id, *f.used, nil
	}
	return f.id, s, nil
}

func (f *fakeResolver) ReferenceVersion(_ context.Context, subject string, s registry.Schema) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refCalls = append(f.refCalls, subject)
	if f.refTexts == nil {
		f.refTexts = map[string]string{}
	}
	f.refTexts[subject] = s.Text
	if f.err != nil {
		return 0, fmt.Errorf("reference: %w", f.err)
	}
	return 1, nil
}
