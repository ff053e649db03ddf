// Command kprod produces records to Kafka with the kprod library.
//
//	kprod perf     ...  measure producer throughput and latency (kafka-producer-perf-test)
//	kprod produce  ...  send stdin lines as records (kafka-console-producer)
//
// Without --bootstrap-server (or bootstrap.servers in the properties), both start an
// embedded in-process Kafka cluster and say so on stderr.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: kprod perf|produce [options]   (kprod COMMAND --help for options)")
		return 2
	}
	switch args[0] {
	case "perf":
		return runPerf(ctx, args[1:], stdout, stderr)
	case "produce":
		return runProduce(ctx, args[1:], stdin, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, "usage: kprod perf|produce [options]   (kprod COMMAND --help for options)")
		return 0
	case "--version", "version":
		fmt.Fprint(stdout, versionText())
		return 0
	default:
		fmt.Fprintf(stderr, "kprod: unknown command %q (want perf or produce)\n", args[0])
		return 2
	}
}
