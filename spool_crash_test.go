package kprod_test

import (
	"bufio"
	"context"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/chaos"
	"github.com/kprod-io/kprod/internal/partition"
	"github.com/kprod-io/kprod/internal/spool"
	"github.com/kprod-io/kprod/kafkatest"
)

// The spool crash test (issue 15 item 1). Child processes (this test binary re-executed
// as TestSpoolCrashChild) write numbered records through a spool directory and print
// "ok N" on stdout each time Send returned nil; the parent kills each one with SIGKILL at
// a random point, with the broker reachable or not (a TCP proxy in front of an embedded
// kfake broker, blackholed in turns), and between some kills truncates a spool file at a
// random offset. Then a last producer drains the spool and franz-go reads everything
// back: every record whose Send returned nil is there (unless the truncation cut it:
// those are excused, computed from the file before the cut), every record read is whole
// (its value carries its own checksum), each key's records are on murmur2's partition
// in spool order (first copies), and a record has at most one copy per process that had
// it in its spool. Kills: KPROD_SPOOL_CRASH_KILLS (default 12; scripts/spool-crash runs
// more). Every sync policy survives kill -9, so children rotate through all three.

const crashTopic = "spool-crash"
const crashParts = 4
const crashBase = 1_000_000 // child i numbers its records i*crashBase + j

func crashValue(n int, pad int) []byte {
	s := fmt.Sprintf("%d-%08x-", n, crc32.ChecksumIEEE([]byte(strconv.Itoa(n))))
	return append([]byte(s), strings.Repeat("x", pad)...)
}

// parseCrashValue returns the record number, or false if the value is not one the
// children write, whole.
func parseCrashValue(v []byte) (int, bool) {
	parts := strings.SplitN(string(v), "-", 3)
	if len(parts) != 3 || strings.Trim(parts[2], "x") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(parts[0]))) != parts[1] {
		return 0, false
	}
	return n, true
}

func crashKey(n int) []byte { return []byte("k" + strconv.Itoa(n%8)) }

