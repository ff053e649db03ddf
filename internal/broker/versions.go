package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// VersionRange is the inclusive range of versions of one API that a broker
// supports.
type VersionRange struct {
	Min, Max int16
}

// Versions holds what a broker advertised in its ApiVersions response
// (KIP-35, KIP-511): a version range per API key and its finalized features
// (KIP-584). It is immutable once Dial returns, so it is safe to share.
type Versions struct {
	ranges   map[int16]VersionRange
	features map[string]int16
	// featuresEpoch is the finalized-features epoch (ApiVersions v3+), -1 when absent.
	featuresEpoch int64
}

// newVersions indexes an ApiVersions response. Duplicate or inverted entries
// from a broker are tolerated: the last well-formed entry for a key wins.
func newVersions(resp *kmsg.ApiVersionsResponse) Versions {
	v := Versions{
		ranges:        make(map[int16]VersionRange, len(resp.ApiKeys)),
		features:      make(map[string]int16, len(resp.FinalizedFeatures)),
		featuresEpoch: resp.FinalizedFeaturesEpoch,
	}
	for _, k := range resp.ApiKeys {
		if k.MinVersion < 0 || k.MaxVersion < k.MinVersion {
			continue
		}
		v.ranges[k.ApiKey] = VersionRange{Min: k.MinVersion, Max: k.MaxVersion}
	}
	for _, f := range resp.FinalizedFeatures {
		v.features[f.Name] = f.MaxVersionLevel
	}
	return v
}

// Range returns the versions the broker supports for key, and false if the
// broker did not advertise the API at all.
func (v Versions) Range(key int16) (VersionRange, bool) {
	r, ok := v.ranges[key]
	return r, ok
}

// Supports reports whether the broker accepts version of API key.
func (v Versions) Supports(key, version int16) bool {
	r, ok := v.ranges[key]
	return ok && version >= r.Min && version <= r.Max
}

// Pick returns the highest version of API key that both the broker and this
// client (whose own range is [ourMin, ourMax]) support. The error wraps
// ErrUnsupportedVersion when the ranges do not overlap.
func (v Versions) Pick(key, ourMin, ourMax int16) (int16, error) {
	r, ok := v.ranges[key]
	if !ok {
		return 0, fmt.Errorf("%w: broker does not advertise %s", ErrUnsupportedVersion, apiName(key))
	}
	hi := min(r.Max, ourMax)
	lo := max(r.Min, ourMin)
	if hi < lo {
		return 0, fmt.Errorf("%w: %s: client speaks v%d-v%d, broker v%d-v%d",
			ErrUnsupportedVersion, apiName(key), ourMin, ourMax, r.Min, r.Max)
	}
	return hi, nil
}

// FinalizedFeature returns the finalized level of a cluster feature such as
// "transaction.version" (KIP-584, used by KIP-890), and false if the broker did
// not list it.
func (v Versions) FinalizedFeature(name string) (int16, bool) {
	l, ok := v.features[name]
	return l, ok
}

// FinalizedFeaturesEpoch returns the epoch of the finalized features (KIP-584), -1 when
// the broker sent none: a higher epoch is a newer view of the cluster's features.
func (v Versions) FinalizedFeaturesEpoch() int64 { return v.featuresEpoch }

// Len returns how many API keys the broker advertised.
func (v Versions) Len() int { return len(v.ranges) }

func apiName(key int16) string {
	if n := kmsg.NameForKey(key); n != "" && n != "Unknown" {
		return n
	}
	return fmt.Sprintf("api key %d", key)
}

// maxKnownKey bounds the flexible-version table; keys above it are not known
// to kmsg and are treated as never flexible.
const maxKnownKey = 256

// firstFlexible[key] is the first version of key whose request and response
// headers are flexible (KIP-482: request header v2, response header v1), or -1.
// It is built once from kmsg so raw frames (Produce) need no per-request
// allocation to learn their header version.
var firstFlexible = buildFlexibleTable()

func buildFlexibleTable() [maxKnownKey + 1]int16 {
	var t [maxKnownKey + 1]int16
	for k := range t {
		t[k] = -1
		req := kmsg.RequestForKey(int16(k))
		if req == nil {
			continue
		}
		for ver := int16(0); ver <= req.MaxVersion(); ver++ {
			req.SetVersion(ver)
			if req.IsFlexible() {
				t[k] = ver
				break
			}
		}
	}
	return t
}

// responseHeaderFlexible reports whether the response to key at version
// carries response header v1 (a tagged-field section after the correlation
// id). ApiVersions responses always use header v0 so that a client can parse
// them before it knows what the broker supports (KIP-511).
func responseHeaderFlexible(key, version int16) bool {
	if key == apiVersionsKey || key < 0 || int(key) > maxKnownKey {
		return false
	}
	f := firstFlexible[key]
	return f >= 0 && version >= f
}
