// Command driver runs one producer benchmark with one client and prints one JSON line
// (package kprod/bench/drivers):
//
//	driver -client kprod|franz-go|confluent|sarama|kafka-go -brokers 127.0.0.1:9092 \
//	    -topic t -partitions 1 -records 1000000 -value-size 100 -compression none \
//	    -acks all -idempotent -linger 5 [-rate 1000000] [-cpuprofile f]
//	    [-keys 65536] [-goroutines 8] [-tls-ca ca.pem] [-observe]
//
// driver -versions prints the clients' versions as JSON.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/kprod-io/kprod/bench/drivers"
)

func main() {
	var o drivers.Options
	o.Register(flag.CommandLine)
	versions := flag.Bool("versions", false, "print client versions as JSON and exit")
	flag.Parse()
	enc := json.NewEncoder(os.Stdout)
	if *versions {
		enc.Encode(drivers.Versions())
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := drivers.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "driver: %s: %v\n", o.Client, err)
		os.Exit(1)
	}
	enc.Encode(res)
}
