// Command run runs the producer benchmark matrix of issue 5 and writes BENCHMARKS.md.
//
// Run it from the bench folder (it builds ./cmd/sink and ./cmd/driver first):
//
//	go run ./run                          # full matrix against the sink, 5 trials
//	go run ./run -real 127.0.0.1:19092    # and against a real Kafka node, with Java's tool
//	go run ./run -quick                   # smoke run: 2 trials, few records
//	go run ./run -scenarios 'v100-(none|lz4)-p1-idem' -trials 7
//
// Each scenario runs every client in turn (the order rotates every trial), each trial
// a throughput run (as fast as possible) and a latency run (a fixed offered load). The
// sink (or broker) runs on one core and the client on another (taskset). Every run's
// records are counted on the receiving side: the sink's verify mode parses every batch;
// on real Kafka the topic's end offsets are summed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/kprod-io/kprod/bench/drivers"
)

// config is the runner's flags.
type config struct {
	Trials       int
	Records      int
	Records1k    int
	Warmup       int
	LatRate      int
	LatRate1k    int
	RealLatRate  int
	RealLatRate1 int
	LatSeconds   float64
	NoLatency    bool
	Scenarios    string
	Clients      string
	Quick        bool
	Verify       bool
	RealTrials   int
	RealRecords  int
	VerifyAll    bool
	Real         string
	RealOnly     bool
	RealCluster  string
	RealTLS      string
	RealTLSCA    string
	PinBroker    bool
	Java         bool
	JavaFullJIT  bool
	SinkCore     string
	ClientCore   string
	Profiles     string
	Out          string
	Set          settings
}

