package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kprod-io/kprod/bench/drivers"
)

// runResult is one driver (or Java tool) run and what the receiving side counted.
type runResult struct {
	Target        string         `json:"target"` // "sink" or "real"
	Scenario      string         `json:"scenario"`
	Client        string         `json:"client"`
	Trial         int            `json:"trial"`
	Kind          string         `json:"kind"` // "throughput" or "latency"
	Args          []string       `json:"args"`
	Res           drivers.Result `json:"result"`
	Java          *javaResult    `json:"java,omitempty"`
	Expected      int64          `json:"expected"` // warm-up + measured records
	Received      int64          `json:"received"`
	WireBytes     int64          `json:"wire_bytes,omitempty"`
	SinkCPU       float64        `json:"sink_cpu_seconds,omitempty"`
	SinkErrors    int64          `json:"sink_errors,omitempty"`
	SinkLastError string         `json:"sink_last_error,omitempty"`
	Verified      bool           `json:"verified"`
	Err           string         `json:"error,omitempty"`
}

// report collects every run and writes BENCHMARKS.md, the charts and the raw JSON.
type report struct {
	cfg        config
	cmdline    string
	started    time.Time
	finished   time.Time
	machine    machine
	versions   map[string]string
	scenarios  []scenario
	clients    []string
	realAddr   string
	realPinned string
	javaNote   string
	results    []runResult
}

func (r *report) add(x runResult) { r.results = append(r.results, x) }

// saved is the JSON written beside the report: everything it is rendered from, so
// `run -render FILE.json` redraws the report and charts without running anything.
type saved struct {
	Config     config            `json:"config"`
	Cmdline    string            `json:"cmdline"`
	Started    time.Time         `json:"started"`
	Finished   time.Time         `json:"finished"`
	Machine    machine           `json:"machine"`
	Versions   map[string]string `json:"versions"`
	Scenarios  []scenario        `json:"scenarios"`
	Clients    []string          `json:"clients"`
	RealAddr   string            `json:"real_addr,omitempty"`
	RealPinned string            `json:"real_pinned,omitempty"`
	JavaNote   string            `json:"java_note,omitempty"`
	Results    []runResult       `json:"results"`
}

func (r *report) save() saved {
	return saved{Config: r.cfg, Cmdline: r.cmdline, Started: r.started, Finished: r.finished, Machine: r.machine,
		Versions: r.versions, Scenarios: r.scenarios, Clients: r.clients, RealAddr: r.realAddr,
		RealPinned: r.realPinned, JavaNote: r.javaNote, Results: r.results}
}

// loadReport reads a report's JSON back.
func loadReport(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s saved
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &report{cfg: s.Config, cmdline: s.Cmdline, started: s.Started, finished: s.Finished, machine: s.Machine,
		versions: s.Versions, scenarios: s.Scenarios, clients: s.Clients, realAddr: s.RealAddr,
		realPinned: s.RealPinned, javaNote: s.JavaNote, results: s.Results}, nil
}

// summary is median, min and max of one metric over trials.
type summary struct {
	med, min, max float64
	n             int
}

