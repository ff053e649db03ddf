package wire

import "fmt"

// ProduceResponse is a decoded Produce response, versions 3 through 12. It
// is meant to be reused: Decode keeps the capacity of every slice, so a
// steady stream of responses decodes without allocating. Byte-slice fields
// are views into the decoded body: they are valid only while that buffer
// is, and a nil view means the field was null.
type ProduceResponse struct {
	Topics []ProduceTopicResponse
	// ThrottleMillis is the quota throttle; from v6 the broker applies it
	// after responding, so the client must wait before its next request
	// (KIP-219).
	ThrottleMillis int32
	// NodeEndpoints (v10+, top-level tag 0, KIP-951) give the address of
	// every new leader named in a partition's CurrentLeader, so the client
	// can redirect without waiting for a metadata refresh.
	NodeEndpoints []NodeEndpoint
}

// ProduceTopicResponse is one topic of a Produce response. Name is a view
// into the response, to be matched against the request's topic names.
type ProduceTopicResponse struct {
	Name       []byte
	Partitions []ProducePartitionResponse
}

// ProducePartitionResponse is one partition's result.
type ProducePartitionResponse struct {
	Partition  int32
	ErrorCode  int16
	BaseOffset int64
	// LogAppendTime is -1 unless the topic uses LogAppendTime.
	LogAppendTime int64
	// LogStartOffset is -1 before v5 (KIP-107 added it to tell data loss
	// from an expired producer on UNKNOWN_PRODUCER_ID).
	LogStartOffset int64
	// RecordErrors (v8+, KIP-467) name the records that failed the batch.
	RecordErrors []RecordError
	// ErrorMessage (v8+) is nil when null.
	ErrorMessage []byte
	// CurrentLeader (v10+, tag 0, KIP-951) is the new leader on
	// NOT_LEADER_OR_FOLLOWER; LeaderID -1 means unknown or absent.
	CurrentLeader LeaderIDAndEpoch
}

// RecordError is one record that made the broker reject its batch.
type RecordError struct {
	// BatchIndex is the record's position in the batch.
	BatchIndex int32
	// Message is nil when null.
	Message []byte
}

// LeaderIDAndEpoch is a partition leader and its epoch, -1 when unknown.
type LeaderIDAndEpoch struct {
	LeaderID    int32
	LeaderEpoch int32
}

// NodeEndpoint is one broker's address from a Produce response (KIP-951).
type NodeEndpoint struct {
	NodeID int32
	Host   []byte
	Port   int32
	// Rack is nil when null.
	Rack []byte
}

// Smallest wire encodings of response elements, used to reject counts the
// remaining bytes cannot hold before any memory is reserved.
const (
	minTopicResponse = 3  // flexible: name length, partitions length, tags
	minRecordError   = 6  // batch index, null message (int16 or uvarint + tags)
	minNodeEndpoint  = 11 // node id, host length, port, rack, tags
)

// ReadResponseHeader splits a response frame, without its int32 size
// prefix, into the correlation id and the body. Flexible versions use
// response header v1, whose tagged fields it skips (KIP-482).
func ReadResponseHeader(frame []byte, flexible bool) (correlationID int32, body []byte, err error) {
	r := reader{b: frame}
	correlationID = r.int32()
	if flexible {
		r.skipTags()
	}
	if r.err != nil {
		return 0, nil, fmt.Errorf("kprod: reading response header: %w", r.err)
	}
	return correlationID, r.b, nil
}

// reserve makes room for n elements, keeping the old elements (and so the
// capacity of their own slices) for reuse. n has been checked against the
// bytes left, so the memory is bounded by the frame, and one exact
// allocation replaces append's repeated growth.
func reserve[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:0]
	}
	grown := make([]T, n)
	copy(grown, s[:cap(s)])
	return grown[:0]
}

// next extends s, which reserve sized, by one element, reusing the old one.
func next[T any](s []T) ([]T, *T) {
	if len(s) < cap(s) {
		s = s[:len(s)+1]
	} else {
		var zero T
		s = append(s, zero)
	}
	return s, &s[len(s)-1]
}

// minPartitionResponse is the smallest encoding of a partition response in
// a version: partition, error code, base offset, log append time, then
// log start offset (v5+), empty record errors and null message (v8+), and
// empty tagged fields (v9+).
func minPartitionResponse(version int16) int {
	switch {
	case version >= 9:
		return 33
	case version >= 8:
		return 36
	case version >= 5:
		return 30
	}
	return 22
}

