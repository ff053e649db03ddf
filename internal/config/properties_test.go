package config

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"empty", "", map[string]string{}},
		{"equals", "a=b", map[string]string{"a": "b"}},
		{"colon", "a:b", map[string]string{"a": "b"}},
		{"space", "a b", map[string]string{"a": "b"}},
		{"tab and form feed", "a\t\fb", map[string]string{"a": "b"}},
		{"spaces around equals", "a  =  b", map[string]string{"a": "b"}},
		{"space then colon", "a : b", map[string]string{"a": "b"}},
		{"only one separator eaten", "a==b", map[string]string{"a": "=b"}},
		{"space separator then equals", "a = =b", map[string]string{"a": "=b"}},
		{"colon in value", "a=b:c=d", map[string]string{"a": "b:c=d"}},
		{"trailing whitespace kept", "a=b  ", map[string]string{"a": "b  "}},
		{"leading whitespace skipped", "   \t a=b", map[string]string{"a": "b"}},
		{"key only", "a", map[string]string{"a": ""}},
		{"key and separator", "a=", map[string]string{"a": ""}},
		{"empty key", "=b", map[string]string{"": "b"}},
		{"hash comment", "# a=b\nc=d", map[string]string{"c": "d"}},
		{"bang comment", "! a=b\nc=d", map[string]string{"c": "d"}},
		{"indented comment", "   # a=b\nc=d", map[string]string{"c": "d"}},
		{"hash inside value", "a=b # not a comment", map[string]string{"a": "b # not a comment"}},
		{"comment ending in backslash does not continue", "# x\\\na=b", map[string]string{"a": "b"}},
		{"blank lines", "\n\n  \n\ta=b\n\n", map[string]string{"a": "b"}},
		{"last value wins", "a=1\na=2", map[string]string{"a": "2"}},
		{"continuation", "a=b\\\n   c", map[string]string{"a": "bc"}},
		{"continuation of key", "ab\\\n  cd=e", map[string]string{"abcd": "e"}},
		{"continuation keeps hash", "a=b\\\n  #c", map[string]string{"a": "b#c"}},
		{"continuation then blank line ends", "a=b\\\n\nc=d", map[string]string{"a": "b", "c": "d"}},
		{"multi continuation", "a=1,\\\n  2,\\\n  3", map[string]string{"a": "1,2,3"}},
		{"even backslashes do not continue", "a=b\\\\\nc=d", map[string]string{"a": `b\`, "c": "d"}},
		{"odd backslashes continue", "a=b\\\\\\\nc", map[string]string{"a": `b\c`}},
		{"backslash at end of input dropped", "a=b\\", map[string]string{"a": "b"}},
		{"CRLF", "a=b\r\nc=d\r\n", map[string]string{"a": "b", "c": "d"}},
		{"CR only", "a=b\rc=d", map[string]string{"a": "b", "c": "d"}},
		{"CRLF continuation", "a=b\\\r\n  c\r\nd=e", map[string]string{"a": "bc", "d": "e"}},
		{"escaped separators in key", `a\=b\:c\ d=e`, map[string]string{"a=b:c d": "e"}},
		{"escapes", `a=\t\n\r\f\\\"\q`, map[string]string{"a": "\t\n\r\f\\\"q"}},
		{"unicode escape", `a=\u0041\u00e9\u20AC`, map[string]string{"a": "Aé€"}},
		{"unicode escape in key", `\u006b=v`, map[string]string{"k": "v"}},
		{"surrogate pair", `a=\uD83D\uDE00`, map[string]string{"a": "😀"}},
		{"lone surrogate", `a=\uD83Dx`, map[string]string{"a": "\uFFFDx"}},
		{"utf8 passes through", "ключ=значение", map[string]string{"ключ": "значение"}},
		{"byte order mark", "\uFEFFa=b", map[string]string{"a": "b"}},
		{"escaped leading space in value", `a=\  b`, map[string]string{"a": "  b"}},
		{"comment at EOF without newline", "a=b\n# end", map[string]string{"a": "b"}},
		{"typical", "bootstrap.servers=localhost:9092\nacks=all\n", map[string]string{"bootstrap.servers": "localhost:9092", "acks": "all"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProperties(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ParseProperties(%q): %v", tt.in, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseProperties(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParsePropertiesErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
	}{
		{"short unicode escape", `a=\u12`, 1},
		{"bad hex", `a=\u12G4`, 1},
		{"bad escape in key", "x=1\n\n\\uZZZZ=v", 3},
		{"line of continued logical line", "a=b\\\n c\nd=\\u1", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProperties(strings.NewReader(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseProperties(%q) error = %v, want *SyntaxError", tt.in, err)
			}
			if se.Line != tt.line {
				t.Errorf("line = %d, want %d", se.Line, tt.line)
			}
			if !strings.HasPrefix(err.Error(), "kprod: properties line ") {
				t.Errorf("message %q lacks prefix", err)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParsePropertiesReadError(t *testing.T) {
	if _, err := ParseProperties(failingReader{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("error = %v, want the read error", err)
	}
}

func FuzzParseProperties(f *testing.F) {
	for _, s := range []string{"a=b", "a\\\n b", `\u0041=\uD83D\uDE00`, "# c\n!d\r\ne:f", "a=\\", "\\u"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseProperties(strings.NewReader(in))
		if err != nil {
			return
		}
		// Writing the pairs back escaped must reproduce them.
		var b strings.Builder
		for k, v := range m {
			b.WriteString(escapeForTest(k, true) + "=" + escapeForTest(v, false) + "\n")
		}
		again, err := ParseProperties(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", b.String(), err)
		}
		if !maps.Equal(m, again) {
			t.Fatalf("round trip of %q: %q != %q", in, again, m)
		}
	})
}

// escapeForTest escapes s as Properties.store would, enough for a round trip. It
// works on bytes so that invalid UTF-8 survives.
func escapeForTest(s string, key bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.HasPrefix(s[i:], "\uFEFF"):
			b.WriteString(`\uFEFF`)
			i += len("\uFEFF") - 1
		case c == '\\' || c == '=' || c == ':' || c == '#' || c == '!':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == ' ' && (key || i == 0):
			b.WriteString(`\ `)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
