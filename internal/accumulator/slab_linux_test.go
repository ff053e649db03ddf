package accumulator

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// vmFlags returns the VmFlags line of the mapping in /proc/self/smaps that holds p.
func vmFlags(p uintptr) (string, error) {
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return "", err
	}
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.Contains(f[0], "-") && !strings.Contains(f[0], ":") { // a mapping's header
			var lo, hi uintptr
			if _, err := fmt.Sscanf(f[0], "%x-%x", &lo, &hi); err != nil {
				return "", fmt.Errorf("smaps header %q: %v", line, err)
			}
			in = p >= lo && p < hi
			continue
		}
		if in && len(f) > 0 && f[0] == "VmFlags:" {
			return strings.Join(f[1:], " "), nil
		}
	}
	return "", fmt.Errorf("no mapping holds %#x", p)
}

// TestSlabIsAdvisedHuge checks that the kernel recorded the advice: the slab's huge-page
// aligned middle carries VM_HUGEPAGE ("hg" in /proc/self/smaps). Whether huge pages then
// back it depends on the machine's free memory, so that is not asserted.
func TestSlabIsAdvisedHuge(t *testing.T) {
	if hugePage() == 0 {
		t.Skip("huge-page advice is off (no THP, or GODEBUG=disablethp=1)")
	}
	if mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages are off here (%q, %v): the advice is refused", mode, err)
	}
	var s slab
	for s.made < slabStart {
		s.newBuf(1<<20, 64<<20)
	}
	first := s.newBuf(1<<20, 64<<20)
	hp := uintptr(hugePage())
	mid := (addr(first) + hp) &^ (hp - 1) // inside the slab's aligned middle
	flags, err := vmFlags(mid)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Fatalf("slab mapping's VmFlags %q lack hg (MADV_HUGEPAGE)", flags)
	}
}

func TestGodebugDisablesTHP(t *testing.T) {
	for in, want := range map[string]bool{
		"":                          false,
		"disablethp=1":              true,
		"gctrace=1,disablethp=1":    true,
		"disablethp=1,disablethp=0": false, // the last setting wins, as in the runtime
		"disablethp=0":              false,
		"xdisablethp=1":             false,
	} {
		if got := godebugDisablesTHP(in); got != want {
			t.Errorf("godebugDisablesTHP(%q) = %v, want %v", in, got, want)
		}
	}
}