func summarize(xs []float64) summary {
	if len(xs) == 0 {
		return summary{med: math.NaN(), min: math.NaN(), max: math.NaN()}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{med: med, min: s[0], max: s[len(s)-1], n: len(s)}
}

// cell is one client in one scenario on one target, aggregated over trials.
type cell struct {
	client                     string
	rps, mbps, cpu             summary
	allocs, bytes, wire, sinkU summary
	faults                     summary // minor page faults per 1000 records
	rss                        summary // driver's peak RSS, MiB
	p50, p99, p999             summary
	latRate                    int
	latAchieved                float64 // worst achieved/offered over latency trials
	runs, failed               int
}

func (r *report) cell(target, scen, client string) cell {
	c := cell{client: client, latAchieved: math.NaN()}
	var rps, mbps, cpu, allocs, bytes, wire, sinkU, faults, rss, p50, p99, p999 []float64
	for _, x := range r.results {
		if x.Target != target || x.Scenario != scen || x.Client != client {
			continue
		}
		c.runs++
		if x.Err != "" || !x.Verified {
			c.failed++
			continue
		}
		if x.Kind == "latency" {
			p50 = append(p50, x.Res.LatencyP50Us)
			p99 = append(p99, x.Res.LatencyP99Us)
			p999 = append(p999, x.Res.LatencyP999Us)
			c.latRate = x.Res.Rate
			if x.Res.Rate > 0 && x.Res.SendSeconds > 0 {
				a := float64(x.Res.Records) / x.Res.SendSeconds / float64(x.Res.Rate)
				if math.IsNaN(c.latAchieved) || a < c.latAchieved {
					c.latAchieved = a
				}
			}
			continue
		}
		rps = append(rps, x.Res.RecordsPerSec)
		mbps = append(mbps, x.Res.MBPerSec)
		cpu = append(cpu, x.Res.CPUNsPerRecord)
		if x.Res.MallocsPerRecord >= 0 {
			allocs = append(allocs, x.Res.MallocsPerRecord)
			bytes = append(bytes, x.Res.BytesPerRecord)
		}
		if x.Res.PeakRSSMiB > 0 {
			rss = append(rss, x.Res.PeakRSSMiB)
		}
		if x.Res.MinorFaults != nil && x.Res.Records > 0 {
			faults = append(faults, float64(*x.Res.MinorFaults)*1000/float64(x.Res.Records))
		}
		if x.Received > 0 && x.WireBytes > 0 {
			wire = append(wire, float64(x.WireBytes)/float64(x.Received))
		}
		if x.SinkCPU > 0 && x.Expected > 0 {
			sinkU = append(sinkU, x.SinkCPU/float64(x.Expected)*x.Res.RecordsPerSec)
		}
	}
	c.rps, c.mbps, c.cpu = summarize(rps), summarize(mbps), summarize(cpu)
	c.allocs, c.bytes, c.wire, c.sinkU = summarize(allocs), summarize(bytes), summarize(wire), summarize(sinkU)
	c.p50, c.p99, c.p999 = summarize(p50), summarize(p99), summarize(p999)
	c.faults, c.rss = summarize(faults), summarize(rss)
	return c
}

func (r *report) targets() []string {
	var ts []string
	for _, t := range []string{"sink", "real"} {
		for _, x := range r.results {
			if x.Target == t {
				ts = append(ts, t)
				break
			}
		}
	}
	return ts
}

// ran says whether any run of scenario went to target.
func (r *report) ran(target, scenario string) bool {
	return slices.ContainsFunc(r.results, func(x runResult) bool { return x.Target == target && x.Scenario == scenario })
}

func (r *report) clientsOf(target string) []string {
	cs := slices.Clone(r.clients)
	if target == "real" {
		cs = realClients(cs)
		for _, x := range r.results {
			if x.Target == "real" && x.Client == "java" {
				return append(cs, "java")
			}
		}
	}
	return cs
}

// write writes the report to path, charts to charts/ beside it and raw results to
// path with a .json extension.
func (r *report) write(path string) error {
	dir := filepath.Dir(path)
	chartDir := filepath.Join(dir, "charts")
	if err := os.MkdirAll(chartDir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(r.save(), "", " ")
	if err != nil {
		return err
	}
	jsonPath := strings.TrimSuffix(path, filepath.Ext(path)) + ".json"
	if err := os.WriteFile(jsonPath, raw, 0o644); err != nil {
		return err
	}
	var b strings.Builder
	r.header(&b, filepath.Base(jsonPath))
	r.targetsSection(&b)
	r.peersSection(&b)
	for _, target := range r.targets() {
		if target == "sink" {
			fmt.Fprintf(&b, "\n## Against the sink\n\n")
		} else {
			fmt.Fprintf(&b, "\n## Against real Kafka (%s)\n\n", r.realAddr)
			fmt.Fprintf(&b, "The broker caps throughput here; CPU per record still compares clients. %s. Java: %s.\n", r.realPinned, r.javaNote)
		}
		for _, sc := range r.scenarios {
			if !r.ran(target, sc.Name) {
				continue // e.g. TLS on real Kafka without -real-tls
			}
			cells := make([]cell, 0, len(r.clientsOf(target)))
			for _, c := range r.clientsOf(target) {
				cells = append(cells, r.cell(target, sc.Name, c))
			}
			chart := fmt.Sprintf("%s-%s.svg", target, sc.Name)
			if err := os.WriteFile(filepath.Join(chartDir, chart), []byte(svgChart(target+" "+sc.Name, cells)), 0o644); err != nil {
				return err
			}
			r.scenarioSection(&b, target, sc, cells, "charts/"+chart)
		}
	}
	r.problems(&b)
	if old, err := os.ReadFile(path); err == nil {
		b.WriteString(keptSection(string(old)))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// serializersHeading starts the report's hand-kept section: the serializer
// benchmarks (bench/serdes) are go test benchmarks, not runs of this matrix, so
// a new report carries the section over from the file it replaces.
const serializersHeading = "\n## Serializers\n"

// keptSection returns old's hand-kept section, from its heading to the end, or "".
func keptSection(old string) string {
	i := strings.Index(old, serializersHeading)
	if i < 0 {
		return ""
	}
	return old[i:]
}

func (r *report) header(b *strings.Builder, jsonName string) {
	c := r.cfg
	fmt.Fprintf(b, "# Producer benchmarks: kprod and its peers\n\n")
	fmt.Fprintf(b, "Generated by `bench/run` (%s, %s); raw results of every run: [%s](%s).\n\n",
		r.started.UTC().Format(time.RFC3339), r.finished.Sub(r.started).Round(time.Second), jsonName, jsonName)
	if c.Quick {
		fmt.Fprintf(b, "> **Smoke run (-quick): %d trials of %d records on a machine shared with other work. "+
			"These figures only prove the harness; they are noisy and must not be quoted.**\n\n", c.Trials, c.Records)
	}
	m := r.machine
	fmt.Fprintf(b, "## Machine\n\n| | |\n|---|---|\n| cores (nproc) | %s |\n| CPU | %s |\n| memory | %s |\n| kernel | %s |\n| load average at start / end | %s / %s |\n\n",
		m.Nproc, m.CPU, m.Memory, m.Kernel, m.LoadStart, m.LoadEnd)
	fmt.Fprintf(b, "## Versions\n\n| component | version |\n|---|---|\n| Go | %s |\n", m.GoVersion)
	for _, k := range []string{"kprod", "franz-go", "confluent", "librdkafka", "sarama", "kafka-go"} {
		fmt.Fprintf(b, "| %s | %s |\n", k, r.versions[k])
	}
	fmt.Fprintf(b, "\n## Method\n\n")
	fmt.Fprintf(b, "- Command, from `bench/`: `%s`\n", r.cmdline)
	verifyRuns := "latency runs"
	if c.VerifyAll {
		verifyRuns = "every run"
	}
	if !c.Verify {
		verifyRuns = "no run"
	}
	fmt.Fprintf(b, "- Sink: `taskset -c %s sink -addr 127.0.0.1:0 -http 127.0.0.1:0 [-verify]`, a Kafka broker that acks Produce without storing "+
		"(bench/sink); two of them on that core. Throughput runs go to one that counts records from batch headers; %s go to one in "+
		"verify mode, which parses every batch (CRC32C, framing, record counts, every codec) before it answers and so caps the fastest "+
		"clients (`-verify-throughput` sends every run there). After each run the sink's count for the run's own topic must equal "+
		"warm-up + measured records, or the run is reported as a problem below. bench/'s tests run every client and codec through the verifying sink.\n",
		c.SinkCore, verifyRuns)
	fmt.Fprintf(b, "- Client: `taskset -c %s driver -client <client> ...` (bench/drivers), one process per run, one goroutine (or as many as "+
		"a scenario names, sharing the records) calling the client's asynchronous send per record; GOMAXPROCS follows the pinning (1). The exact driver command of each scenario "+
		"is under its table.\n", c.ClientCore)
	fmt.Fprintf(b, "- Interleaved: per scenario, %d trials; each trial runs every client in turn (order rotated per trial), "+
		"each a throughput run then a latency run. Tables give median [min–max] over trials.\n", c.Trials)
	fmt.Fprintf(b, "- Throughput runs: %d records (100 B) or %d (1 KiB) as fast as the client accepts them, after %d warm-up records "+
		"(connections, metadata, producer id, pools) that are not measured; the run ends when every record is acknowledged.\n",
		c.Records, c.Records1k, c.Warmup)
	fmt.Fprintf(b, "- Payloads: %d distinct JSON-like values per size from a fixed seed (bench/drivers/payload.go), no keys unless a scenario is keyed. "+
		"Every client: batch %d bytes (unless a scenario sets batch.size), %d bytes of buffer, its default compression level and partitioner, the OS default socket send buffer (kprod is set to it: its own default is Java's 128 KiB send.buffer.bytes).\n",
		c.Set.Payloads, c.Set.BatchBytes, c.Set.BufferBytes)
	fmt.Fprintf(b, "- CPU ns/record: user+system time of the driver process (getrusage RUSAGE_SELF: every thread, librdkafka's "+
		"too) during the measured phase, divided by records. Allocs and bytes per record: Go's runtime.MemStats (librdkafka's "+
		"C heap is not counted). Page faults: the process's minor faults (getrusage ru_minflt) during the measured phase per 1000 "+
		"records; each first touch of fresh memory costs one (about 2.5 µs here), so they show a client still growing its buffers. Wire B/rec: batch bytes the sink received per record (shows each codec's ratio). Sink core: "+
		"the sink's CPU per record times the client's rate, the share of its one core it used; near 100%% the sink was the bottleneck.\n")
	fmt.Fprintf(b, "- Peak RSS MiB: the driver process's resident high-water mark (getrusage ru_maxrss) over its whole life, "+
		"its payloads (%.3g MiB at 100 B, %.3g MiB at 1 KiB) and warm-up included, median of the throughput runs; Java's is not measured.\n",
		float64(c.Set.Payloads*100)/(1<<20), float64(c.Set.Payloads*1024)/(1<<20))
	fmt.Fprintf(b, "- Latency: a separate run offering a fixed load (sink: %d records/s at 100 B, %d at 1 KiB; real Kafka: %d and %d) "+
		"for %.2g s; each record's latency runs from its scheduled send time to its acknowledgement (coordinated omission "+
		"corrected). A client whose sends fall behind the schedule (send rate under 95%% of the offered load) is marked saturated with the share it achieved.\n",
		c.LatRate, c.LatRate1k, c.RealLatRate, c.RealLatRate1, c.LatSeconds)
	if c.Real != "" && (c.RealTrials > 0 || c.RealRecords > 0) {
		rr := c.RealRecords
		if rr == 0 {
			rr = c.Records
		}
		fmt.Fprintf(b, "- Against real Kafka: %d trials, %d records (100 B) or %d (1 KiB) per throughput run; the count is the sum "+
			"of the topic's end offsets (ListOffsets), which must equal warm-up + measured records, before the topic is deleted.\n", c.realTrials(), rr, rr/4)
	}
	if c.Real != "" {
		fmt.Fprintf(b, "- Before a real-Kafka scenario's trials, one unmeasured throughput run of its first client warms the broker's JVM for that codec and record size.\n")
	}
	fmt.Fprintf(b, "- Ratios are to franz-go's median in the same run.\n")
	if slices.ContainsFunc(r.results, func(x runResult) bool { return x.Client == "floor" }) {
		fmt.Fprintf(b, "- floor is not a client but a reference (bench/drivers/floor.go), on the sink in the scenarios of one partition, uncompressed and unkeyed: "+
			"per record one wall-clock read and the record's encoding with its CRC (kprod's own), per batch one Produce request written and its response read; "+
			"no retry buffer, callback, partitioner, buffer accounting, lock or producer id.\n")
	}
}

// targetsSection checks issue 5's targets against the sink figures.
func (r *report) targetsSection(b *strings.Builder) {
	if !slices.Contains(r.targets(), "sink") {
		return
	}
	type target struct {
		what, scen, metric string
		limit              float64
		atMost             bool
	}
	ts := []target{
		{"CPU/record, 100 B uncompressed", "v100-none-p1-idem", "cpu", 0.25, true},
		{"records/s, 100 B uncompressed", "v100-none-p1-idem", "rps", 3, false},
		{"CPU/record, 100 B lz4", "v100-lz4-p1-idem", "cpu", 0.5, true},
		{"CPU/record, 100 B zstd", "v100-zstd-p1-idem", "cpu", 0.55, true},
		{"records/s, 1 KiB uncompressed", "v1024-none-p1-idem", "rps", 2.5, false},
		{"p99 latency at the offered load, 100 B", "v100-none-p1-idem", "p99", 0.5, true},
		{"p99 latency at the offered load, 100 B, linger 0", "v100-none-p1-idem-linger0", "p99", 0.5, true},
	}
	var missed []string // scenarios of missed CPU and throughput targets
	fmt.Fprintf(b, "\n## Issue 5 targets (sink, kprod ÷ franz-go)\n\n| target | scenario | wanted | measured | |\n|---|---|---|---|---|\n")
	for _, t := range ts {
		k, f := r.cell("sink", t.scen, "kprod"), r.cell("sink", t.scen, "franz-go")
		var ratio float64
		switch t.metric {
		case "cpu":
			ratio = k.cpu.med / f.cpu.med
		case "rps":
			ratio = k.rps.med / f.rps.med
		case "p99":
			ratio = k.p99.med / f.p99.med
		}
		op := "≥"
		ok := ratio >= t.limit
		if t.atMost {
			op, ok = "≤", ratio <= t.limit
		}
		verdict := map[bool]string{true: "met", false: "**missed**"}[ok]
		if math.IsNaN(ratio) {
			verdict = "not run"
		} else if !ok && t.metric != "p99" && !slices.Contains(missed, t.scen) {
			missed = append(missed, t.scen)
		}
		fmt.Fprintf(b, "| %s | %s | %s %.2gx | %s | %s |\n", t.what, t.scen, op, t.limit, fmtRatio(ratio), verdict)
	}
	defer r.profilesSection(b, missed)
	worst, worstScen := math.NaN(), "all"
	for _, sc := range r.scenarios {
		if a := r.cell("sink", sc.Name, "kprod").allocs.med; !math.IsNaN(a) && (math.IsNaN(worst) || a > worst) {
			worst, worstScen = a, sc.Name
		}
	}
	verdict := map[bool]string{true: "met", false: "**missed**"}[worst <= 0.01]
	if math.IsNaN(worst) {
		verdict = "not run"
	}
	// The scenario named is the worst one: with issue 14's scenarios beside issue 5's,
	// "every scenario" covers more than it did.
	fmt.Fprintf(b, "| allocations/record, every scenario (worst median) | %s | ≤ 0.01 | %.3g | %s |\n", worstScen, worst, verdict)
}

// peersSection is issue 14's "done when": kprod's median at or ahead of franz-go's, records/s
// and CPU per record, in every scenario both ran, sink and real Kafka, and 100 B at most 110
// ns of CPU per record on the sink. A margin under 10% either way is marked for PROFILES.md,
// which must explain it with a profile.
func (r *report) peersSection(b *strings.Builder) {
	fmt.Fprintf(b, "\n## Issue 14: kprod ÷ franz-go in every scenario\n\n"+
		"Medians over trials; records/s ≥ 1x and CPU/record ≤ 1x is at or ahead. "+
		"A margin under 10%% (between 0.9x and 1.1x) is one PROFILES.md explains.\n\n"+
		"| target | scenario | records/s | CPU/record | kprod CPU ns/record | |\n|---|---|---|---|---|---|\n")
	var ahead, behind, near int
	for _, target := range r.targets() {
		for _, sc := range r.scenarios {
			k, f := r.cell(target, sc.Name, "kprod"), r.cell(target, sc.Name, "franz-go")
			if k.rps.n == 0 || f.rps.n == 0 {
				continue
			}
			rps, cpu := k.rps.med/f.rps.med, k.cpu.med/f.cpu.med
			verdict, isAhead, close := verdictOf(rps, cpu)
			if isAhead {
				ahead++
			} else {
				behind++
			}
			if close {
				near++
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", target, sc.Name, fmtRatio(rps), fmtRatio(cpu), fmtNum(k.cpu.med), verdict)
		}
	}
	fmt.Fprintf(b, "\nAt or ahead in %d, behind in %d; %d within 10%%.", ahead, behind, near)
	if k := r.cell("sink", "v100-none-p1-idem", "kprod"); k.cpu.n > 0 {
		verdict := map[bool]string{true: "met", false: "**missed**"}[k.cpu.med <= 110]
		fmt.Fprintf(b, " 100 B uncompressed on the sink: kprod %s ns of CPU per record, wanted ≤ 110: %s.", fmtNum(k.cpu.med), verdict)
		// The 110 ns was set as 1.5x issue 5's floor; the floor measured in this run
		// shows how much of the distance is the machine's that day.
		if fl := r.cell("sink", "v100-none-p1-idem", "floor"); fl.cpu.n > 0 {
			fmt.Fprintf(b, " The floor in the same run (drivers/floor.go: the clock read and the encoding with its CRC per record, one write per batch, and the harness's own acknowledgement per record) took %s ns: kprod is %s of it, and 1.5x of it is %s ns.",
				fmtNum(fl.cpu.med), fmtRatio(k.cpu.med/fl.cpu.med), fmtNum(1.5*fl.cpu.med))
		}
	}
	b.WriteString("\n")
}

func (r *report) scenarioSection(b *strings.Builder, target string, sc scenario, cells []cell, chart string) {
	fmt.Fprintf(b, "\n### %s\n\n%s.\n\n", sc.Name, sc.describe())
	if sk := sc.skipped(r.clientsOf(target)); len(sk) > 0 {
		fmt.Fprintf(b, "Not run by: %s.\n\n", strings.Join(sk, "; "))
	}
	fmt.Fprintf(b, "![%s](%s)\n\n", sc.Name, chart)
	var franz cell
	for _, c := range cells {
		if c.client == "franz-go" {
			franz = c
		}
	}
	latHead := "latency p50 / p99 / p99.9 µs"
	for _, c := range cells {
		if c.latRate > 0 {
			latHead = fmt.Sprintf("latency p50 / p99 / p99.9 µs at %s rec/s", fmtCount(float64(c.latRate)))
			break
		}
	}
	fmt.Fprintf(b, "| client | records/s | MB/s | CPU ns/record | allocs/record | B/record | page faults/1k rec | peak RSS MiB | wire B/rec | sink core | %s | rec/s ÷ franz-go | CPU ÷ franz-go | p99 ÷ franz-go |\n", latHead)
	fmt.Fprintf(b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range cells {
		if c.runs == 0 {
			continue
		}
		lat := "—"
		if c.p99.n > 0 {
			lat = fmt.Sprintf("%s / %s / %s", fmtNum(c.p50.med), fmtNum(c.p99.med), fmtNum(c.p999.med))
			if c.latAchieved < 0.95 {
				lat += fmt.Sprintf(" (saturated: %.0f%% of offered)", c.latAchieved*100)
			}
		}
		name := c.client
		if c.failed > 0 {
			name += fmt.Sprintf(" (%d of %d runs failed)", c.failed, c.runs)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
			fmtSummary(c.rps, fmtCount), fmtNum(c.mbps.med), fmtSummary(c.cpu, fmtNum), fmtSmall(c.allocs.med),
			fmtNum(c.bytes.med), fmtSmall(c.faults.med), fmtNum(c.rss.med), fmtNum(c.wire.med), fmtPct(c.sinkU.med), lat,
			fmtRatio(c.rps.med/franz.rps.med), fmtRatio(c.cpu.med/franz.cpu.med), fmtRatio(c.p99.med/franz.p99.med))
	}
	for _, kind := range kinds(r.cfg) {
		for _, x := range r.results {
			if x.Target == target && x.Scenario == sc.Name && x.Kind == kind && x.Client != "java" && len(x.Args) > 0 {
				fmt.Fprintf(b, "\n%s run: `taskset -c %s driver %s`", kind, r.cfg.ClientCore, genericArgs(x.Args))
				break
			}
		}
	}
	for _, x := range r.results {
		if x.Target == target && x.Scenario == sc.Name && x.Client == "java" && len(x.Args) > 0 {
			fmt.Fprintf(b, "\n\nJava (%s run): `ProducerPerformance %s`", x.Kind, strings.Join(x.Args, " "))
			break
		}
	}
	b.WriteString("\n")
}

// genericArgs prints a run's driver arguments with its client and topic as
// placeholders: the same command for every client.
func genericArgs(args []string) string {
	out := slices.Clone(args)
	for i := 0; i+1 < len(out); i++ {
		switch out[i] {
		case "-client":
			out[i+1] = "<client>"
		case "-topic":
			out[i+1] = "<topic>"
		case "-cpuprofile":
			out[i+1] = "<file>"
		}
	}
	return strings.Join(out, " ")
}

func (r *report) problems(b *strings.Builder) {
	var lines []string
	for _, x := range r.results {
		switch {
		case x.Err != "":
			lines = append(lines, fmt.Sprintf("- %s %s %s trial %d %s: failed: %s", x.Target, x.Scenario, x.Client, x.Trial, x.Kind, x.Err))
		case !x.Verified:
			line := fmt.Sprintf("- %s %s %s trial %d %s: received %d of %d records, %d failed acknowledgements, %d rejected batches",
				x.Target, x.Scenario, x.Client, x.Trial, x.Kind, x.Received, x.Expected, x.Res.Failed, x.SinkErrors)
			if x.SinkLastError != "" {
				line += ": " + x.SinkLastError
			}
			lines = append(lines, line)
		}
	}
	fmt.Fprintf(b, "\n## Problems\n\n")
	if len(lines) == 0 {
		fmt.Fprintf(b, "None: every run's records were all acknowledged and counted by the receiving side.\n")
		return
	}
	fmt.Fprintf(b, "Runs below are left out of the tables.\n\n%s\n", strings.Join(lines, "\n"))
}

func fmtSummary(s summary, f func(float64) string) string {
	if s.n == 0 {
		return "—"
	}
	if s.n == 1 || s.min == s.max {
		return f(s.med)
	}
	return fmt.Sprintf("%s [%s–%s]", f(s.med), f(s.min), f(s.max))
}

func fmtCount(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtSmall(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.3g", v)
}

func fmtPct(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", v*100)
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2fx", v)
}

// profilesSection shows, for each scenario of a missed target, the top of kprod's and
// franz-go's CPU profiles from the run's extra profiled runs (-profiles), so the report
// says where each client's time goes. The analysis is in PROFILES.md.
func (r *report) profilesSection(b *strings.Builder, scenarios []string) {
	if r.cfg.Profiles == "" || len(scenarios) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Where the time goes (CPU profiles of the missed targets' scenarios)\n\n"+
		"One extra, unmeasured throughput run per client with `-cpuprofile`, client pinned to one core; "+
		"flat = the function's own time. The raw profiles are in `%s/`; what they show and what stands in "+
		"the way of each target is in [PROFILES.md](PROFILES.md).\n", r.cfg.Profiles)
	for _, sc := range scenarios {
		for _, client := range profiledClients {
			path := profilePath(r.cfg.Profiles, "sink", sc, client)
			top, err := profileTop(path, 14)
			if err != nil {
				continue
			}
			fmt.Fprintf(b, "\n<details><summary>%s, %s: top of <code>%s</code></summary>\n\n```\n%s```\n</details>\n", sc, client, path, top)
		}
	}
}

// profileTop returns the first n rows of go tool pprof -top for a profile.
func profileTop(path string, n int) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	out, err := exec.Command("go", "tool", "pprof", "-top", fmt.Sprintf("-nodecount=%d", n), path).Output()
	if err != nil {
		return "", err
	}
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		if strings.Contains(l, "flat%") {
			lines = lines[i:]
			break
		}
	}
	if len(lines) > n+1 {
		lines = lines[:n+1]
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// verdictOf classifies kprod's ratios to franz-go (records/s, CPU per record): ahead when
// neither is worse. A row is a close call ("within 10%", the margin PROFILES.md must
// explain) when ahead by less than 10% in either measure, or when behind by less than 10%
// in every measure that is behind: 0.86x records/s at 1.02x CPU is 14% behind, not close.
func verdictOf(rps, cpu float64) (verdict string, ahead, close bool) {
	if rps < 1 || cpu > 1 {
		verdict, close = "**behind**", rps >= 0.9 && cpu <= 1.1
	} else {
		verdict, ahead, close = "ahead", true, rps < 1.1 || cpu > 0.9
	}
	if close {
		verdict += ", within 10%"
	}
	return verdict, ahead, close
}
