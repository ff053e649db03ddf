// Command sink runs the benchmark sink broker (package kprod/bench/sink): it acks
// Produce requests without storing them and counts what it received per topic.
//
//	sink -addr 127.0.0.1:0 -http 127.0.0.1:0 [-partitions 1] [-verify]
//
// The first line on stdout is JSON with the Kafka and HTTP addresses. GET /stats returns
// every topic's counts and the sink's CPU seconds; GET /stats?topic=T one topic's.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/kprod-io/kprod/bench/sink"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9092", "Kafka listener address (port 0: any free port)")
	httpAddr := flag.String("http", "127.0.0.1:0", "stats HTTP listener address")
	partitions := flag.Int("partitions", 1, "partitions of implicitly created topics")
	verify := flag.Bool("verify", false, "parse every record batch: CRC32C, framing, counts, all codecs")
	quiet := flag.Bool("quiet", false, "do not log protocol and verification errors")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the sink's whole life to this file")
	flag.Parse()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	logf := log.Printf
	if *quiet {
		logf = func(string, ...any) {}
	}
	srv, err := sink.New(sink.Config{Addr: *addr, Partitions: int32(*partitions), Verify: *verify, Logf: logf})
	if err != nil {
		log.Fatal(err)
	}
	hl, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if t := r.URL.Query().Get("topic"); t != "" {
			ts, _ := srv.Topic(t)
			json.NewEncoder(w).Encode(struct {
				sink.TopicStats
				CPUSeconds float64 `json:"cpu_seconds"`
			}{ts, sink.ProcessCPU()})
			return
		}
		json.NewEncoder(w).Encode(srv.Stats())
	})
	go http.Serve(hl, mux)
	fmt.Printf("{\"addr\":%q,\"http\":%q,\"verify\":%v}\n", srv.Addr(), hl.Addr().String(), *verify)
	os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	srv.Close()
}
