package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/kprod-io/kprod"
)

var perfFlags = []flagSpec{
	{name: "topic", help: "produce messages to this topic (required)"},
	{name: "num-records", help: "number of messages to produce (required)"},
	{name: "record-size", help: "message size in bytes; exactly one of --record-size, --payload-file and --payload-monotonic"},
	{name: "payload-file", help: "file to read message payloads from, split by --payload-delimiter; one drawn at random per record"},
	{name: "payload-monotonic", bool: true, help: "the payload is the record's index, a monotonically increasing integer"},
	{name: "key-distribution", help: "keys: none (null keys, the default), range (round-robin in [0, --record-key-range)) or random (in [0, --record-key-range))"},
	{name: "record-key-range", help: "the range of keys of --key-distribution range or random"},
	{name: "random-seed", help: "seed of the random payloads and keys (default 0: runs repeat)"},
	{name: "warmup-records", help: "this many first records are warmup: a second summary line gives the steady state after them (default 0)"},
	{name: "reporting-interval", help: "print a progress line every this many ms (default 5000)"},
	{name: "payload-delimiter", help: "delimiter of the payload file (default \\n)"},
	{name: "throughput", help: "throttle to about this many messages/sec; -1 for no limit (required)"},
	{name: "producer-props", multi: true, help: "producer properties as key=value ..."},
	{name: "command-property", multi: true, help: "alias of --producer-props (Kafka 4.2+)"},
	{name: "producer.config", help: "producer properties file"},
	{name: "command-config", help: "alias of --producer.config (Kafka 4.2+)"},
	{name: "bootstrap-server", help: "host:port,...; default: an embedded in-process cluster"},
	{name: "print-metrics", bool: true, help: "print the producer's figures at the end"},
	{name: "transactional-id", help: "produce in transactions with this transactional.id (default performance-producer-default-transactional-id when --transaction-duration-ms is set)"},
	{name: "transaction-duration-ms", help: "commit a transaction every this many ms (default 3000 when --transactional-id is set)"},
	{name: "partitions", help: "partitions of the embedded cluster's auto-created topic (default 1)"},
	{name: "help", bool: true, help: "show this help"},
}

const perfSummary = "Measures producer throughput and latency as kafka-producer-perf-test does."

func runPerf(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, err := parseArgs(perfFlags, args)
	if err == nil && a.has("version") {
		fmt.Fprint(stdout, versionText())
		return 0
	}
	if err != nil || a.has("help") {
		if err != nil {
			fmt.Fprintf(stderr, "kprod perf: %v\n\n", err)
		}
		fmt.Fprint(stderr, usage("perf", perfSummary, perfFlags))
		if err != nil {
			return 2
		}
		return 0
	}
	if err := perf(ctx, a, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "kprod perf: %v\n", err)
		return 1
	}
	return 0
}

