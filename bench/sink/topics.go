package sink

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sort"
	"sync/atomic"
	"syscall"
)

// topic is one topic: its id, its partitions' next offsets and what it received.
type topic struct {
	name  string
	id    [16]byte
	parts []partition
	stats counters
}

// partition holds the next offset to assign; one atomic add per Produce partition.
type partition struct {
	next atomic.Int64
	_    [56]byte // own cache line: connections append to different partitions
}

// counters are a topic's running totals.
type counters struct {
	records    atomic.Int64
	batches    atomic.Int64
	wireBytes  atomic.Int64
	valueBytes atomic.Int64
	errors     atomic.Int64
	codecs     [8]atomic.Int64 // batches per codec id (attributes & 7)
	codecRecs  [8]atomic.Int64 // records per codec id
	lastError  atomic.Pointer[string]
}

func (c *counters) setLastError(err error) {
	s := err.Error()
	c.lastError.Store(&s)
}

// topic returns the named topic, creating it with partitions (0: the default) first.
func (s *Server) topic(name string, partitions int32) *topic {
	s.topicsMu.RLock()
	t := s.topics[name]
	s.topicsMu.RUnlock()
	if t != nil {
		return t
	}
	t, _ = s.create(name, partitions)
	return t
}

// create makes a topic unless it exists; it returns the topic and whether it is new.
func (s *Server) create(name string, partitions int32) (*topic, bool) {
	if partitions <= 0 {
		partitions = s.cfg.Partitions
	}
	s.topicsMu.Lock()
	defer s.topicsMu.Unlock()
	if t := s.topics[name]; t != nil {
		return t, false
	}
	t := &topic{name: name, parts: make([]partition, partitions)}
	rand.Read(t.id[:])
	s.topics[name] = t
	return t, true
}

func (s *Server) allTopics() []*topic {
	s.topicsMu.RLock()
	defer s.topicsMu.RUnlock()
	ts := make([]*topic, 0, len(s.topics))
	for _, t := range s.topics {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].name < ts[j].name })
	return ts
}

// TopicStats is what the sink received for one topic.
type TopicStats struct {
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
	// Records counts records: verified ones with Verify, else batch headers' counts.
	Records int64 `json:"records"`
	Batches int64 `json:"batches"`
	// WireBytes is the size of the record batches as sent (compressed).
	WireBytes int64 `json:"wire_bytes"`
	// ValueBytes is the sum of record value sizes; only counted with Verify.
	ValueBytes int64 `json:"value_bytes"`
	// Errors counts rejected batches (bad CRC, framing, count, codec).
	Errors    int64            `json:"errors"`
	LastError string           `json:"last_error,omitempty"`
	Codecs    map[string]int64 `json:"codecs,omitempty"` // batches per codec
	// CodecRecords counts records per codec, so a test can tell one stray uncompressed
	// single-record batch from a client that ignored its compression setting.
	CodecRecords map[string]int64 `json:"codec_records,omitempty"`
}

// Stats is a snapshot of the whole sink.
type Stats struct {
	Verify      bool         `json:"verify"`
	Requests    int64        `json:"requests"`
	ProtoErrors int64        `json:"proto_errors"`
	CPUSeconds  float64      `json:"cpu_seconds"` // user+sys of the sink's process
	Topics      []TopicStats `json:"topics"`
}

var codecNames = [8]string{"none", "gzip", "snappy", "lz4", "zstd", "codec5", "codec6", "codec7"}

func (t *topic) snapshot() TopicStats {
	ts := TopicStats{Topic: t.name, Partitions: len(t.parts), Records: t.stats.records.Load(),
		Batches: t.stats.batches.Load(), WireBytes: t.stats.wireBytes.Load(),
		ValueBytes: t.stats.valueBytes.Load(), Errors: t.stats.errors.Load()}
	if e := t.stats.lastError.Load(); e != nil {
		ts.LastError = *e
	}
	for i := range t.stats.codecs {
		if n := t.stats.codecs[i].Load(); n > 0 {
			if ts.Codecs == nil {
				ts.Codecs = map[string]int64{}
			}
			ts.Codecs[codecNames[i]] = n
		}
		if n := t.stats.codecRecs[i].Load(); n > 0 {
			if ts.CodecRecords == nil {
				ts.CodecRecords = map[string]int64{}
			}
			ts.CodecRecords[codecNames[i]] = n
		}
	}
	return ts
}

// Topic returns the stats of one topic, and false if the sink has never seen it.
func (s *Server) Topic(name string) (TopicStats, bool) {
	s.topicsMu.RLock()
	t := s.topics[name]
	s.topicsMu.RUnlock()
	if t == nil {
		return TopicStats{Topic: name}, false
	}
	return t.snapshot(), true
}

// Stats returns a snapshot of every topic and the process's CPU time.
func (s *Server) Stats() Stats {
	st := Stats{Verify: s.cfg.Verify, Requests: s.requests.Load(), ProtoErrors: s.protoErrors.Load(),
		CPUSeconds: ProcessCPU()}
	for _, t := range s.allTopics() {
		st.Topics = append(st.Topics, t.snapshot())
	}
	return st
}

// ProcessCPU returns the user+system CPU seconds of this process (getrusage).
func ProcessCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// batchHeader is the fixed 61-byte prefix of a RecordBatch v2.
type batchHeader struct {
	size            int // whole batch: 12 + batchLength
	magic           int8
	crc             uint32
	attributes      int16
	codec           int
	lastOffsetDelta int32
	producerID      int64
	baseSequence    int32
	count           int32
}

const batchHeaderSize = 61

// readHeader reads and bounds-checks one batch header at the start of b.
func readHeader(b []byte) (batchHeader, error) {
	h := batchHeader{magic: -1}
	if len(b) < 17 {
		return h, fmt.Errorf("truncated batch: %d bytes left", len(b))
	}
	h.magic = int8(b[16])
	if h.magic != 2 {
		return h, fmt.Errorf("record batch magic %d: only v2 (magic 2) is accepted", h.magic)
	}
	if len(b) < batchHeaderSize {
		return h, fmt.Errorf("truncated batch header: %d bytes", len(b))
	}
	length := int32(binary.BigEndian.Uint32(b[8:]))
	if length < batchHeaderSize-12 || int(length)+12 > len(b) {
		return h, fmt.Errorf("batch length %d overruns the %d bytes left", length, len(b))
	}
	h.size = int(length) + 12
	h.crc = binary.BigEndian.Uint32(b[17:])
	h.attributes = int16(binary.BigEndian.Uint16(b[21:]))
	h.codec = int(h.attributes & 7)
	h.lastOffsetDelta = int32(binary.BigEndian.Uint32(b[23:]))
	h.producerID = int64(binary.BigEndian.Uint64(b[43:]))
	h.baseSequence = int32(binary.BigEndian.Uint32(b[53:]))
	h.count = int32(binary.BigEndian.Uint32(b[57:]))
	if h.count < 0 || h.lastOffsetDelta < 0 {
		return h, fmt.Errorf("batch record count %d, last offset delta %d", h.count, h.lastOffsetDelta)
	}
	return h, nil
}