func main() {
	var c config
	flag.IntVar(&c.Trials, "trials", 5, "trials per client and scenario (interleaved)")
	flag.IntVar(&c.Records, "records", 2_000_000, "records per throughput run with 100-byte values")
	flag.IntVar(&c.Records1k, "records-1k", 0, "records per throughput run with 1 KiB values (0: -records/4)")
	flag.IntVar(&c.Warmup, "warmup", 20_000, "records sent before each measured run")
	flag.IntVar(&c.LatRate, "lat-rate", 1_000_000, "offered records/s of latency runs, 100-byte values, sink")
	flag.IntVar(&c.LatRate1k, "lat-rate-1k", 250_000, "offered records/s of latency runs, 1 KiB values, sink")
	flag.IntVar(&c.RealLatRate, "real-lat-rate", 100_000, "offered records/s of latency runs, 100-byte values, real Kafka")
	flag.IntVar(&c.RealLatRate1, "real-lat-rate-1k", 25_000, "offered records/s of latency runs, 1 KiB values, real Kafka")
	flag.Float64Var(&c.LatSeconds, "lat-seconds", 2, "seconds of offered load per latency run")
	flag.BoolVar(&c.NoLatency, "no-latency", false, "skip the latency runs")
	flag.StringVar(&c.Scenarios, "scenarios", "", "regexp of scenario names to run (default: all)")
	flag.StringVar(&c.Clients, "clients", "kprod,franz-go,confluent,sarama,kafka-go,floor", "clients, comma-separated (floor: the least work per record, a reference, sink only)")
	flag.BoolVar(&c.Quick, "quick", false, "smoke run: 2 trials, 200k records (50k at 1 KiB), 5k warm-up, 0.25 s latency runs, unless set explicitly")
	flag.BoolVar(&c.Verify, "verify", true, "latency runs go to a sink that parses every batch (CRC32C, framing, counts, codecs)")
	flag.BoolVar(&c.VerifyAll, "verify-throughput", false, "throughput runs go to the verifying sink too (it then caps the fastest clients)")
	flag.StringVar(&c.Real, "real", "", "host:port of a real Kafka node: run the matrix there too (scripts/kafka --cluster single up --port 19092)")
	flag.BoolVar(&c.RealOnly, "real-only", false, "with -real, skip the sink")
	flag.IntVar(&c.RealTrials, "real-trials", 0, "trials against real Kafka (0: -trials)")
	flag.IntVar(&c.RealRecords, "real-records", 0, "records per throughput run against real Kafka, 100-byte values; a quarter at 1 KiB (0: as the sink)")
	flag.StringVar(&c.RealCluster, "real-cluster", "single", "scripts/kafka cluster name of -real (for Java's tool)")
	flag.StringVar(&c.RealTLS, "real-tls", "", "host:port of -real's SSL listener, for the TLS scenarios (scripts/kafka up --security; without it they run on the sink only)")
	flag.StringVar(&c.RealTLSCA, "real-tls-ca", "", "PEM CA file that -real-tls's certificate chains to")
	flag.BoolVar(&c.PinBroker, "pin-broker", true, "with -real, pin the broker's threads to -sink-core for the run (taskset -a -p)")
	flag.BoolVar(&c.Java, "java", true, "with -real, also run Java's ProducerPerformance")
	flag.BoolVar(&c.JavaFullJIT, "java-full-jit", false, "run ProducerPerformance with java directly (default JIT) instead of scripts/kafka's C1-only tool JVM")
	flag.StringVar(&c.SinkCore, "sink-core", "0", "taskset core list of the sink (and of the real broker)")
	flag.StringVar(&c.ClientCore, "client-core", "1", "taskset core list of the client")
	flag.StringVar(&c.Profiles, "profiles", "", "folder for CPU profiles of kprod and franz-go: one extra, unmeasured throughput run each per scenario (sink only)")
	flag.StringVar(&c.Out, "out", "BENCHMARKS.md", "report to write; charts go to charts/ and raw results to .json beside it")
	render := flag.String("render", "", "only redraw -out and its charts from a report's JSON (e.g. BENCHMARKS.json)")
	flag.IntVar(&c.Set.Payloads, "payloads", 65536, "distinct payloads per value size")
	flag.IntVar(&c.Set.BatchBytes, "batch-bytes", 1_000_000, "batch size in bytes for every client")
	flag.IntVar(&c.Set.BufferBytes, "buffer-bytes", 32<<20, "buffer.memory (and equivalents) for every client")
	flag.Parse()
	if c.Quick { // smoke-run defaults; flags given explicitly still win
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]*int{"trials": &c.Trials, "records": &c.Records, "warmup": &c.Warmup, "records-1k": &c.Records1k} {
			if !set[name] {
				*v = map[string]int{"trials": 2, "records": 200_000, "warmup": 5_000, "records-1k": 50_000}[name]
			}
		}
		if !set["lat-seconds"] {
			c.LatSeconds = 0.25
		}
	}
	if c.Records1k == 0 {
		c.Records1k = c.Records / 4
	}
	if *render != "" {
		rep, err := loadReport(*render)
		if err == nil {
			err = rep.write(c.Out)
		}
		if err != nil {
			log.Fatal(err)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c, strings.TrimSpace("go run ./run "+strings.Join(os.Args[1:], " "))); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, c config, cmdline string) error {
	benchDir, err := os.Getwd()
	if err != nil {
		return err
	}
	if b, err := os.ReadFile(filepath.Join(benchDir, "go.mod")); err != nil || !strings.Contains(string(b), "module github.com/kprod-io/kprod/bench") {
		return fmt.Errorf("run from the bench folder (go run ./run): %s has no github.com/kprod-io/kprod/bench go.mod", benchDir)
	}
	scens, err := filter(matrix(), c.Scenarios)
	if err != nil {
		return err
	}
	clients := strings.Split(c.Clients, ",")
	pin := pinner{}
	if p, err := exec.LookPath("taskset"); err == nil {
		pin.taskset = p
	} else {
		log.Printf("taskset not found (util-linux): sink and client are not pinned")
	}
	bin, err := os.MkdirTemp("", "kprod-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	log.Printf("building sink and driver into %s", bin)
	if err := build(ctx, benchDir, bin); err != nil {
		return err
	}
	if c.Profiles != "" {
		if err := os.MkdirAll(c.Profiles, 0o755); err != nil {
			return err
		}
	}
	rep := &report{cfg: c, cmdline: cmdline, started: time.Now(), machine: machineInfo(), scenarios: scens,
		clients: clients}
	rep.versions, err = versions(ctx, filepath.Join(bin, "driver"))
	if err != nil {
		return err
	}

	if c.Real == "" || !c.RealOnly {
		if err := runSink(ctx, c, rep, pin, bin, scens, clients); err != nil {
			return err
		}
	}
	if c.Real != "" {
		if err := runReal(ctx, c, rep, pin, bin, benchDir, scens, clients); err != nil {
			return err
		}
	}
	rep.finished = time.Now()
	rep.machine.LoadEnd = loadAvg()
	return rep.write(c.Out)
}

func versions(ctx context.Context, driver string) (map[string]string, error) {
	out, err := exec.CommandContext(ctx, driver, "-versions").Output()
	if err != nil {
		return nil, fmt.Errorf("driver -versions: %w", err)
	}
	v := map[string]string{}
	return v, json.Unmarshal(out, &v)
}

// trialOrder rotates the client list by trial, so no client always runs first.
func trialOrder(clients []string, trial int) []string {
	out := make([]string, 0, len(clients))
	for i := range clients {
		out = append(out, clients[(i+trial)%len(clients)])
	}
	return out
}

func runSink(ctx context.Context, c config, rep *report, pin pinner, bin string, scens []scenario, clients []string) error {
	// Two sinks on the same core: throughput runs go to one that counts records from
	// batch headers, latency runs to one that parses every batch. A verifying sink
	// answers each request only after checking it, which capped the fastest client
	// (kprod at 100 B: ~25% fewer records/s, idle while the sink checked CRCs). TLS
	// scenarios get a second such pair serving TLS.
	plain, err := startSinks(ctx, c, pin, bin, false)
	if err != nil {
		return err
	}
	defer plain.stop()
	var secure *sinkPair
	if slices.ContainsFunc(scens, func(s scenario) bool { return s.TLS }) {
		if secure, err = startSinks(ctx, c, pin, bin, true); err != nil {
			return err
		}
		defer secure.stop()
	}
	sinkFor := func(sc scenario, kind string) *sinkProc {
		pair := plain
		if sc.TLS {
			pair = secure
		}
		if kind == "throughput" && !c.VerifyAll {
			return pair.counting
		}
		return pair.verifying
	}
	for _, sc := range scens {
		logSkipped(sc, clients)
		for trial := range c.Trials {
			for _, client := range trialOrder(clients, trial) {
				if sc.runs(client) != nil {
					continue
				}
				for _, kind := range kindsOf(c, client) {
					if err := ctx.Err(); err != nil {
						return err
					}
					sink := sinkFor(sc, kind)
					spec := c.spec(sc, client, kind, sink.Addr, "sink", trial)
					spec.TLSCA = sink.TLSCA
					spec.Topic = fmt.Sprintf("%s-%s-%s-t%d", sc.Name, client, kind, trial)
					before, _ := sink.topic("-cpu-probe-")
					r := runResult{Target: "sink", Scenario: sc.Name, Client: client, Trial: trial, Kind: kind,
						Args: spec.args(), Expected: int64(spec.Records + spec.Warmup)}
					res, err := runDriver(ctx, pin, c.ClientCore, filepath.Join(bin, "driver"), spec)
					r.Res = res
					if err != nil {
						r.Err = err.Error()
					}
					ts, serr := sink.topic(spec.Topic)
					if serr != nil {
						r.Err = strings.TrimSpace(r.Err + " sink stats: " + serr.Error())
					}
					r.Received, r.WireBytes, r.SinkErrors, r.SinkLastError = ts.Records, ts.WireBytes, ts.Errors, ts.LastError
					r.SinkCPU = ts.CPUSeconds - before.CPUSeconds
					r.Verified = r.Err == "" && ts.Records == r.Expected && ts.Errors == 0 && res.Failed == 0
					rep.add(r)
					progress(r)
				}
			}
		}
		if c.Profiles != "" {
			profileRuns(ctx, c, pin, bin, sinkFor(sc, "throughput"), sc, clients)
		}
	}
	return nil
}

func runReal(ctx context.Context, c config, rep *report, pin pinner, bin, benchDir string, scens []scenario, clients []string) error {
	rk, err := dialReal(ctx, c.Real)
	if err != nil {
		return err
	}
	defer rk.close()
	if pid := brokerPID(c.Real); !c.PinBroker {
		rep.realPinned = "broker not pinned (-pin-broker=false)"
	} else if pid > 0 && pin.taskset != "" {
		if out, err := exec.Command(pin.taskset, "-a", "-p", "-c", c.SinkCore, fmt.Sprint(pid)).CombinedOutput(); err != nil {
			log.Printf("could not pin broker pid %d: %v %s", pid, err, out)
		} else {
			rep.realPinned = fmt.Sprintf("broker pid %d pinned to core %s for the run", pid, c.SinkCore)
			defer exec.Command(pin.taskset, "-a", "-p", "-c", fmt.Sprintf("0-%d", runtime.NumCPU()-1), fmt.Sprint(pid)).Run()
		}
	} else {
		rep.realPinned = "broker not pinned (pid not found with ss, or no taskset)"
	}
	all := realClients(clients)
	var java *javaRunner
	payloadFiles := map[int]string{}
	if c.Java {
		java, err = newJavaRunner(ctx, benchDir, c.RealCluster, c.JavaFullJIT)
		if err != nil {
			log.Printf("Java's ProducerPerformance skipped: %v", err)
			rep.javaNote = "skipped: " + err.Error()
		} else {
			all = append(all, "java")
			for _, sc := range scens {
				if _, ok := payloadFiles[sc.ValueSize]; !ok {
					f := filepath.Join(bin, fmt.Sprintf("payloads-%d.txt", sc.ValueSize))
					if err := writePayloadFile(f, drivers.Payloads(c.Set.Payloads, sc.ValueSize, 1)); err != nil {
						return err
					}
					payloadFiles[sc.ValueSize] = f
				}
			}
			rep.javaNote = javaMode(java)
		}
	}
	rep.realAddr = c.Real
	for _, sc := range scens {
		brokers := c.Real
		if sc.TLS {
			if c.RealTLS == "" {
				log.Printf("real %s: skipped, no -real-tls listener", sc.Name)
				continue
			}
			brokers = c.RealTLS
		}
		logSkipped(sc, all)
		warmBroker(ctx, c, rk, pin, bin, sc, brokers, all)
		for trial := range c.realTrials() {
			for _, client := range trialOrder(all, trial) {
				if sc.runs(client) != nil {
					continue
				}
				for _, kind := range kinds(c) {
					if err := ctx.Err(); err != nil {
						return err
					}
					spec := c.spec(sc, client, kind, brokers, "real", trial)
					if sc.TLS {
						spec.TLSCA = c.RealTLSCA
					}
					spec.Topic = fmt.Sprintf("bench-%s-%s-%s-t%d-%d", sc.Name, client, kind, trial, time.Now().UnixNano()%1e6)
					spec.Create = false
					r := runResult{Target: "real", Scenario: sc.Name, Client: client, Trial: trial, Kind: kind,
						Expected: int64(spec.Records + spec.Warmup)}
					if err := rk.create(ctx, spec.Topic, sc.Partitions); err != nil {
						r.Err = err.Error()
						rep.add(r)
						progress(r)
						continue
					}
					if client == "java" {
						jr, err := java.run(ctx, pin, c.ClientCore, payloadFiles[sc.ValueSize], spec)
						r.Args, r.Java = jr.Args, &jr
						r.Res = drivers.Result{Client: "java", Records: int64(spec.Records), RecordsPerSec: jr.RecordsPerSec,
							MBPerSec: jr.RecordsPerSec * float64(sc.ValueSize) / 1e6, CPUSeconds: jr.CPUSeconds,
							CPUNsPerRecord: jr.CPUSeconds * 1e9 / float64(r.Expected), Rate: spec.Rate,
							MallocsPerRecord: -1, BytesPerRecord: -1,
							LatencyP50Us: jr.P50 * 1e3, LatencyP99Us: jr.P99 * 1e3, LatencyP999Us: jr.P999 * 1e3}
						if !java.warmupOK {
							r.Expected = int64(spec.Records)
						}
						if err != nil {
							r.Err = err.Error()
						}
					} else {
						r.Args = spec.args()
						res, err := runDriver(ctx, pin, c.ClientCore, filepath.Join(bin, "driver"), spec)
						r.Res = res
						if err != nil {
							r.Err = err.Error()
						}
					}
					n, err := rk.count(ctx, spec.Topic, sc.Partitions)
					if err != nil {
						r.Err = strings.TrimSpace(r.Err + " count: " + err.Error())
					}
					r.Received = n
					r.Verified = r.Err == "" && n == r.Expected && r.Res.Failed == 0
					if err := rk.remove(ctx, spec.Topic); err != nil {
						log.Printf("delete %s: %v", spec.Topic, err)
					}
					rep.add(r)
					progress(r)
				}
			}
		}
	}
	return nil
}

// warmBroker makes one unmeasured throughput run of sc before its trials. A scenario's
// first measured run was its slowest in every scenario tried (3x at 100 B snappy, with
// more CPU per record too), whichever client ran it: the broker's JVM compiles the code
// for a codec and record size on first use. Trial 0 always starts with the first
// client, so it paid that alone. The warm-up uses the first client able to run sc.
func warmBroker(ctx context.Context, c config, rk *realKafka, pin pinner, bin string, sc scenario, brokers string, clients []string) {
	i := slices.IndexFunc(clients, func(cl string) bool { return cl != "java" && sc.runs(cl) == nil })
	if i < 0 {
		return
	}
	spec := c.spec(sc, clients[i], "throughput", brokers, "real", 0)
	if sc.TLS {
		spec.TLSCA = c.RealTLSCA
	}
	spec.Topic = fmt.Sprintf("bench-%s-warm-%d", sc.Name, time.Now().UnixNano()%1e6)
	spec.Create = false
	if err := rk.create(ctx, spec.Topic, sc.Partitions); err != nil {
		log.Printf("real %s: broker warm-up skipped: %v", sc.Name, err)
		return
	}
	if _, err := runDriver(ctx, pin, c.ClientCore, filepath.Join(bin, "driver"), spec); err != nil {
		log.Printf("real %s: broker warm-up run (%s) failed: %v", sc.Name, clients[i], err)
	}
	if err := rk.remove(ctx, spec.Topic); err != nil {
		log.Printf("delete %s: %v", spec.Topic, err)
	}
}

// realClients are the clients that run against real Kafka: all but the floor, which
// speaks only to the one broker it dials (a partition's leader only on the sink) and is
// the sink's reference. A new slice: clients is left as it is.
func realClients(clients []string) []string {
	return slices.DeleteFunc(slices.Clone(clients), func(c string) bool { return c == "floor" })
}

// kindsOf are the runs client makes: the floor only throughput, its reference figure
// (it has no linger timer, so its latency would measure the harness's pacing).
func kindsOf(c config, client string) []string {
	if client == "floor" {
		return []string{"throughput"}
	}
	return kinds(c)
}

func javaMode(j *javaRunner) string {
	mode := "scripts/kafka java ProducerPerformance (its tool JVM: -XX:TieredStopAtLevel=1, C1 only, SerialGC)"
	if j.fullJIT {
		mode = "java -Xmx1g -cp <kafka jars> org.apache.kafka.tools.ProducerPerformance (default JIT)"
	}
	if j.warmupOK {
		mode += "; --warmup-records excludes the warm-up from its figures"
	} else {
		mode += "; this version has no --warmup-records, so its figures include JVM warm-up"
	}
	return mode
}

func kinds(c config) []string {
	if c.NoLatency {
		return []string{"throughput"}
	}
	return []string{"throughput", "latency"}
}

// spec builds one run of client in scenario sc.
func (c config) spec(sc scenario, client, kind, brokers, target string, trial int) runSpec {
	r := runSpec{Client: client, Scenario: sc, Brokers: brokers, Warmup: c.Warmup, Create: true, settings: c.Set}
	r.Records = c.Records
	if sc.ValueSize > 512 {
		r.Records = c.Records1k
	}
	if target == "real" && c.RealRecords > 0 {
		r.Records = c.RealRecords
		if sc.ValueSize > 512 {
			r.Records = c.RealRecords / 4
		}
	}
	if kind == "latency" {
		switch {
		case target == "real" && sc.ValueSize > 512:
			r.Rate = c.RealLatRate1
		case target == "real":
			r.Rate = c.RealLatRate
		case sc.ValueSize > 512:
			r.Rate = c.LatRate1k
		default:
			r.Rate = c.LatRate
		}
		r.Records = max(int(float64(r.Rate)*c.LatSeconds), 1000)
	}
	return r
}

func (c config) realTrials() int {
	if c.RealTrials > 0 {
		return c.RealTrials
	}
	return c.Trials
}

// profilePath is where the profile of client in scenario goes.
func profilePath(dir, target, scenario, client string) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%s-%s.pprof", target, scenario, client))
}

