package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/bench/drivers"
)

func TestSummarize(t *testing.T) {
	cases := []struct {
		in            []float64
		med, min, max float64
	}{
		{[]float64{3, 1, 2}, 2, 1, 3},
		{[]float64{4, 1, 2, 3}, 2.5, 1, 4},
		{[]float64{7}, 7, 7, 7},
	}
	for _, c := range cases {
		s := summarize(c.in)
		if s.med != c.med || s.min != c.min || s.max != c.max || s.n != len(c.in) {
			t.Fatalf("summarize(%v) = %+v", c.in, s)
		}
	}
	if s := summarize(nil); !math.IsNaN(s.med) || s.n != 0 {
		t.Fatalf("empty: %+v", s)
	}
}

func TestTrialOrderRotates(t *testing.T) {
	cs := []string{"a", "b", "c"}
	if got := trialOrder(cs, 1); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Fatal(got)
	}
	if got := trialOrder(cs, 3); !slices.Equal(got, cs) {
		t.Fatal(got)
	}
}

func TestMatrix(t *testing.T) {
	m := matrix()
	names := map[string]bool{}
	for _, s := range m {
		if names[s.Name] {
			t.Fatalf("duplicate scenario %s", s.Name)
		}
		names[s.Name] = true
		if s.Idempotent && s.Acks != "all" {
			t.Fatalf("%s: idempotent with acks=%s", s.Name, s.Acks)
		}
	}
	for _, want := range []string{"v100-none-p1-idem", "v100-lz4-p1-idem", "v100-zstd-p1-idem", "v100-snappy-p1-idem",
		"v100-gzip-p1-idem", "v1024-none-p1-idem", "v100-none-p16-idem", "v100-none-p1-acks1"} {
		if !names[want] {
			t.Fatalf("matrix lacks %s", want)
		}
	}
	if f, err := filter(m, "^v1024-"); err != nil || len(f) != 7 {
		t.Fatalf("filter: %d, %v", len(f), err)
	}
	if _, err := filter(m, "nothing"); err == nil {
		t.Fatal("empty filter accepted")
	}
}