// Decode parses a Produce response body (after ReadResponseHeader) of the
// given version into r, reusing r's slices. Truncated or hostile input
// returns an error; it never panics.
func (r *ProduceResponse) Decode(version int16, body []byte) error {
	if version < MinProduceVersion || version > MaxProduceVersion {
		return fmt.Errorf("kprod: produce response version %d outside supported %d..%d", version, MinProduceVersion, MaxProduceVersion)
	}
	flex := IsFlexibleProduce(version)
	rd := reader{b: body}
	r.NodeEndpoints = r.NodeEndpoints[:0]
	r.ThrottleMillis = 0
	nt := rd.arrayLen(flex, minTopicResponse)
	r.Topics = reserve(r.Topics, nt)
	for i := 0; i < nt && rd.err == nil; i++ {
		var t *ProduceTopicResponse
		r.Topics, t = next(r.Topics)
		t.Name = rd.string(flex)
		np := rd.arrayLen(flex, minPartitionResponse(version))
		t.Partitions = reserve(t.Partitions, np)
		for j := 0; j < np && rd.err == nil; j++ {
			var p *ProducePartitionResponse
			t.Partitions, p = next(t.Partitions)
			decodePartition(&rd, p, version)
		}
		if flex {
			rd.skipTags()
		}
	}
	r.ThrottleMillis = rd.int32()
	if flex {
		r.decodeTags(&rd, version)
	}
	if rd.err != nil {
		return fmt.Errorf("kprod: decoding produce response v%d: %w", version, rd.err)
	}
	return nil
}

// decodePartition parses one partition response into p, resetting every
// field a reused element may still hold.
func decodePartition(rd *reader, p *ProducePartitionResponse, version int16) {
	flex := IsFlexibleProduce(version)
	p.Partition = rd.int32()
	p.ErrorCode = rd.int16()
	p.BaseOffset = rd.int64()
	p.LogAppendTime = rd.int64() // v2+
	p.LogStartOffset = -1
	if version >= 5 {
		p.LogStartOffset = rd.int64()
	}
	p.RecordErrors = p.RecordErrors[:0]
	p.ErrorMessage = nil
	p.CurrentLeader = LeaderIDAndEpoch{LeaderID: -1, LeaderEpoch: -1}
	if version >= 8 {
		ne := rd.arrayLen(flex, minRecordError)
		p.RecordErrors = reserve(p.RecordErrors, ne)
		for k := 0; k < ne && rd.err == nil; k++ {
			var e *RecordError
			p.RecordErrors, e = next(p.RecordErrors)
			e.BatchIndex = rd.int32()
			e.Message = rd.nullableString(flex)
			if flex {
				rd.skipTags()
			}
		}
		p.ErrorMessage = rd.nullableString(flex)
	}
	if !flex {
		return
	}
	n := rd.uvarint()
	for k := uint32(0); k < n && rd.err == nil; k++ {
		tag := rd.uvarint()
		data := rd.span(int(rd.uvarint()))
		if tag != 0 || version < 10 || rd.err != nil {
			continue // unknown tag: skipped, as KIP-482 requires
		}
		sub := reader{b: data}
		p.CurrentLeader.LeaderID = sub.int32()
		p.CurrentLeader.LeaderEpoch = sub.int32()
		sub.skipTags()
		if sub.err != nil {
			rd.fail(sub.err)
		}
	}
}

// decodeTags parses the response's top-level tagged fields.
func (r *ProduceResponse) decodeTags(rd *reader, version int16) {
	n := rd.uvarint()
	for k := uint32(0); k < n && rd.err == nil; k++ {
		tag := rd.uvarint()
		data := rd.span(int(rd.uvarint()))
		if tag != 0 || version < 10 || rd.err != nil {
			continue
		}
		sub := reader{b: data}
		ne := sub.arrayLen(true, minNodeEndpoint)
		r.NodeEndpoints = reserve(r.NodeEndpoints, ne)
		for i := 0; i < ne && sub.err == nil; i++ {
			var e *NodeEndpoint
			r.NodeEndpoints, e = next(r.NodeEndpoints)
			e.NodeID = sub.int32()
			e.Host = sub.string(true)
			e.Port = sub.int32()
			e.Rack = sub.nullableString(true)
			sub.skipTags()
		}
		if sub.err != nil {
			rd.fail(sub.err)
		}
	}
}