// profiledClients are the clients profiled: the target ratios compare these two.
var profiledClients = []string{"kprod", "franz-go"}

// profileRuns runs each profiled client once more in sc with the CPU profiler on. These
// runs are not measured: the profiler's signal handling would tilt a trial.
func profileRuns(ctx context.Context, c config, pin pinner, bin string, sink *sinkProc, sc scenario, clients []string) {
	for _, client := range profiledClients {
		if !slices.Contains(clients, client) || sc.runs(client) != nil {
			continue
		}
		spec := c.spec(sc, client, "throughput", sink.Addr, "sink", 0)
		spec.TLSCA = sink.TLSCA
		spec.Topic = fmt.Sprintf("%s-%s-profile", sc.Name, client)
		spec.Profile = profilePath(c.Profiles, "sink", sc.Name, client)
		spec.Records = max(spec.Records, c.Records) // 1 KiB runs are short: enough samples
		if _, err := runDriver(ctx, pin, c.ClientCore, filepath.Join(bin, "driver"), spec); err != nil {
			log.Printf("profile run %s %s: %v", sc.Name, client, err)
		}
	}
}

// logSkipped says which clients sit out sc, once per scenario and target.
func logSkipped(sc scenario, clients []string) {
	if sk := sc.skipped(clients); len(sk) > 0 {
		log.Printf("%s: not run by %s", sc.Name, strings.Join(sk, "; "))
	}
}

func progress(r runResult) {
	status := "verified"
	switch {
	case r.Err != "":
		status = "FAILED: " + r.Err
	case !r.Verified:
		status = fmt.Sprintf("NOT VERIFIED: received %d of %d", r.Received, r.Expected)
	}
	lat := ""
	if r.Kind == "latency" {
		lat = fmt.Sprintf(" p99 %.0fus", r.Res.LatencyP99Us)
	}
	log.Printf("%s %s t%d %-9s %-10s %9.0f rec/s %6.0f ns/rec %5.2f allocs/rec%s %s",
		r.Target, r.Scenario, r.Trial, r.Client, r.Kind, r.Res.RecordsPerSec, r.Res.CPUNsPerRecord,
		r.Res.MallocsPerRecord, lat, status)
}
