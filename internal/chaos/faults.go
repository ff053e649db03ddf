package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// The fault kinds a run draws from.
const (
	FaultKillLeader      = "kill-leader"      // kill -9 the leader of a random partition, restart it
	FaultKillCoordinator = "kill-coordinator" // kill -9 the transaction coordinator, restart it
	FaultKillController  = "kill-controller"  // kill -9 the active KRaft controller, restart it
	FaultRestart         = "restart"          // clean shutdown (SIGTERM) of a node, restart it
	FaultPause           = "pause"            // SIGSTOP a node for 4-20s (past request and delivery timeouts), SIGCONT
	FaultProxyReset      = "proxy-reset"      // RST every connection through one proxy or all
	FaultProxyBlackhole  = "proxy-blackhole"  // forward nothing through one proxy for 2-20s
	FaultProxyDelay      = "proxy-delay"      // add 20-800ms per chunk through one proxy for 5-20s
	FaultProducerCrash   = "producer-crash"   // cut the transactional producer off mid-transaction, restart it
)

// FaultKinds lists every fault kind, and its weight in the random schedule.
var FaultKinds = []struct {
	Kind   string
	Weight int
}{
	{FaultKillLeader, 3}, {FaultKillCoordinator, 2}, {FaultKillController, 2}, {FaultRestart, 2},
	{FaultPause, 3}, {FaultProxyReset, 3}, {FaultProxyBlackhole, 2}, {FaultProxyDelay, 2},
	{FaultProducerCrash, 2},
}

// FaultEvent is one injected fault.
type FaultEvent struct {
	// At is when it started, from the start of the run.
	At     Millis `json:"at_ms"`
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// Lasted is how long the fault held (node down, paused, proxy faulty).
	Lasted Millis `json:"lasted_ms"`
	// Healed is how long the cluster then took to be whole again (node faults).
	Healed Millis `json:"healed_ms,omitempty"`
	Detail string `json:"detail,omitempty"`
	Err    string `json:"error,omitempty"`
}

// Millis is a duration printed in milliseconds in the JSON report.
type Millis time.Duration

// MarshalJSON writes the duration as integer milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprint(time.Duration(m).Milliseconds())), nil
}

// injector runs the seeded random fault schedule. One fault at a time, so never more
// than one node is down or paused; after a node fault it waits for every ISR to be whole
// again before the next one, so min.insync.replicas=2 stays reachable.
type injector struct {
	rng        *rand.Rand
	admin      *admin
	nodes      Nodes
	nodeCount  int
	proxies    map[int32]*Proxy
	topic      string
	partitions int32
	txnID      string
	crash      chan crashRequest // nil without the transactional producer
	kinds      []string          // allowed kinds; nil: all that apply
	heal       time.Duration
	start      time.Time
	logf       func(format string, args ...any)

	events []FaultEvent
	// What to undo if the run stops mid-fault.
	killed, paused int // node ids, 0 for none
}

func (in *injector) healTopics() []string {
	if in.crash != nil {
		return []string{in.topic, "__transaction_state"}
	}
	return []string{in.topic}
}

