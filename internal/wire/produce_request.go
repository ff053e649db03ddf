package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// MinProduceVersion is the oldest Produce version kprod speaks: v3 is the
// first that carries RecordBatch v2 (KIP-98).
const MinProduceVersion = 3

// MaxProduceVersion is the newest Produce version kprod speaks: v12, the
// KIP-890 (transactions v2) version. v13 replaces topic names with topic
// ids (KIP-516) and is deliberately not supported here.
const MaxProduceVersion = 12

const (
	firstFlexibleProduce   = 9 // KIP-482 flexible versions
	produceAPIKey          = 0
	maxInt16StringLen      = math.MaxInt16
	requestFrameSizeLength = 4
)

// CorrelationIDOffset is the byte offset of the correlation id in a request
// frame: after the int32 size, int16 api key and int16 api version. The
// connection layer patches it with PatchCorrelationID just before writing,
// so a request can be encoded before its connection is chosen.
const CorrelationIDOffset = 8

// IsFlexibleProduce reports whether Produce version v uses flexible
// encoding: compact lengths and tagged fields (KIP-482), request header v2
// and response header v1.
func IsFlexibleProduce(v int16) bool { return v >= firstFlexibleProduce }

// ProducePartition is one partition's finished record batch in a request.
type ProducePartition struct {
	Partition int32
	// Records is one finished RecordBatch v2; nil is sent as null.
	Records []byte
}

// ProduceTopic groups a request's partitions of one topic.
type ProduceTopic struct {
	Name       string
	Partitions []ProducePartition
}

// ProduceRequest is a Produce request, versions 3 through 12. The sender
// keeps one per broker and reuses its slices, so encoding it allocates
// nothing in steady state.
type ProduceRequest struct {
	Version int16
	// ClientID goes in the request header; it is always sent non-null.
	ClientID string
	// TransactionalID is nil unless the producer is transactional.
	TransactionalID *string
	Acks            int16
	TimeoutMillis   int32
	Topics          []ProduceTopic
}

// PatchCorrelationID writes id at CorrelationIDOffset of an encoded request
// frame (or of the first segment from AppendSegments). A frame shorter than
// 12 bytes is not a request and is left untouched.
func PatchCorrelationID(frame []byte, id int32) {
	if len(frame) < CorrelationIDOffset+4 {
		return
	}
	binary.BigEndian.PutUint32(frame[CorrelationIDOffset:], uint32(id))
}

// stringLenSize is the size of a string's length prefix.
func stringLenSize(flexible bool, n int) int {
	if flexible {
		return SizeUvarint(uint32(n + 1))
	}
	return 2
}

// arrayLenSize is the size of an array's length prefix.
func arrayLenSize(flexible bool, n int) int {
	if flexible {
		return SizeUvarint(uint32(n + 1))
	}
	return 4
}

// size validates r and returns the frame's total size (size prefix
// included) and the part of it that AppendSegments writes into its own
// buffer rather than referencing, given copyBelow.
func (r *ProduceRequest) size(copyBelow int) (total, own int, err error) {
	if r.Version < MinProduceVersion || r.Version > MaxProduceVersion {
		return 0, 0, fmt.Errorf("kprod: produce request version %d outside supported %d..%d", r.Version, MinProduceVersion, MaxProduceVersion)
	}
	flex := IsFlexibleProduce(r.Version)
	if len(r.ClientID) > maxInt16StringLen {
		return 0, 0, fmt.Errorf("kprod: client id longer than %d bytes", maxInt16StringLen)
	}
	// size, api key, version, correlation id, client id.
	own = 4 + 2 + 2 + 4 + 2 + len(r.ClientID)
	if flex {
		own++ // empty tagged fields of request header v2
	}
	if t := r.TransactionalID; t == nil {
		own += stringLenSize(flex, -1)
	} else {
		if len(*t) > maxInt16StringLen {
			return 0, 0, fmt.Errorf("kprod: transactional id longer than %d bytes", maxInt16StringLen)
		}
		own += stringLenSize(flex, len(*t)) + len(*t)
	}
	own += 2 + 4 + arrayLenSize(flex, len(r.Topics)) // acks, timeout, topics
	var referenced int64
	for i := range r.Topics {
		t := &r.Topics[i]
		if len(t.Name) > maxInt16StringLen {
			return 0, 0, fmt.Errorf("kprod: topic name longer than %d bytes", maxInt16StringLen)
		}
		own += stringLenSize(flex, len(t.Name)) + len(t.Name) + arrayLenSize(flex, len(t.Partitions))
		for j := range t.Partitions {
			rec := t.Partitions[j].Records
			if int64(len(rec)) > math.MaxInt32-1 {
				return 0, 0, fmt.Errorf("kprod: record batch of %d bytes exceeds the protocol limit", len(rec))
			}
			own += 4 // partition index
			n := len(rec)
			if rec == nil {
				n = -1
			}
			if flex {
				own += SizeUvarint(uint32(n+1)) + 1 // length, empty tagged fields
			} else {
				own += 4
			}
			if len(rec) < copyBelow {
				own += len(rec)
			} else {
				referenced += int64(len(rec))
			}
		}
		if flex {
			own++ // topic tagged fields
		}
	}
	if flex {
		own++ // request tagged fields
	}
	if int64(own)+referenced > math.MaxInt32 {
		return 0, 0, fmt.Errorf("kprod: produce request of %d bytes exceeds the protocol limit", int64(own)+referenced)
	}
	return own + int(referenced), own, nil
}

