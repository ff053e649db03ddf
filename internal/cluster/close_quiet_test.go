package cluster

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/pool"
)

// lockedBuffer is a log sink safe for the refresher goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCloseDuringRefreshIsQuiet: Close while a refresh is waiting on a broker that
// accepted the connection but never answers must not log the cancelled refresh as a
// failure. A normal Close logs nothing at WARN (the operator would page on it).
func TestCloseDuringRefreshIsQuiet(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // hold it open, answer nothing
		}
	}()
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	conns := pool.New(pool.Config{Logger: logger}) // the producer's pool logs with its logger
	c := New(Config{Bootstrap: []string{ln.Addr().String()}, MaxAge: time.Minute, MaxIdle: time.Minute, Pool: conns,
		RetryBackoff: 10 * time.Millisecond, RetryBackoffMax: 100 * time.Millisecond, Logger: logger})
	var conn net.Conn
	select {
	case conn = <-accepted: // the refresh is now waiting on the silent broker
	case <-time.After(10 * time.Second):
		c.Close()
		conns.Close()
		t.Fatal("the refresher never connected")
	}
	defer conn.Close()
	c.Close()
	conns.Close() // as the producer's Close does next: the dial under way stops quietly
	if s := logs.String(); strings.Contains(s, "level=WARN") {
		t.Fatalf("Close during a refresh logged a warning:\n%s", s)
	}
}