// pick draws the next fault kind from the allowed ones by weight.
func (in *injector) pick() string {
	total := 0
	var ks []string
	var ws []int
	for _, k := range FaultKinds {
		if k.Kind == FaultProducerCrash && in.crash == nil {
			continue
		}
		if in.kinds != nil && !contains(in.kinds, k.Kind) {
			continue
		}
		ks, ws = append(ks, k.Kind), append(ws, k.Weight)
		total += k.Weight
	}
	if total == 0 {
		return ""
	}
	r := in.rng.IntN(total)
	for i, w := range ws {
		if r < w {
			return ks[i]
		}
		r -= w
	}
	return ks[len(ks)-1]
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// between returns a random duration in [lo, hi].
func (in *injector) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(in.rng.Int64N(int64(hi-lo)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run injects faults until the until time, with 1-6s of calm between them.
func (in *injector) run(ctx context.Context, until time.Time) {
	for ctx.Err() == nil && time.Now().Before(until) {
		if sleep(ctx, in.between(time.Second, 6*time.Second)) != nil || !time.Now().Before(until) {
			return
		}
		kind := in.pick()
		if kind == "" {
			return
		}
		ev := FaultEvent{At: Millis(time.Since(in.start)), Kind: kind}
		began := time.Now()
		in.inject(ctx, kind, &ev)
		ev.Lasted = Millis(time.Since(began))
		if isNodeFault(kind) && ev.Err == "" {
			h := time.Now()
			if err := in.admin.waitHealthy(ctx, in.heal, in.nodeCount, in.healTopics()...); err != nil {
				ev.Err = err.Error()
			}
			ev.Healed = Millis(time.Since(h))
		}
		in.events = append(in.events, ev)
		in.logf("fault %-16s %-28s lasted %6.1fs healed %5.1fs %s %s", ev.Kind, ev.Target,
			time.Duration(ev.Lasted).Seconds(), time.Duration(ev.Healed).Seconds(), ev.Detail, ev.Err)
	}
}

func isNodeFault(kind string) bool {
	switch kind {
	case FaultKillLeader, FaultKillCoordinator, FaultKillController, FaultRestart, FaultPause:
		return true
	}
	return false
}

func (in *injector) inject(ctx context.Context, kind string, ev *FaultEvent) {
	fail := func(err error) {
		if err != nil && ev.Err == "" {
			ev.Err = err.Error()
		}
	}
	switch kind {
	case FaultKillLeader, FaultKillCoordinator, FaultKillController:
		n, what, err := in.target(ctx, kind)
		if err != nil {
			fail(err)
			return
		}
		ev.Target = what
		fail(in.killRestart(ctx, n, in.between(time.Second, 8*time.Second), ev))
	case FaultRestart:
		n := 1 + in.rng.IntN(in.nodeCount)
		ev.Target = fmt.Sprintf("node %d", n)
		down := in.between(0, 3*time.Second)
		in.killed = n
		fail(in.nodes.Stop(ctx, n))
		sleep(ctx, down)
		fail(in.startNode(ctx, n))
		ev.Detail = fmt.Sprintf("down %.1fs", down.Seconds())
	case FaultPause:
		n, what, err := in.anyTarget(ctx)
		if err != nil {
			fail(err)
			return
		}
		ev.Target = what
		d := in.between(4*time.Second, 20*time.Second)
		in.paused = n
		fail(in.nodes.Pause(ctx, n))
		sleep(ctx, d)
		fail(in.resume(ctx))
		ev.Detail = fmt.Sprintf("paused %.1fs", d.Seconds())
	case FaultProxyReset:
		targets := in.proxyTargets(in.rng.IntN(3) == 0)
		total := 0
		for _, id := range targets {
			total += in.proxies[id].Reset()
		}
		ev.Target = fmt.Sprintf("proxies %v", targets)
		ev.Detail = fmt.Sprintf("%d connections reset", total)
	case FaultProxyBlackhole:
		id := in.proxyTargets(false)[0]
		d := in.between(2*time.Second, 20*time.Second)
		ev.Target = fmt.Sprintf("proxy of node %d", id)
		in.proxies[id].SetBlackhole(true)
		sleep(ctx, d)
		in.proxies[id].SetBlackhole(false)
		ev.Detail = fmt.Sprintf("blackholed %.1fs", d.Seconds())
	case FaultProxyDelay:
		id := in.proxyTargets(false)[0]
		lat := in.between(20*time.Millisecond, 800*time.Millisecond)
		d := in.between(5*time.Second, 20*time.Second)
		ev.Target = fmt.Sprintf("proxy of node %d", id)
		in.proxies[id].SetDelay(lat)
		sleep(ctx, d)
		in.proxies[id].SetDelay(0)
		ev.Detail = fmt.Sprintf("+%dms per chunk for %.1fs", lat.Milliseconds(), d.Seconds())
	case FaultProducerCrash:
		ev.Target = "transactional producer"
		req := crashRequest{done: make(chan string, 1)}
		select {
		case in.crash <- req:
		default:
			fail(fmt.Errorf("a crash request is still pending"))
			return
		}
		select {
		case ev.Detail = <-req.done:
		case <-time.After(2 * time.Minute):
			fail(fmt.Errorf("the transactional producer did not crash within 2 minutes"))
		case <-ctx.Done():
		}
	}
}

// target finds the node a kill fault aims at.
func (in *injector) target(ctx context.Context, kind string) (int, string, error) {
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch kind {
	case FaultKillLeader:
		p := int32(in.rng.IntN(int(in.partitions)))
		n, err := in.admin.leader(qctx, in.topic, p)
		return int(n), fmt.Sprintf("node %d (leader of %d)", n, p), err
	case FaultKillCoordinator:
		n, err := in.admin.coordinator(qctx, in.txnID)
		return int(n), fmt.Sprintf("node %d (txn coordinator)", n), err
	default:
		n, err := in.admin.controller(qctx)
		return int(n), fmt.Sprintf("node %d (controller)", n), err
	}
}

// anyTarget picks, for a pause, a partition leader, the coordinator, the controller or
// a random node.
func (in *injector) anyTarget(ctx context.Context) (int, string, error) {
	switch in.rng.IntN(4) {
	case 0:
		return in.target(ctx, FaultKillLeader)
	case 1:
		return in.target(ctx, FaultKillCoordinator)
	case 2:
		return in.target(ctx, FaultKillController)
	}
	n := 1 + in.rng.IntN(in.nodeCount)
	return n, fmt.Sprintf("node %d", n), nil
}

// proxyTargets returns one random proxy's node id, or all of them.
func (in *injector) proxyTargets(all bool) []int32 {
	ids := make([]int32, 0, len(in.proxies))
	for id := range in.proxies {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if all {
		return ids
	}
	i := in.rng.IntN(len(ids))
	return ids[i : i+1]
}

func (in *injector) killRestart(ctx context.Context, n int, down time.Duration, ev *FaultEvent) error {
	in.killed = n
	if err := in.nodes.Kill(ctx, n); err != nil {
		in.killed = 0
		return err
	}
	sleep(ctx, down)
	ev.Detail = fmt.Sprintf("down %.1fs", down.Seconds())
	return in.startNode(ctx, n)
}

// startNode restarts a killed node, retrying: a JVM can fail to bind its port while the
// old socket lingers.
func (in *injector) startNode(ctx context.Context, n int) error {
	var err error
	for try := 0; try < 5; try++ {
		if err = in.nodes.Start(ctx, n); err == nil {
			in.killed = 0
			return nil
		}
		in.logf("start node %d: %v", n, err)
		if sleep(ctx, 2*time.Second) != nil {
			break
		}
	}
	return err
}

func (in *injector) resume(ctx context.Context) error {
	if in.paused == 0 {
		return nil
	}
	err := in.nodes.Resume(ctx, in.paused)
	if err == nil {
		in.paused = 0
	}
	return err
}

// restore undoes whatever fault is still in force (the run was interrupted, or a step
// failed): resumes a paused node, starts a stopped one, clears every proxy.
func (in *injector) restore(ctx context.Context) error {
	for _, p := range in.proxies {
		p.SetBlackhole(false)
		p.SetDelay(0)
	}
	var errs []error
	if err := in.resume(ctx); err != nil {
		errs = append(errs, err)
	}
	if in.killed != 0 {
		if err := in.startNode(ctx, in.killed); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("chaos: restoring the cluster: %v", errs)
	}
	return nil
}

// counts returns how many faults of each kind were injected without error.
func (in *injector) counts() (total int, byKind map[string]int, failed int) {
	byKind = map[string]int{}
	for _, ev := range in.events {
		if ev.Err != "" {
			failed++
		}
		byKind[ev.Kind]++
		total++
	}
	return total, byKind, failed
}