// crashDialer sends the broker's address to the proxy.
func crashDialer(broker, proxy string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == broker {
			addr = proxy
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

func crashConfig(dir, proxy string, sync kprod.SpoolSync) kprod.Config {
	return kprod.Config{BootstrapServers: []string{proxy}, SpoolDir: dir, SpoolSync: sync,
		SpoolSyncInterval: 20 * time.Millisecond, RequestTimeout: 2 * time.Second, DeliveryTimeout: 10 * time.Minute,
		SocketConnectionSetupTimeout: 500 * time.Millisecond, SocketConnectionSetupTimeoutMax: time.Second,
		MetadataMaxAge: time.Second}
}

// TestSpoolCrashChild is the producing process of TestSpoolCrash; it does nothing
// unless run by it.
func TestSpoolCrashChild(t *testing.T) {
	dir := os.Getenv("KPROD_SPOOL_CRASH_DIR")
	if dir == "" {
		return
	}
	base, _ := strconv.Atoi(os.Getenv("KPROD_SPOOL_CRASH_BASE"))
	sync, _ := strconv.Atoi(os.Getenv("KPROD_SPOOL_CRASH_SYNC"))
	broker, proxy := os.Getenv("KPROD_SPOOL_CRASH_BROKER"), os.Getenv("KPROD_SPOOL_CRASH_PROXY")
	p, err := kprod.NewProducer(crashConfig(dir, proxy, kprod.SpoolSync(sync)),
		kprod.WithDialer(crashDialer(broker, proxy)), kprod.WithLogger(nil))
	if err != nil {
		fmt.Printf("fail %v\n", err)
		os.Exit(3)
	}
	rng := rand.New(rand.NewPCG(uint64(base), 1))
	for j := 0; ; j++ {
		n := base + j
		err := p.Send(context.Background(), &kprod.Record{Topic: crashTopic, Key: crashKey(n), Value: crashValue(n, rng.IntN(300))}, nil)
		if err != nil {
			fmt.Printf("err %d %v\n", n, err)
			continue
		}
		os.Stdout.WriteString("ok " + strconv.Itoa(n) + "\n") // unbuffered: the parent sees it at once
	}
}

func TestSpoolCrash(t *testing.T) {
	kills := 12
	if s := os.Getenv("KPROD_SPOOL_CRASH_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KPROD_SPOOL_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("kills %d, seed %d (KPROD_SPOOL_CRASH_SEED)", kills, seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	c := kafkatest.New(t, kafkatest.Topic(crashTopic, crashParts))
	broker := c.Bootstrap()[0]
	px, err := chaos.NewProxy(broker)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	dir := t.TempDir()

	acked := map[int]bool{}   // Send returned nil
	excused := map[int]bool{} // cut by a truncation
	down := false
	setDown := func(d bool) {
		down = d
		px.SetBlackhole(d)
		if d {
			px.Reset()
		}
	}
	truncations := 0
	for i := range kills {
		if rng.IntN(2) == 0 {
			setDown(!down)
		}
		oks := crashChild(t, dir, broker, px.Addr(), i, rng, func() {
			if rng.IntN(3) == 0 {
				setDown(!down)
			}
		})
		for _, n := range oks {
			acked[n] = true
		}
		if i%3 == 2 {
			if truncateSpool(t, dir, rng, excused) {
				truncations++
			}
		}
	}
	setDown(false)

	// The last producer drains the spool.
	var recovered int
	var rmu sync.Mutex
	p, err := kprod.NewProducer(crashConfig(dir, px.Addr(), kprod.SpoolSyncNone), kprod.WithDialer(crashDialer(broker, px.Addr())),
		kprod.WithLogger(nil), kprod.WithSpoolRecovered(func(_ kprod.RecordMetadata, err error) {
			rmu.Lock()
			defer rmu.Unlock()
			if err != nil {
				t.Errorf("recovered record failed: %v", err)
			}
			recovered++
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := p.SpoolStats()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close of the draining producer: %v", err)
	}
	if st.Records != 0 {
		t.Fatalf("spool not empty after the drain: %+v", st)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.seg")); len(files) != 0 {
		t.Fatalf("segment files left: %v", files)
	}

	need := 0
	for n := range acked {
		if !excused[n] {
			need++
		}
	}
	recs := crashReadAll(t, c.Bootstrap(), acked, excused)
	copies := map[int]int{}
	last := map[string]int{}
	for _, r := range recs {
		n, ok := parseCrashValue(r.Value)
		if !ok {
			t.Fatalf("record at %d/%d is not whole: %q", r.Partition, r.Offset, r.Value)
		}
		if string(r.Key) != string(crashKey(n)) || r.Partition != partition.KeyPartition(r.Key, crashParts) {
			t.Fatalf("record %d: key %q on partition %d", n, r.Key, r.Partition)
		}
		copies[n]++
		if copies[n] == 1 {
			if l, ok := last[string(r.Key)]; ok && n < l {
				t.Errorf("key %s: record %d after %d (first copies out of spool order)", r.Key, n, l)
			}
			last[string(r.Key)] = n
		}
	}
	lost, dups := 0, 0
	for n := range acked {
		if !excused[n] && copies[n] == 0 {
			lost++
			if lost <= 5 {
				t.Errorf("record %d: Send returned nil, never delivered", n)
			}
		}
	}
	for n, k := range copies {
		if k > 1 {
			dups += k - 1
		}
		// At most one copy per process that had it in its spool: its child, the later
		// children and the drain.
		if limit := kills - n/crashBase + 1; k > limit {
			t.Errorf("record %d: %d copies, more than the %d processes that could send it", n, k, limit)
		}
	}
	t.Logf("kills %d, truncations %d, acked %d, excused %d, read %d, lost %d, duplicates %d, recovered by the drain %d, torn bytes at its start %d",
		kills, truncations, len(acked), len(excused), len(recs), lost, dups, recovered, st.TornBytes)
	if lost > 0 {
		t.Fatalf("%d acknowledged records lost", lost)
	}
}

// crashChild runs one producing child until it reported a random number of records (or
// a few seconds passed), calling mid halfway, then kills it with SIGKILL. It returns
// the numbers whose Send returned nil.
func crashChild(t *testing.T, dir, broker, proxy string, i int, rng *rand.Rand, mid func()) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSpoolCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KPROD_SPOOL_CRASH_DIR="+dir, "KPROD_SPOOL_CRASH_BASE="+strconv.Itoa((i+1)*crashBase),
		"KPROD_SPOOL_CRASH_SYNC="+strconv.Itoa(i%3), "KPROD_SPOOL_CRASH_BROKER="+broker, "KPROD_SPOOL_CRASH_PROXY="+proxy)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	target := 1 + rng.IntN(3000)
	if i%3 == 2 { // always-fsync children are slower
		target = 1 + rng.IntN(200)
	}
	var oks []int
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(5 * time.Second)
	midDone := false
loop:
	for len(oks) < target {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("child %d ended before it was killed", i)
			}
			if n, found := strings.CutPrefix(l, "ok "); found {
				v, _ := strconv.Atoi(n)
				oks = append(oks, v)
			} else {
				t.Fatalf("child %d: %s", i, l)
			}
			if !midDone && len(oks) >= target/2 {
				midDone = true
				mid()
			}
		case <-deadline:
			break loop
		}
	}
	cmd.Process.Kill()     // SIGKILL
	for l := range lines { // what it printed before dying: those Sends returned nil too
		if n, found := strings.CutPrefix(l, "ok "); found {
			v, _ := strconv.Atoi(n)
			oks = append(oks, v)
		}
	}
	cmd.Wait()
	return oks
}

// truncateSpool cuts a random segment file at a random offset after its magic and adds
// the numbers of the records in the cut frames (whole or partial) to excused.
func truncateSpool(t *testing.T, dir string, rng *rand.Rand, excused map[int]bool) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(files) == 0 {
		return false
	}
	path := files[rng.IntN(len(files))]
	data, err := os.ReadFile(path)
	if err != nil || len(data) <= len(spool.Magic) {
		return false
	}
	cut := len(spool.Magic) + rng.IntN(len(data)-len(spool.Magic))
	spool.Scan(data, func(off int, r *spool.Record) {
		if off+spool.FrameSize(r) > cut {
			if n, ok := parseCrashValue(r.Value); ok {
				excused[n] = true
			}
		}
	})
	if err := os.Truncate(path, int64(cut)); err != nil {
		t.Fatal(err)
	}
	return true
}

// crashReadAll reads the topic with franz-go until every acknowledged, not excused
// record was seen (or 30 s passed), then what else is there.
func crashReadAll(t *testing.T, bootstrap []string, acked, excused map[int]bool) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.ConsumeTopics(crashTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	missing := map[int]bool{}
	for n := range acked {
		if !excused[n] {
			missing[n] = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(missing) > 0 && ctx.Err() == nil {
		for _, r := range cl.PollFetches(ctx).Records() {
			out = append(out, r)
			if n, ok := parseCrashValue(r.Value); ok {
				delete(missing, n)
			}
		}
	}
	extra, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	return append(out, cl.PollFetches(extra).Records()...)
}
