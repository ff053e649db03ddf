// Package sink is a minimal Kafka broker for benchmarks: it answers ApiVersions,
// Metadata, InitProducerId, CreateTopics and Produce on one TCP listener, acks every
// Produce without storing it, and counts what it received per topic. With Verify it
// parses every record batch (CRC32C, framing, record counts, all codecs) so a benchmark
// proves that every record arrived intact.
//
// The sink must never be the bottleneck: without Verify its work is per request and per
// batch (one 61-byte header read per batch), never per record.
package sink

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
)

// NodeID is the node id the sink gives itself in Metadata.
const NodeID = 1

// maxRequest bounds one request's size: clients send at most max.request.size (1 MiB by
// default) plus framing, so 256 MiB only catches garbage.
const maxRequest = 256 << 20

// Config configures a Server.
type Config struct {
	// Addr is the TCP address to listen on; default "127.0.0.1:0" (a free port).
	Addr string
	// Partitions is the partition count of topics created implicitly (by Metadata, by
	// Produce, or CreateTopics with -1). Default 1.
	Partitions int32
	// Verify parses and checks every record of every batch; without it only batch
	// headers are read.
	Verify bool
	// Logf receives one line per protocol or verification problem; nil discards them.
	Logf func(format string, args ...any)
	// TLS, when set, makes the listener serve TLS only (SelfSigned makes a certificate).
	TLS *tls.Config
}

// Server is a running sink broker.
type Server struct {
	cfg  Config
	ln   net.Listener
	host string
	port int32

	topicsMu sync.RWMutex
	topics   map[string]*topic // guarded by topicsMu

	producerIDs atomic.Int64
	requests    atomic.Int64
	protoErrors atomic.Int64

	connsMu sync.Mutex
	conns   map[net.Conn]struct{} // guarded by connsMu; nil once closed
	wg      sync.WaitGroup
}

// New listens on cfg.Addr and starts serving in the background.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = 1
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	host, portStr, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(portStr)
	s := &Server{cfg: cfg, ln: ln, host: host, port: int32(port),
		topics: make(map[string]*topic), conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr returns the host:port clients bootstrap from.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, closes every connection and waits for their goroutines.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.connsMu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.connsMu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.connsMu.Lock()
		if s.conns == nil {
			s.connsMu.Unlock()
			c.Close()
			return
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		if s.cfg.TLS != nil { // the handshake runs on serve's first read, off this loop
			c = tls.Server(c, s.cfg.TLS)
		}
		s.conns[c] = struct{}{}
		s.connsMu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

// serve runs one connection: requests are handled in order (Kafka's per-connection
// ordering) and responses are flushed only when no further request is already buffered,
// so pipelined requests cost one write syscall for several responses.
func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.connsMu.Lock()
		if s.conns != nil {
			delete(s.conns, c)
		}
		s.connsMu.Unlock()
		c.Close()
	}()
	br := bufio.NewReaderSize(c, 1<<20)
	bw := bufio.NewWriterSize(c, 256<<10)
	cs := &connState{}
	var size [4]byte
	var req, out []byte
	for {
		if _, err := io.ReadFull(br, size[:]); err != nil {
			return
		}
		n := int32(binary.BigEndian.Uint32(size[:]))
		if n < 8 || n > maxRequest {
			s.protoErrors.Add(1)
			s.cfg.Logf("sink: %s: bad request size %d; closing", c.RemoteAddr(), n)
			return
		}
		if cap(req) < int(n) {
			req = make([]byte, n)
		}
		req = req[:n]
		if _, err := io.ReadFull(br, req); err != nil {
			return
		}
		var err error
		out, err = s.handle(cs, out[:0], req)
		if err != nil {
			s.protoErrors.Add(1)
			s.cfg.Logf("sink: %s: %v; closing", c.RemoteAddr(), err)
			bw.Flush()
			return
		}
		if len(out) > 0 {
			if _, err := bw.Write(out); err != nil {
				return
			}
		}
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}

// errUnsupported is a request the sink cannot answer; the connection is closed.
var errUnsupported = errors.New("unsupported request")
