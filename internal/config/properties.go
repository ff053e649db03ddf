package config

import (
	"bufio"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// SyntaxError reports a malformed line of a properties file.
type SyntaxError struct {
	// Line is the 1-based line on which the offending logical line starts.
	Line int
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("kprod: properties line %d: %s", e.Line, e.Msg)
}

// ParseProperties reads r in java.util.Properties syntax and returns its key/value
// pairs; a key given twice keeps its last value, as Java does.
//
// The syntax is Properties.load's: comment lines start with '#' or '!'; a key ends at
// the first unescaped '=', ':' or whitespace, and whitespace plus one optional '=' or
// ':' separate it from the value; a line ending in an odd number of backslashes
// continues on the next line, whose leading whitespace is dropped; \t \n \r \f and
// \uXXXX are escapes and any other backslash-escaped character stands for itself.
// Unlike Properties.load(InputStream), which reads ISO-8859-1, input is UTF-8 (as with
// Properties.load(Reader) on a UTF-8 reader); a leading byte order mark is skipped.
func ParseProperties(r io.Reader) (map[string]string, error) {
	lr := lineReader{r: bufio.NewReader(r), line: 1}
	out := make(map[string]string)
	first := true
	for {
		logical, start, err := lr.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if first {
			first = false
			if len(logical) >= 3 && logical[0] == 0xEF && logical[1] == 0xBB && logical[2] == 0xBF {
				logical = logical[3:]
			}
		}
		key, value, msg := splitKeyValue(logical)
		if msg != "" {
			return nil, &SyntaxError{Line: start, Msg: msg}
		}
		out[key] = value
	}
}

// lineReader yields logical lines: comments and blank lines dropped, continuations
// joined, leading whitespace removed, escapes still in place. It mirrors the state
// machine of java.util.Properties.LineReader.
type lineReader struct {
	r    *bufio.Reader
	line int // current natural line, 1-based
	buf  []byte
}

// isSpace reports the whitespace Properties skips: space, tab and form feed.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// next returns the next logical line and the natural line it starts on, or io.EOF.
func (lr *lineReader) next() ([]byte, int, error) {
	lr.buf = lr.buf[:0]
	var (
		skipSpace     = true  // skipping leading whitespace of a natural line
		continuation  = false // the current natural line continues the previous one
		newLine       = true  // the next character starts a natural line
		comment       = false // the current natural line is a comment
		backslash     = false // an odd number of backslashes precedes
		start         = lr.line
		startAssigned = false
	)
	for {
		c, err := lr.r.ReadByte()
		if err == io.EOF {
			if len(lr.buf) == 0 || comment {
				return nil, 0, io.EOF
			}
			if backslash {
				// A backslash before end of input continues onto nothing: Java drops it.
				lr.buf = lr.buf[:len(lr.buf)-1]
			}
			return lr.buf, start, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("kprod: reading properties: %w", err)
		}
		if skipSpace {
			if isSpace(c) {
				continue
			}
			if !continuation && (c == '\r' || c == '\n') {
				lr.countEOL(c)
				continue
			}
			skipSpace = false
			continuation = false
		}
		if !startAssigned {
			start, startAssigned = lr.line, true
		}
		if newLine {
			newLine = false
			if c == '#' || c == '!' {
				comment = true
				continue
			}
		}
		if c != '\n' && c != '\r' {
			if !comment {
				lr.buf = append(lr.buf, c)
				if c == '\\' {
					backslash = !backslash
				} else {
					backslash = false
				}
			}
			continue
		}
		lr.countEOL(c)
		if comment || len(lr.buf) == 0 {
			comment, newLine, skipSpace, startAssigned = false, true, true, false
			lr.buf = lr.buf[:0]
			continue
		}
		if backslash {
			lr.buf = lr.buf[:len(lr.buf)-1]
			backslash, skipSpace, continuation = false, true, true
			continue
		}
		return lr.buf, start, nil
	}
}

// countEOL advances the natural line count for an end-of-line character, counting
// "\r\n" once.
func (lr *lineReader) countEOL(c byte) {
	lr.line++
	if c == '\r' {
		if next, err := lr.r.Peek(1); err == nil && next[0] == '\n' {
			_, _ = lr.r.ReadByte()
		}
	}
}

// splitKeyValue splits a logical line into its unescaped key and value, as
// Properties.load0 does, or returns a message for a malformed escape.
func splitKeyValue(line []byte) (key, value string, msg string) {
	keyLen, valueStart := 0, len(line)
	hasSep, backslash := false, false
	for keyLen < len(line) {
		c := line[keyLen]
		if (c == '=' || c == ':') && !backslash {
			valueStart, hasSep = keyLen+1, true
			break
		}
		if isSpace(c) && !backslash {
			valueStart = keyLen + 1
			break
		}
		if c == '\\' {
			backslash = !backslash
		} else {
			backslash = false
		}
		keyLen++
	}
	for valueStart < len(line) {
		c := line[valueStart]
		if !isSpace(c) {
			if !hasSep && (c == '=' || c == ':') {
				hasSep = true
			} else {
				break
			}
		}
		valueStart++
	}
	key, msg = unescape(line[:keyLen])
	if msg != "" {
		return "", "", msg
	}
	value, msg = unescape(line[valueStart:])
	return key, value, msg
}

// unescape resolves Properties escapes. \uXXXX yields a UTF-16 code unit; a
// surrogate pair written as two escapes becomes one character and a lone surrogate
// becomes U+FFFD.
func unescape(in []byte) (string, string) {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); {
		c := in[i]
		i++
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i == len(in) {
			break // unreachable from a logical line: an odd trailing backslash is removed
		}
		c = in[i]
		i++
		switch c {
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 'f':
			out = append(out, '\f')
		case 'u':
			r, ok := hex4(in[i:])
			if !ok {
				return "", `malformed \uxxxx encoding`
			}
			i += 4
			if utf16.IsSurrogate(r) && r < 0xDC00 && len(in)-i >= 6 && in[i] == '\\' && in[i+1] == 'u' {
				if low, ok := hex4(in[i+2:]); ok && low >= 0xDC00 && low <= 0xDFFF {
					r = utf16.DecodeRune(r, low)
					i += 6
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, c)
		}
	}
	return string(out), ""
}

// hex4 decodes the four hexadecimal digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
