package testcluster

import (
	"strings"
	"testing"
)

func TestSkippedNote(t *testing.T) {
	t.Setenv("KPROD_REQUIRE_KAFKA", "")
	skips.mu.Lock()
	saved := skips.why
	skips.why = nil
	skips.mu.Unlock()
	t.Cleanup(func() {
		skips.mu.Lock()
		skips.why = saved
		skips.mu.Unlock()
	})
	if note := skippedNote(); note != "" {
		t.Fatalf("nothing skipped, yet the note %q", note)
	}
	recordSkip("real Kafka")
	recordSkip("real Kafka")
	recordSkip("schema registry")
	note := skippedNote()
	for _, want := range []string{"real Kafka or schema registry", "skipped", "scripts/test"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q lacks %q", note, want)
		}
	}
	t.Setenv("KPROD_REQUIRE_KAFKA", "1") // required: absent tests failed instead, no note
	if note := skippedNote(); note != "" {
		t.Fatalf("KPROD_REQUIRE_KAFKA=1, yet the note %q", note)
	}
}
