package cluster

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// threadCPU returns the CPU time the calling OS thread has used: unlike the wall
// clock, other processes on a loaded machine do not move it.
func threadCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestMetadataDecodeCPUBounded decodes the fuzzer's find: 217 bytes of a v12 Metadata
// answer whose tagged-field count is near 2^32. kmsg before v1.15.1 kept looping over
// that count after running out of bytes, about 10 s of CPU per answer, in the
// goroutine that reads the broker's answers; it must cost next to nothing.
func TestMetadataDecodeCPUBounded(t *testing.T) {
	raw, err := os.ReadFile("testdata/fuzz/FuzzMetadataResponse/huge-tag-count")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	version, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(lines[1], "int16("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[2], "[]byte("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU(t)
	resp := kmsg.NewPtrMetadataResponse()
	resp.Version = int16(version)
	err = resp.ReadFrom([]byte(data))
	if used := threadCPU(t) - start; used > time.Second {
		t.Fatalf("decoding %d bytes took %v of CPU (err %v)", len(data), used, err)
	}
	if err == nil {
		t.Fatal("a truncated answer decoded without error")
	}
}