func perf(ctx context.Context, a parsed, stdout, stderr io.Writer) error {
	topic := a.str("topic", "")
	if topic == "" {
		return errors.New("--topic is required")
	}
	n, err := strconv.ParseInt(a.str("num-records", ""), 10, 64)
	if err != nil || n < 0 {
		return errors.New("--num-records must be a non-negative number")
	}
	tput, err := strconv.ParseFloat(a.str("throughput", "-1"), 64)
	if err != nil {
		return errors.New("--throughput must be a number")
	}
	gen, err := newPerfRecords(a)
	if err != nil {
		return err
	}
	warmup, intervalMs, err := perfTiming(a, n)
	if err != nil {
		return err
	}
	parts, _ := strconv.Atoi(a.str("partitions", "1"))
	props := append(a.all("producer-props"), a.all("command-property")...)
	cfg, closeCluster, err := producerConfig(a.str("producer.config", a.str("command-config", "")), props,
		a.str("bootstrap-server", ""), max(parts, 1), stderr)
	if err != nil {
		return err
	}
	defer closeCluster()
	// Transactions as Java's tool: either flag turns them on, with the other defaulted.
	txnID, durArg := a.str("transactional-id", ""), a.str("transaction-duration-ms", "")
	// A transactional.id from the properties turns transactions on too (Kafka 4.x).
	txns := txnID != "" || durArg != "" || cfg.TransactionalID != ""
	txnDur := 3000 * time.Millisecond
	if durArg != "" {
		ms, err := strconv.ParseInt(durArg, 10, 64)
		if err != nil || ms <= 0 {
			return errors.New("--transaction-duration-ms must be a positive number")
		}
		txnDur = time.Duration(ms) * time.Millisecond
	}
	if txns {
		switch {
		case txnID != "":
			cfg.TransactionalID = txnID // the option wins over the properties
		case cfg.TransactionalID == "":
			// Kafka 4.x: "performance-producer-" and a random UUID.
			cfg.TransactionalID = fmt.Sprintf("performance-producer-%08x-%04x-%04x-%04x-%012x",
				rand.Uint32(), rand.Uint32()&0xffff, 0x4000|rand.Uint32()&0x0fff, 0x8000|rand.Uint32()&0x3fff, rand.Uint64()&0xffffffffffff)
		}
	}
	p, err := kprod.NewProducer(cfg)
	if err != nil {
		return err
	}
	if txns {
		if err := p.InitTransactions(ctx); err != nil {
			p.Close(context.Background())
			return err
		}
	}
	st := newPerfStats(n, time.Duration(intervalMs)*time.Millisecond, warmup, stdout, stderr)
	var txnStart time.Time
	inTxn := false
	thr := newThrottler(tput, time.Now())
	var sendErr error
	rec := kprod.Record{Topic: topic}
	for i := int64(0); i < n; i++ {
		if ctx.Err() != nil {
			sendErr = ctx.Err()
			break
		}
		if txns && !inTxn {
			if sendErr = p.BeginTransaction(); sendErr != nil {
				break
			}
			inTxn, txnStart = true, time.Now()
		}
		gen.fill(i, &rec.Key, &rec.Value)
		if warmup > 0 && i == warmup {
			st.beginSteady()
		}
		if err := p.Send(ctx, &rec, st.cb); err != nil {
			sendErr = err
			break
		}
		if txns && time.Since(txnStart) >= txnDur {
			if sendErr = p.CommitTransaction(ctx); sendErr != nil {
				break
			}
			inTxn = false
		}
		if tput > 0 && thr.shouldThrottle(i, time.Now()) { // no clock read per record unless throttled
			thr.throttle(ctx)
		}
	}
	if txns && inTxn && sendErr == nil {
		sendErr = p.CommitTransaction(ctx)
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var metrics []kprod.Metric
	if a.has("print-metrics") {
		// Java's tool reads producer.metrics() after its flush and before close: the
		// connections still count as open.
		if err := p.Flush(closeCtx); err != nil && sendErr == nil {
			sendErr = err
		}
		metrics = p.Metrics()
	}
	if err := p.Close(closeCtx); err != nil && sendErr == nil {
		sendErr = err
	}
	st.finish()
	printProducerMetrics(stdout, metrics)
	if sendErr != nil {
		return sendErr
	}
	if st.errors.Load() > 0 {
		return fmt.Errorf("%d records failed", st.errors.Load())
	}
	return nil
}

// perfPayloads returns the payloads to draw from: like Java's tool, one random record of
// --record-size uppercase letters, or the records of --payload-file.
func perfPayloads(a parsed, rnd *rand.Rand) ([][]byte, error) {
	size, file := a.str("record-size", ""), a.str("payload-file", "")
	if size != "" {
		n, err := strconv.Atoi(size)
		if err != nil || n < 0 {
			return nil, errors.New("--record-size must be a non-negative number")
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('A' + rnd.IntN(26))
		}
		return [][]byte{b}, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	delim := a.str("payload-delimiter", "\n")
	var out [][]byte
	for _, p := range bytes.Split(data, []byte(delim)) {
		if len(p) > 0 {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no payloads in %s", file)
	}
	return out, nil
}