// Size returns the size of the encoded frame, its int32 size prefix
// included.
func (r *ProduceRequest) Size() (int, error) {
	total, _, err := r.size(0)
	return total, err
}

// AppendTo appends the whole request frame, batches copied in, to dst. The
// correlation id is 0 until PatchCorrelationID.
func (r *ProduceRequest) AppendTo(dst []byte) ([]byte, error) {
	total, _, err := r.size(math.MaxInt)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	dst = slices.Grow(dst, total)
	dst, _ = r.encode(dst, start, nil, math.MaxInt, false)
	return dst, nil
}

// AppendSegments encodes the request for a vectored write (net.Buffers):
// the request's own bytes go into buf[:0] (a recycled buffer, grown at most
// once) and batches of copyBelow bytes or more are referenced as-is rather
// than copied, so a large batch never moves. The returned segments, appended
// to segs[:0], concatenate to the frame; the first holds the correlation id
// for PatchCorrelationID. The returned buf is the (possibly grown) buffer for
// the caller to recycle.
func (r *ProduceRequest) AppendSegments(buf []byte, segs [][]byte, copyBelow int) ([]byte, [][]byte, error) {
	_, own, err := r.size(copyBelow)
	if err != nil {
		return buf, segs[:0], err
	}
	buf = slices.Grow(buf[:0], own)
	buf, segs = r.encode(buf, 0, segs[:0], copyBelow, true)
	return buf, segs, nil
}

// encode writes the frame starting at dst[start:]; dst has the capacity
// size computed, so appends never move it and segment views stay valid.
// Batches shorter than copyBelow are copied; longer ones become segments.
func (r *ProduceRequest) encode(dst []byte, start int, segs [][]byte, copyBelow int, wantSegs bool) ([]byte, [][]byte) {
	flex := IsFlexibleProduce(r.Version)
	be := binary.BigEndian
	dst = append(dst, 0, 0, 0, 0) // size, patched below
	dst = be.AppendUint16(dst, produceAPIKey)
	dst = be.AppendUint16(dst, uint16(r.Version))
	dst = be.AppendUint32(dst, 0) // correlation id, see PatchCorrelationID
	// The header's client id stays an int16 string even in header v2, so
	// a broker can read it before it knows the version (KIP-482).
	dst = be.AppendUint16(dst, uint16(len(r.ClientID)))
	dst = append(dst, r.ClientID...)
	if flex {
		dst = append(dst, 0)
	}
	if r.TransactionalID == nil {
		dst = appendStringLen(dst, flex, -1)
	} else {
		dst = appendStringLen(dst, flex, len(*r.TransactionalID))
		dst = append(dst, *r.TransactionalID...)
	}
	dst = be.AppendUint16(dst, uint16(r.Acks))
	dst = be.AppendUint32(dst, uint32(r.TimeoutMillis))
	dst = appendArrayLen(dst, flex, len(r.Topics))
	segStart := start
	referenced := 0
	for i := range r.Topics {
		t := &r.Topics[i]
		dst = appendStringLen(dst, flex, len(t.Name))
		dst = append(dst, t.Name...)
		dst = appendArrayLen(dst, flex, len(t.Partitions))
		for j := range t.Partitions {
			p := &t.Partitions[j]
			dst = be.AppendUint32(dst, uint32(p.Partition))
			n := len(p.Records)
			if p.Records == nil {
				n = -1
			}
			if flex {
				dst = AppendUvarint(dst, uint32(n+1))
			} else {
				dst = be.AppendUint32(dst, uint32(n))
			}
			if len(p.Records) < copyBelow || len(p.Records) == 0 {
				dst = append(dst, p.Records...)
			} else {
				segs = append(segs, dst[segStart:len(dst):len(dst)], p.Records)
				segStart = len(dst)
				referenced += len(p.Records)
			}
			if flex {
				dst = append(dst, 0)
			}
		}
		if flex {
			dst = append(dst, 0)
		}
	}
	if flex {
		dst = append(dst, 0)
	}
	if wantSegs && len(dst) > segStart {
		segs = append(segs, dst[segStart:len(dst):len(dst)])
	}
	be.PutUint32(dst[start:], uint32(len(dst)-start+referenced-requestFrameSizeLength))
	return dst, segs
}

// appendStringLen appends a (nullable, for n == -1) string length prefix.
func appendStringLen(dst []byte, flex bool, n int) []byte {
	if flex {
		return AppendUvarint(dst, uint32(n+1))
	}
	return binary.BigEndian.AppendUint16(dst, uint16(n))
}

// appendArrayLen appends an array length prefix.
func appendArrayLen(dst []byte, flex bool, n int) []byte {
	if flex {
		return AppendUvarint(dst, uint32(n+1))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}
