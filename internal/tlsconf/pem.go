package tlsconf

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
)

// PEM as Kafka reads it (DefaultSslEngineFactory.PemParser): blocks may sit among
// other text, and a properties value may hold a whole PEM on one line, its lines
// joined by spaces (a backslash-continued value), so whitespace anywhere inside
// the base64 is ignored. encoding/pem wants one block per line structure, hence
// this small reader. Unlike Java's pattern, whose greedy match can swallow all but
// the last of several certificates written on one line, every block is returned.

// pemBlock is one decoded block.
type pemBlock struct {
	label string // e.g. "CERTIFICATE", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"
	// headers reports RFC 1421 headers (Proc-Type, DEK-Info): OpenSSL's legacy
	// encryption, which Java does not read either.
	headers bool
	der     []byte
}

var (
	pemBegin = regexp.MustCompile(`-{3,}\s*BEGIN\s+([A-Z0-9]+(?:\s+[A-Z0-9]+)*)\s*-{3,}`)
	pemEnd   = regexp.MustCompile(`-{3,}\s*END\s+([A-Z0-9]+(?:\s+[A-Z0-9]+)*)\s*-{3,}`)
)

// errNoPEM means the text holds no PEM block at all.
var errNoPEM = errors.New("no PEM block found")

// parsePEM returns every block of text, in order. A block that begins but never
// ends, or whose body is not base64, is an error naming its label.
func parsePEM(text string) ([]pemBlock, error) {
	var out []pemBlock
	for {
		loc := pemBegin.FindStringSubmatchIndex(text)
		if loc == nil {
			break
		}
		label := strings.Join(strings.Fields(text[loc[2]:loc[3]]), " ")
		rest := text[loc[1]:]
		start, end := pemEndOf(rest, label)
		if start < 0 {
			return nil, errors.New("PEM block " + clip(label) + " has no END line")
		}
		body := rest[:start]
		text = rest[end:]
		b := pemBlock{label: label}
		if strings.Contains(body, ":") {
			// Header lines "Name: value" precede a blank line and the base64.
			b.headers = true
			if i := strings.LastIndex(body, ":"); i >= 0 {
				if nl := strings.IndexAny(body[i:], "\r\n"); nl >= 0 {
					body = body[i+nl:]
				}
			}
		}
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
		if err != nil {
			return nil, errors.New("PEM block " + clip(label) + " is not valid base64")
		}
		b.der = der
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errNoPEM
	}
	return out, nil
}

// pemEndOf returns where the END line of label begins and ends in text, or -1, -1:
// the first END line whose label, its words joined by single spaces, is label.
// One fixed pattern serves every label. A pattern built from the label grows with
// it: compiling one took seconds for a label of a megabyte, and for a few
// megabytes regexp refuses it as too large, which MustCompile turned into a panic.
func pemEndOf(text, label string) (start, end int) {
	for off := 0; ; {
		loc := pemEnd.FindStringSubmatchIndex(text[off:])
		if loc == nil {
			return -1, -1
		}
		if strings.Join(strings.Fields(text[off+loc[2]:off+loc[3]]), " ") == label {
			return off + loc[0], off + loc[1]
		}
		// Another label's END line. The one sought may start in its closing
		// dashes ("---END B---END A---"), so look again from the end of its label.
		off += loc[3]
	}
}

// isKeyLabel reports labels Java's PRIVATE KEY pattern matches: "PRIVATE KEY",
// "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", ...
func isKeyLabel(label string) bool { return strings.HasSuffix(label, "PRIVATE KEY") }
