package tlsconf

import (
	"crypto/tls"
	"regexp"
	"slices"
	"strings"
)

// Cipher suites (ssl.cipher.suites). Java and Go both name suites by their IANA
// names; Java also accepts the SSL_ prefix for the old ones. Go's crypto/tls
// honours a list for TLS 1.0-1.2 only: its three TLS 1.3 suites are always
// enabled and cannot be restricted or reordered. So:
//   - TLS 1.2 suites Go implements are used as listed; those it does not (DHE,
//     CCM, ARIA, CAMELLIA, ...) and RC4 or 3DES suites, which Java's
//     jdk.tls.disabledAlgorithms switches off, are ignored with a note;
//   - a list without TLS 1.3 suite disables TLS 1.3, as in Java, where no TLS 1.3
//     suite can then be negotiated;
//   - a list with some but not all three TLS 1.3 suites is refused: Go cannot
//     restrict them, and silently enabling the unlisted ones would betray the list;
//   - a list without usable TLS 1.2 suite allows TLS 1.3 only.

var tls13Suites = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// suiteIDs are the TLS 1.0-1.2 suites Go implements, secure or not, by IANA name.
var suiteIDs = func() map[string]uint16 {
	m := map[string]uint16{}
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, s := range list {
			if !slices.Contains(tls13Suites, s.Name) {
				m[s.Name] = s.ID
			}
		}
	}
	return m
}()

var suiteName = regexp.MustCompile(`^TLS_[A-Z0-9]+(_[A-Z0-9]+)*$`)

// cipherSuites maps ssl.cipher.suites. allow13 reports whether TLS 1.3 may be
// negotiated, only13 whether only TLS 1.3 may (no usable TLS 1.2 suite). An
// empty list means Go's defaults, all versions.
func cipherSuites(list []string) (ids []uint16, allow13, only13 bool, notes []string, err error) {
	var listed13, ignored []string
	listed := false
	for _, raw := range list {
		n := strings.TrimSpace(raw)
		if n == "" {
			continue
		}
		listed = true
		if strings.HasPrefix(n, "SSL_") {
			n = "TLS_" + strings.TrimPrefix(n, "SSL_")
		}
		switch id, ok := suiteIDs[n]; {
		case slices.Contains(tls13Suites, n):
			listed13 = append(listed13, n)
		case n == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" || n == "TLS_FALLBACK_SCSV":
			// Signalling values, not suites: Go sends the renegotiation_info extension
			// and never falls back.
		case ok && (strings.Contains(n, "_RC4_") || strings.Contains(n, "_3DES_")):
			ignored = append(ignored, raw)
		case ok:
			ids = append(ids, id)
		case suiteName.MatchString(n):
			ignored = append(ignored, raw)
		default:
			return nil, false, false, nil, &Error{"ssl.cipher.suites", strings.Join(list, ","),
				"unknown cipher suite " + strings.TrimSpace(raw) + ": use IANA names such as TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}
		}
	}
	if !listed {
		return nil, true, false, nil, nil
	}
	if len(ignored) > 0 {
		notes = append(notes, "ssl.cipher.suites: "+strings.Join(ignored, ", ")+
			" ignored: Go's crypto/tls does not implement them, or Java disables them by default (RC4, 3DES)")
	}
	if len(ids) == 0 && len(listed13) == 0 {
		return nil, false, false, nil, &Error{"ssl.cipher.suites", strings.Join(list, ","),
			"lists no suite Go's crypto/tls can negotiate; Go implements " + strings.Join(goSuiteNames(), ", ")}
	}
	return ids, len(listed13) > 0, len(ids) == 0, notes, nil
}

// tls13Subset refuses a list naming only some TLS 1.3 suites when TLS 1.3 can be
// negotiated.
func tls13Subset(list []string, maxVersion uint16) error {
	if maxVersion < tls.VersionTLS13 {
		return nil
	}
	var listed, missing []string
	for _, s := range tls13Suites {
		if slices.ContainsFunc(list, func(n string) bool { return strings.TrimSpace(n) == s }) {
			listed = append(listed, s)
		} else {
			missing = append(missing, s)
		}
	}
	if len(listed) == 0 || len(missing) == 0 {
		return nil
	}
	return &Error{"ssl.cipher.suites", strings.Join(list, ","),
		"lists the TLS 1.3 suites " + strings.Join(listed, ", ") + " but not " + strings.Join(missing, ", ") +
			": Go's crypto/tls always enables all three TLS 1.3 suites and cannot restrict them; list all three, or none to disable TLS 1.3"}
}

// goSuiteNames lists the suites Go implements and recommends, TLS 1.3 first.
func goSuiteNames() []string {
	out := slices.Clone(tls13Suites)
	for _, s := range tls.CipherSuites() {
		if !slices.Contains(out, s.Name) {
			out = append(out, s.Name)
		}
	}
	return out
}
