package sink

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Advertised API version ranges. Fetch is advertised but never answered: librdkafka
// picks the RecordBatch v2 format only when the broker offers Fetch v4+ (and zstd only
// with Fetch v10+), and falls back to the legacy MessageSet format otherwise. It also
// enables lz4 only when FindCoordinator v0 is offered (its marker for brokers >= 0.8.2):
// without it, librdkafka silently sends lz4 batches uncompressed.
var apiRanges = []kmsg.ApiVersionsResponseApiKey{
	{ApiKey: 0, MinVersion: 3, MaxVersion: 12}, // Produce: v3 is the first with RecordBatch v2
	{ApiKey: 1, MinVersion: 4, MaxVersion: 12}, // Fetch: advertised only
	{ApiKey: 3, MinVersion: 0, MaxVersion: 12}, // Metadata
	{ApiKey: 10, MinVersion: 0, MaxVersion: 4}, // FindCoordinator: the sink itself
	{ApiKey: 18, MinVersion: 0, MaxVersion: 4}, // ApiVersions
	{ApiKey: 19, MinVersion: 2, MaxVersion: 7}, // CreateTopics
	{ApiKey: 22, MinVersion: 0, MaxVersion: 5}, // InitProducerId
}

// connState is per-connection scratch: the verifier's decompressors and buffers.
type connState struct {
	v *verifier
}

// handle answers one request (without its size prefix), appending the framed response
// to out; acks=0 Produce requests get none.
func (s *Server) handle(cs *connState, out, b []byte) ([]byte, error) {
	s.requests.Add(1)
	key := int16(binary.BigEndian.Uint16(b[0:]))
	version := int16(binary.BigEndian.Uint16(b[2:]))
	corr := binary.BigEndian.Uint32(b[4:])
	req := kmsg.RequestForKey(key)
	if req == nil {
		return out, fmt.Errorf("%w: api key %d", errUnsupported, key)
	}
	if key == 18 && !advertised(key, version) {
		// KIP-511: answer an ApiVersions we do not know with v0 and our ranges, so the
		// client retries with a version we do.
		resp := &kmsg.ApiVersionsResponse{Version: 0, ErrorCode: 35, ApiKeys: apiRanges}
		return frame(out, corr, resp), nil
	}
	if !advertised(key, version) || key == 1 {
		return out, fmt.Errorf("%w: api key %d version %d", errUnsupported, key, version)
	}
	req.SetVersion(version)
	body, err := skipHeader(b, req.IsFlexible())
	if err != nil {
		return out, err
	}
	if key == 0 {
		return s.produce(cs, out, corr, version, body)
	}
	if err := req.ReadFrom(body); err != nil {
		return out, fmt.Errorf("api key %d v%d: %w", key, version, err)
	}
	var resp kmsg.Response
	switch r := req.(type) {
	case *kmsg.ApiVersionsRequest:
		resp = &kmsg.ApiVersionsResponse{Version: version, ApiKeys: apiRanges}
	case *kmsg.MetadataRequest:
		resp = s.metadata(r)
	case *kmsg.InitProducerIDRequest:
		ir := r.ResponseKind().(*kmsg.InitProducerIDResponse)
		ir.ProducerID = s.producerIDs.Add(1) + 1000
		ir.ProducerEpoch = 0
		resp = ir
	case *kmsg.CreateTopicsRequest:
		resp = s.createTopics(r)
	case *kmsg.FindCoordinatorRequest:
		fr := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
		fr.NodeID, fr.Host, fr.Port = NodeID, s.host, s.port
		for _, k := range r.CoordinatorKeys {
			fr.Coordinators = append(fr.Coordinators, kmsg.FindCoordinatorResponseCoordinator{
				Key: k, NodeID: NodeID, Host: s.host, Port: s.port})
		}
		resp = fr
	default:
		return out, fmt.Errorf("%w: api key %d", errUnsupported, key)
	}
	return frame(out, corr, resp), nil
}

