package tlsconf

import (
	"crypto/tls"
	"slices"
	"strings"
)

// Protocols. Java 17 knows TLSv1.3, TLSv1.2, and the legacy TLSv1.1, TLSv1,
// SSLv3 and SSLv2Hello, which its default jdk.tls.disabledAlgorithms switches off
// (since 8u291 / 11.0.11): listed in ssl.enabled.protocols they are ignored, and
// so they are here. ssl.protocol names the SSLContext: TLSv1.3 (the default), TLS
// and SSL allow both versions, TLSv1.2 caps the connection at TLS 1.2 even when
// ssl.enabled.protocols lists TLSv1.3 (Kafka's documentation of ssl.protocol).

var versionByName = map[string]uint16{"TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13}

var legacyProtocols = []string{"TLSv1.1", "TLSv1", "SSLv3", "SSLv2Hello"}

type versionRange struct {
	min, max uint16
	ok       bool
}

func versionNames(v versionRange) string {
	if v.min == v.max {
		return tls.VersionName(v.min)
	}
	return tls.VersionName(v.min) + " to " + tls.VersionName(v.max)
}

// protocolRange resolves ssl.protocol and ssl.enabled.protocols to a version range.
func protocolRange(protocol string, enabled []string) (versionRange, []string, error) {
	var notes []string
	capAt := uint16(tls.VersionTLS13)
	switch p := strings.TrimSpace(protocol); strings.ToUpper(p) {
	case "", "TLSV1.3", "TLS", "SSL":
	case "TLSV1.2":
		capAt = tls.VersionTLS12
	case "TLSV1.1", "TLSV1", "SSLV3", "SSLV2":
		return versionRange{}, nil, &Error{"ssl.protocol", protocol,
			"TLSv1.1 and older are disabled in Java (jdk.tls.disabledAlgorithms) and not offered by kprod; use TLSv1.3 (the default) or TLSv1.2"}
	default:
		return versionRange{}, nil, &Error{"ssl.protocol", protocol, "must be TLSv1.3 (the default), TLSv1.2 or TLS"}
	}
	names := slices.DeleteFunc(slices.Clone(enabled), func(s string) bool { return strings.TrimSpace(s) == "" })
	if len(names) == 0 {
		names = []string{"TLSv1.2", "TLSv1.3"} // an empty list means the SSLContext's defaults
	}
	var r versionRange
	var ignored []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		v, ok := versionByName[n]
		switch {
		case ok:
			if !r.ok || v < r.min {
				r.min = v
			}
			if !r.ok || v > r.max {
				r.max = v
			}
			r.ok = true
		case slices.Contains(legacyProtocols, n):
			ignored = append(ignored, n)
		default:
			return versionRange{}, nil, &Error{"ssl.enabled.protocols", strings.Join(enabled, ","),
				"unknown protocol " + n + ": must list TLSv1.2 and/or TLSv1.3"}
		}
	}
	if !r.ok {
		return versionRange{}, nil, &Error{"ssl.enabled.protocols", strings.Join(enabled, ","),
			"lists only protocols Java disables by default and kprod does not offer (TLSv1.1 and older); list TLSv1.2 and/or TLSv1.3"}
	}
	if len(ignored) > 0 {
		notes = append(notes, "ssl.enabled.protocols: "+strings.Join(ignored, ", ")+" ignored, as Java's jdk.tls.disabledAlgorithms ignores them")
	}
	if r.max > capAt {
		r.max = capAt
	}
	if r.min > r.max {
		return versionRange{}, nil, &Error{"ssl.protocol", protocol,
			"allows at most " + tls.VersionName(capAt) + ", below every protocol ssl.enabled.protocols lists"}
	}
	return r, notes, nil
}