// TestUsersRun checks issue 14's scenarios: their names, what the driver is told, and
// that clients without an option sit them out instead of failing.
func TestUsersRun(t *testing.T) {
	byName := map[string]scenario{}
	for _, s := range matrix() {
		byName[s.Name] = s
	}
	want := map[string][]string{ // scenario -> driver flags kprod gets
		"v100-none-p16-idem-keyed-g1":         {"-keys 65536", "-goroutines 1", "-partitions 16"},
		"v100-none-p16-idem-keyed-g2":         {"-goroutines 2"},
		"v100-none-p16-idem-keyed-g8":         {"-goroutines 8"},
		"v100-none-p16-idem-keyed-g32":        {"-goroutines 32"},
		"v100-none-p1000-idem-keyed-batch16k": {"-partitions 1000", "-batch-bytes 16384", "-keys 65536"},
		"v100-none-p1000-idem-keyed-batch1m":  {"-batch-bytes 1000000"},
		"v100-none-p1-idem-tls":               {"-tls-ca /tmp/ca.pem"},
		"v1024-none-p1-idem-tls":              {"-value-size 1024", "-tls-ca /tmp/ca.pem"},
		"v100-none-p1-idem-observe":           {"-observe"},
	}
	for name, flags := range want {
		sc, ok := byName[name]
		if !ok {
			t.Fatalf("matrix lacks %s", name)
		}
		spec := runSpec{Client: "kprod", Scenario: sc, TLSCA: "/tmp/ca.pem", settings: settings{Payloads: 1, BatchBytes: 5, BufferBytes: 1}}
		args := " " + strings.Join(spec.args(), " ") + " "
		for _, f := range flags {
			if !strings.Contains(args, " "+f+" ") {
				t.Errorf("%s: kprod args %q lack %q", name, args, f)
			}
		}
		if err := sc.runs("kprod"); err != nil {
			t.Errorf("%s: kprod skipped: %v", name, err)
		}
		if err := sc.runs("franz-go"); err != nil {
			t.Errorf("%s: franz-go skipped: %v", name, err)
		}
		if !strings.Contains(sc.describe(), ", ") {
			t.Errorf("%s: describe %q", name, sc.describe())
		}
	}
	// The peers run the observed scenario as usual, without -observe.
	obs := runSpec{Client: "franz-go", Scenario: byName["v100-none-p1-idem-observe"]}
	if slices.Contains(obs.args(), "-observe") {
		t.Fatal("franz-go given -observe")
	}
	if byName["v100-none-p1-idem-observe"].runs("sarama") != nil {
		t.Fatal("sarama skips the observed scenario")
	}
	for _, name := range []string{"v100-none-p16-idem-keyed-g8", "v100-none-p1000-idem-keyed-batch16k", "v100-none-p1-idem-tls"} {
		sk := byName[name].skipped([]string{"kprod", "franz-go", "sarama", "kafka-go", "java"})
		if len(sk) != 2+btoi(!byName[name].TLS) || !strings.HasPrefix(sk[0], "sarama (") {
			t.Errorf("%s: skipped %q", name, sk)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestGenericArgs(t *testing.T) {
	got := genericArgs([]string{"-client", "kprod", "-topic", "x-1", "-records", "5"})
	if got != "-client <client> -topic <topic> -records 5" {
		t.Fatal(got)
	}
}

// TestReportWrites builds a report from made-up runs and checks the tables, ratios,
// targets, problems and charts it writes.
func TestReportWrites(t *testing.T) {
	dir := t.TempDir()
	sc := matrix()[0]
	r := &report{cfg: config{Trials: 2, Records: 100, ClientCore: "1", SinkCore: "0"}, scenarios: []scenario{sc},
		clients: []string{"kprod", "franz-go", "floor"}, versions: map[string]string{"franz-go": "v1.22.2"}}
	add := func(client, kind string, rps, cpu, p99 float64, ok bool) {
		res := drivers.Result{Client: client, Records: 100, RecordsPerSec: rps, CPUNsPerRecord: cpu, Rate: 0, PeakRSSMiB: 42}
		if kind == "latency" {
			res.Rate, res.SendSeconds, res.LatencyP50Us, res.LatencyP99Us, res.LatencyP999Us = 100, 1, p99/2, p99, p99*2
		}
		r.add(runResult{Target: "sink", Scenario: sc.Name, Client: client, Kind: kind, Res: res, Expected: 110,
			Received: 110, WireBytes: 12100, Verified: ok, Args: []string{"-client", client}})
	}
	add("kprod", "throughput", 6e6, 100, 0, true)
	add("kprod", "throughput", 6e6, 120, 0, true)
	add("kprod", "latency", 0, 0, 1000, true)
	add("franz-go", "throughput", 2e6, 500, 0, true)
	add("franz-go", "throughput", 2e6, 500, 0, false)
	add("franz-go", "latency", 0, 0, 4000, true)
	add("floor", "throughput", 9e6, 80, 0, true)
	add("floor", "throughput", 9e6, 80, 0, true)
	out := filepath.Join(dir, "B.md")
	if err := r.write(out); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(out)
	for _, want := range []string{
		"| kprod | 6.00M | ", "110 [100–120]", "3.00x | 0.22x | 0.25x", // kprod row: ratios to franz-go
		"(1 of 3 runs failed)", "| peak RSS MiB |", " | 42.0 | ", "| records/s, 100 B uncompressed | v100-none-p1-idem | ≥ 3x | 3.00x | met |",
		"## Problems", "received 110 of 110", "charts/sink-v100-none-p1-idem.svg",
		"| sink | v100-none-p1-idem | 3.00x | 0.22x | 110 | ahead |", "At or ahead in 1, behind in 0; 0 within 10%.",
		"kprod 110 ns of CPU per record, wanted ≤ 110: met.",
		"The floor in the same run (drivers/floor.go", "took 80.0 ns: kprod is 1.38x of it, and 1.5x of it is 120 ns.",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	svg, err := os.ReadFile(filepath.Join(dir, "charts", "sink-v100-none-p1-idem.svg"))
	if err != nil || !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(string(svg), "kprod") {
		t.Fatalf("chart: %v %.100s", err, svg)
	}
	// -render redraws the same report from the JSON.
	back, err := loadReport(filepath.Join(dir, "B.json"))
	if err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(dir, "again", "B.md")
	os.MkdirAll(filepath.Dir(again), 0o755)
	if err := back.write(again); err != nil {
		t.Fatal(err)
	}
	md2, _ := os.ReadFile(again)
	if string(md2) != string(md) {
		t.Fatalf("rendered from JSON differs:\n%s\n---\n%s", md2, md)
	}
	// A new report keeps the hand-kept Serializers section of the one it replaces.
	kept := "\n## Serializers\n\nby hand\n"
	os.WriteFile(again, append(md2, kept...), 0o644)
	if err := back.write(again); err != nil {
		t.Fatal(err)
	}
	md3, _ := os.ReadFile(again)
	if string(md3) != string(md)+kept {
		t.Fatalf("report did not keep the Serializers section:\n%s", md3)
	}
}

func TestVerdictOf(t *testing.T) {
	for _, c := range []struct {
		rps, cpu float64
		want     string
	}{
		{2.47, 0.40, "ahead"},
		{1.05, 0.70, "ahead, within 10%"},
		{1.44, 0.95, "ahead, within 10%"},
		{1.00, 1.00, "ahead, within 10%"},
		{0.96, 1.05, "**behind**, within 10%"},
		{0.86, 1.02, "**behind**"}, // 14% behind in records/s
		{1.11, 1.14, "**behind**"},
		{0.89, 0.41, "**behind**"},
		{0.99, 0.37, "**behind**, within 10%"},
	} {
		if got, _, _ := verdictOf(c.rps, c.cpu); got != c.want {
			t.Errorf("verdictOf(%v, %v) = %q, want %q", c.rps, c.cpu, got, c.want)
		}
	}
}

// TestFloorOnSinkOnly: the floor never runs against real Kafka, also when Java's tool
// joins the list, and makes only throughput runs.
func TestFloorOnSinkOnly(t *testing.T) {
	in := []string{"kprod", "floor", "franz-go"}
	got := append(realClients(in), "java")
	if want := []string{"kprod", "franz-go", "java"}; !slices.Equal(got, want) {
		t.Fatalf("real clients %v, want %v", got, want)
	}
	if !slices.Equal(in, []string{"kprod", "floor", "franz-go"}) {
		t.Fatalf("realClients changed its argument: %v", in)
	}
	r := &report{clients: in}
	if slices.Contains(r.clientsOf("real"), "floor") || !slices.Contains(r.clientsOf("sink"), "floor") {
		t.Fatalf("clientsOf: real %v, sink %v", r.clientsOf("real"), r.clientsOf("sink"))
	}
	c := config{}
	if k := kindsOf(c, "floor"); !slices.Equal(k, []string{"throughput"}) {
		t.Fatalf("floor kinds %v", k)
	}
	if k := kindsOf(c, "kprod"); !slices.Equal(k, []string{"throughput", "latency"}) {
		t.Fatalf("kprod kinds %v", k)
	}
}