func advertised(key, version int16) bool {
	for _, r := range apiRanges {
		if r.ApiKey == key {
			return version >= r.MinVersion && version <= r.MaxVersion
		}
	}
	return false
}

// skipHeader skips the request header after api key, version and correlation id: the
// nullable client id and, in flexible versions (header v2), the tagged fields.
func skipHeader(b []byte, flexible bool) ([]byte, error) {
	if len(b) < 10 {
		return nil, fmt.Errorf("short request header")
	}
	off := 10
	if l := int16(binary.BigEndian.Uint16(b[8:])); l > 0 {
		off += int(l)
	}
	if off > len(b) {
		return nil, fmt.Errorf("client id overruns the request")
	}
	if !flexible {
		return b[off:], nil
	}
	n, w := binary.Uvarint(b[off:])
	if w <= 0 {
		return nil, fmt.Errorf("bad header tag count")
	}
	off += w
	for range n {
		_, w := binary.Uvarint(b[off:])
		if w <= 0 {
			return nil, fmt.Errorf("bad header tag")
		}
		off += w
		size, w := binary.Uvarint(b[off:])
		if w <= 0 || size > uint64(len(b)) {
			return nil, fmt.Errorf("bad header tag size")
		}
		off += w + int(size)
		if off > len(b) {
			return nil, fmt.Errorf("header tag overruns the request")
		}
	}
	return b[off:], nil
}

// frame appends size, correlation id, the response header's tagged fields (flexible
// versions, except ApiVersions whose response header is always v0) and the body.
func frame(out []byte, corr uint32, resp kmsg.Response) []byte {
	start := len(out)
	out = append(out, 0, 0, 0, 0)
	out = binary.BigEndian.AppendUint32(out, corr)
	if resp.IsFlexible() && resp.Key() != 18 {
		out = append(out, 0)
	}
	out = resp.AppendTo(out)
	binary.BigEndian.PutUint32(out[start:], uint32(len(out)-start-4))
	return out
}

