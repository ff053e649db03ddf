// Command sink runs the benchmark sink broker (package kprod/bench/sink): it acks
// Produce requests without storing them and counts what it received per topic.
//
//	sink -addr 127.0.0.1:0 -http 127.0.0.1:0 [-partitions 1] [-verify]
//	     [-tls -tls-ca-out ca.pem | -tls-cert cert.pem -tls-key key.pem]
//
// With -tls it serves TLS with a self-signed certificate for 127.0.0.1, ::1 and
// localhost, made in memory, and writes that certificate (its own CA) to -tls-ca-out
// for clients to trust; -tls-cert and -tls-key serve a certificate of your own.
//
// The first line on stdout is JSON with the Kafka and HTTP addresses (and "tls": true). GET /stats returns
// every topic's counts and the sink's CPU seconds; GET /stats?topic=T one topic's.
package main

import (
	"crypto/tls"
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
	selfSigned := flag.Bool("tls", false, "serve TLS with a self-signed certificate made in memory; its CA goes to -tls-ca-out")
	caOut := flag.String("tls-ca-out", "sink-ca.pem", "with -tls: file to write the CA certificate (PEM) clients trust")
	certFile := flag.String("tls-cert", "", "serve TLS with this PEM certificate (chain) and -tls-key")
	keyFile := flag.String("tls-key", "", "PEM private key of -tls-cert")
	flag.Parse()
	tlsCfg, err := serverTLS(*selfSigned, *caOut, *certFile, *keyFile)
	if err != nil {
		log.Fatal(err)
	}

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
	srv, err := sink.New(sink.Config{Addr: *addr, Partitions: int32(*partitions), Verify: *verify, Logf: logf, TLS: tlsCfg})
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
	fmt.Printf("{\"addr\":%q,\"http\":%q,\"verify\":%v,\"tls\":%v}\n", srv.Addr(), hl.Addr().String(), *verify, tlsCfg != nil)
	os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	srv.Close()
}

// serverTLS is the listener's TLS configuration from the flags, nil for plaintext.
func serverTLS(selfSigned bool, caOut, certFile, keyFile string) (*tls.Config, error) {
	switch {
	case selfSigned && certFile != "":
		return nil, fmt.Errorf("-tls and -tls-cert exclude each other")
	case (certFile == "") != (keyFile == ""):
		return nil, fmt.Errorf("-tls-cert and -tls-key go together")
	case certFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
	case selfSigned:
		cert, caPEM, err := sink.SelfSigned(sink.LocalHosts...)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(caOut, caPEM, 0o644); err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
	}
	return nil, nil
}
