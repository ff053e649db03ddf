// Command kprod-chaos is kprod's crash test on a real three-node Kafka cluster (see
// package kprod/internal/chaos); scripts/chaos builds and runs it.
//
//	kprod-chaos [--duration 3m] [--seed S] [--keep] [--report FILE] [--txn=false]
//
// It starts the cluster "chaos" with scripts/kafka on --port (unless it runs already),
// stops it at the end unless --keep (only if it started it), prints progress on stderr
// and the summary on stdout, last the line
//
//	chaos: acked=N faults=F lost=0 duplicated=0 reordered=0 aborted_visible=0 offset_mismatch=0 unresolved=0
//
// and exits 0 when nothing was wrong, 1 on any anomaly, 2 when the run could not
// complete.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kprod-io/kprod/internal/chaos"
)

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("kprod-chaos", flag.ContinueOnError)
	duration := fs.Duration("duration", 3*time.Minute, "how long faults are injected")
	seed := fs.Int64("seed", 0, "seed of the fault schedule (default: the current time)")
	keep := fs.Bool("keep", false, "leave the cluster running at the end")
	report := fs.String("report", "", "JSON report file (default <cache>/chaos/report-SEED.json)")
	producerLog := fs.String("producer-log", "", "kprod's debug log (default next to the report)")
	ledger := fs.String("ledger", "", "write every send's outcome to this file (one line each)")
	txn := fs.Bool("txn", true, "run the transactional producer too")
	rate := fs.Int("rate", 1000, "records per second per producer")
	port := fs.Int("port", 19692, "base client port of the chaos cluster (controllers at +100)")
	cluster := fs.String("cluster", "chaos", "scripts/kafka cluster name")
	kinds := fs.String("faults", "", "comma-separated fault kinds to draw from (default all): "+kindNames())
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *seed == 0 {
		*seed = time.Now().UnixNano() % 1_000_000_007
	}
	root, err := chaos.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	c := chaos.NewCluster(root, *cluster, *port)
	if *report == "" {
		*report = filepath.Join(c.Cache, fmt.Sprintf("report-%d.json", *seed))
	}
	if *producerLog == "" {
		*producerLog = strings.TrimSuffix(*report, ".json") + ".producer.log"
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fmt.Fprintf(os.Stderr, "chaos: seed %d, faults for %s, transactional %v; starting cluster %q on port %d\n", *seed, *duration, *txn, *cluster, *port)
	bootstrap, started, err := c.Up(ctx)
	down := func() { // stop the cluster if we started it, once
		if !started || *keep {
			return
		}
		started = false
		dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer dcancel()
		if err := c.Down(dctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	defer down()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := os.MkdirAll(filepath.Dir(*report), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	plog, err := os.Create(*producerLog)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer plog.Close()

	o := chaos.Options{Bootstrap: bootstrap, Nodes: c, Duration: *duration, Seed: *seed,
		Transactional: *txn, Rate: *rate, Log: os.Stderr, ProducerLog: plog}
	if *ledger != "" {
		f, err := os.Create(*ledger)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer f.Close()
		o.Ledger = f
	}
	if *kinds != "" {
		o.Kinds = strings.Split(*kinds, ",")
	}
	rep, runErr := chaos.Run(ctx, o)
	code := 0
	switch {
	case runErr != nil:
		fmt.Fprintln(os.Stderr, "chaos:", runErr)
		code = 2
	case !rep.OK():
		code = 1
	}
	if rep == nil {
		return 2
	}
	if err := rep.WriteJSON(*report); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	for _, ex := range rep.Examples {
		fmt.Fprintln(os.Stderr, "chaos: anomaly:", ex)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(os.Stderr, "chaos: note:", n)
	}
	fmt.Fprintf(os.Stderr, "chaos: report %s, producer log %s\n", *report, *producerLog)
	down() // before printing, so the summary ends the output
	for _, l := range rep.Lines() {
		fmt.Println(l)
	}
	return code
}

func kindNames() string {
	var ks []string
	for _, k := range chaos.FaultKinds {
		ks = append(ks, k.Kind)
	}
	return strings.Join(ks, ",")
}