// metadata answers with the sink as the only broker and leader of every partition,
// creating requested topics that do not exist yet.
func (s *Server) metadata(r *kmsg.MetadataRequest) *kmsg.MetadataResponse {
	resp := r.ResponseKind().(*kmsg.MetadataResponse)
	resp.Brokers = []kmsg.MetadataResponseBroker{{NodeID: NodeID, Host: s.host, Port: s.port}}
	cluster := "kprod-bench-sink"
	resp.ClusterID = &cluster
	resp.ControllerID = NodeID
	var ts []*topic
	if r.Topics == nil {
		ts = s.allTopics()
	} else {
		for _, rt := range r.Topics {
			if rt.Topic == nil {
				continue
			}
			ts = append(ts, s.topic(*rt.Topic, 0))
		}
	}
	for _, t := range ts {
		mt := kmsg.NewMetadataResponseTopic()
		name := t.name
		mt.Topic = &name
		mt.TopicID = t.id
		for p := range t.parts {
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition = int32(p)
			mp.Leader = NodeID
			mp.LeaderEpoch = 0
			mp.Replicas = []int32{NodeID}
			mp.ISR = []int32{NodeID}
			mt.Partitions = append(mt.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp
}

// createTopics creates each topic with its partition count (-1: the default);
// an existing topic is TOPIC_ALREADY_EXISTS, as Kafka answers.
func (s *Server) createTopics(r *kmsg.CreateTopicsRequest) *kmsg.CreateTopicsResponse {
	resp := r.ResponseKind().(*kmsg.CreateTopicsResponse)
	for _, rt := range r.Topics {
		ct := kmsg.NewCreateTopicsResponseTopic()
		ct.Topic = rt.Topic
		t, created := s.create(rt.Topic, rt.NumPartitions)
		ct.TopicID = t.id
		ct.NumPartitions = int32(len(t.parts))
		ct.ReplicationFactor = 1
		if !created {
			ct.ErrorCode = 36 // TOPIC_ALREADY_EXISTS
		}
		resp.Topics = append(resp.Topics, ct)
	}
	return resp
}

// produce acks every partition of the request with the base offset its batches take,
// reading only batch headers unless Verify is set. acks=0 gets no response.
func (s *Server) produce(cs *connState, out []byte, corr uint32, version int16, body []byte) ([]byte, error) {
	var req kmsg.ProduceRequest
	req.Version = version
	if err := req.UnsafeReadFrom(body); err != nil {
		return out, fmt.Errorf("produce v%d: %w", version, err)
	}
	var resp *kmsg.ProduceResponse
	if req.Acks != 0 {
		resp = req.ResponseKind().(*kmsg.ProduceResponse)
		resp.Topics = make([]kmsg.ProduceResponseTopic, 0, len(req.Topics))
	}
	for i := range req.Topics {
		rt := &req.Topics[i]
		t := s.topic(rt.Topic, 0)
		var partResps []kmsg.ProduceResponseTopicPartition
		if resp != nil {
			partResps = make([]kmsg.ProduceResponseTopicPartition, 0, len(rt.Partitions))
		}
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			pr := kmsg.NewProduceResponseTopicPartition()
			pr.Partition = rp.Partition
			pr.LogStartOffset = 0
			base, code := s.append(cs, t, rp.Partition, rp.Records)
			pr.ErrorCode = code
			pr.BaseOffset = base
			if code != 0 {
				pr.BaseOffset = -1
			}
			partResps = append(partResps, pr)
		}
		if resp != nil {
			resp.Topics = append(resp.Topics, kmsg.ProduceResponseTopic{Topic: rt.Topic, Partitions: partResps})
		}
	}
	if resp == nil {
		return out, nil
	}
	return frame(out, corr, resp), nil
}

// Kafka error codes the sink returns.
const (
	errCorruptMessage    = 2
	errUnknownPartition  = 3
	errUnsupportedFormat = 43 // UNSUPPORTED_FOR_MESSAGE_FORMAT
)

// append walks the batches of one partition's records: per batch it reads the header
// (record count, last offset delta), verifies the whole batch when asked, and moves the
// partition's offset. It returns the base offset and a Kafka error code.
func (s *Server) append(cs *connState, t *topic, partition int32, recs []byte) (int64, int16) {
	if partition < 0 || int(partition) >= len(t.parts) {
		t.stats.errors.Add(1)
		return -1, errUnknownPartition
	}
	var batches, records, delta int64
	wire := int64(len(recs))
	for off := 0; off < len(recs); {
		h, err := readHeader(recs[off:])
		if err != nil {
			t.stats.errors.Add(1)
			s.cfg.Logf("sink: topic %s partition %d: %v", t.name, partition, err)
			if h.magic >= 0 && h.magic < 2 {
				return -1, errUnsupportedFormat
			}
			return -1, errCorruptMessage
		}
		batch := recs[off : off+h.size]
		off += h.size
		n := int64(h.count)
		if s.cfg.Verify {
			if cs.v == nil {
				cs.v = newVerifier()
			}
			got, valueBytes, err := cs.v.verify(batch, h)
			if err != nil {
				t.stats.errors.Add(1)
				t.stats.setLastError(err)
				s.cfg.Logf("sink: topic %s partition %d: %v", t.name, partition, err)
				return -1, errCorruptMessage
			}
			n = int64(got)
			t.stats.valueBytes.Add(valueBytes)
		}
		t.stats.codecs[h.codec].Add(1)
		t.stats.codecRecs[h.codec].Add(n)
		batches++
		records += n
		delta += int64(h.lastOffsetDelta) + 1
	}
	base := t.parts[partition].next.Add(delta) - delta
	t.stats.batches.Add(batches)
	t.stats.records.Add(records)
	t.stats.wireBytes.Add(wire)
	return base, 0
}
