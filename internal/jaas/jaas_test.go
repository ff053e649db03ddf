package jaas

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

// javaCases are sasl.jaas.config values with what Kafka 4.4's Java client made of them,
// run through testdata/JaasOracle.java (TestRealJaasMatchesJava runs them again).
var javaCases = []struct{ in, want string }{
	{`org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-secret";`,
		`OK "org.apache.kafka.common.security.plain.PlainLoginModule" required "password"="alice-secret" "username"="alice"`},
	{`org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-secret"`,
		`ERR "JAAS config entry not terminated by semi-colon"`},
	{`a.B required; c.D required;`, `ERR "JAAS config property contains 2 login modules, should be 1 module"`},
	{`a.B REQUIRED u=bare p=bare2;`, `OK "a.B" required "p"="bare2" "u"="bare"`},
	{`a.B optional u="with \"quote\" and \\ backslash" ;`, `OK "a.B" optional "u"="with \"quote\" and \\ backslash"`},
	{`a.B sufficient u='single';`, `OK "a.B" sufficient "u"="single"`},
	{"a.B requisite /* comment */ u=\"x\" // line comment\n p=\"y\";", `OK "a.B" requisite "p"="y" "u"="x"`},
	{`a.B required u=3600;`, `ERR "Value not specified for key 'u' in JAAS config"`},
	{`a.B required u=abc123.x-y_z$w;`, `OK "a.B" required "u"="abc123.x-y_z$w"`},
	{`a.B required u=-foo;`, `ERR "Value not specified for key 'u' in JAAS config"`},
	{`a.B required u=/tmp/x;`, `ERR "Value not specified for key 'u' in JAAS config"`},
	{`a.B bogus;`, `ERR "Invalid login module control flag 'bogus' in JAAS config"`},
	{`a.B;`, `ERR "Login module control flag is not available in the JAAS config"`},
	{`a.B`, `ERR "Login module control flag not specified in JAAS config"`},
	{`;`, `ERR "Login module control flag not specified in JAAS config"`},
	{``, `ERR "Login module not specified in JAAS config"`},
	{`"quoted.Module" required;`, `OK "quoted.Module" required`},
	{`a.B required u="tab\there\nnl\101oct";`, `OK "a.B" required "u"="tab\u0009here\u000anlAoct"`},
	{"a.B required u=\"unterminated\n;", `OK "a.B" required "u"="unterminated"`},
	{`a.B required u;`, `ERR "Value not specified for key 'u' in JAAS config"`},
	{`a.B required u=;`, `ERR "Value not specified for key 'u' in JAAS config"`},
	{`a.B required u="a" u="b";`, `OK "a.B" required "u"="b"`},
	{`a.B required "k"="v";`, `OK "a.B" required "k"="v"`},
	{`a.B required u="é日本";`, `OK "a.B" required "u"="\u00e9\u65e5\u672c"`},
	{`a.B required u=é;`, `OK "a.B" required "u"="\u00e9"`},
	{`a.B required u=日本;`, `OK "a.B" required "u"="\u65e5\u672c"`},
	{`a.B required u=5abc;`, `ERR "Value not specified for key 'u' in JAAS config"`},
	{`a.B required u=a=b;`, `ERR "Value not specified for key 'null' in JAAS config"`},
	{`  a.B   required   ;   `, `OK "a.B" required`},
	{`a.B required; /* trailing */`, `OK "a.B" required`},
	{`a.B required; x`, `ERR "Login module control flag not specified in JAAS config"`},
	{`a.B 5;`, `ERR "Login module control flag is not available in the JAAS config"`},
	{`a.B "required";`, `OK "a.B" required`},
	{`a.B required 5="v";`, `OK "a.B" required`},
	{`a.B required u="x"p="y";`, `OK "a.B" required "p"="y" "u"="x"`},
	{`a.B required u=-5;`, `ERR "Value not specified for key 'u' in JAAS config"`},
	{`a.B required u=.5;`, `ERR "Value not specified for key 'u' in JAAS config"`},
	{`a.B required u="\101\7777\477";`, `OK "a.B" required "u"="A?77'7"`},
	{`a.B required u="end\`, `ERR "JAAS config entry not terminated by semi-colon"`},
	{`a.B required u=x/y;`, `ERR "JAAS config entry not terminated by semi-colon"`},
	{`a.B required u=x/*c*/;`, `OK "a.B" required "u"="x"`},
	{`a.B required u=x /* unterminated`, `ERR "JAAS config entry not terminated by semi-colon"`},
	{"a.B required u=\"a\"\n;", `OK "a.B" required "u"="a"`},
	{`a.B required u="x" /`, `ERR "JAAS config entry not terminated by semi-colon"`},
	{`a.B required u='it''s';`, `ERR "Value not specified for key 's' in JAAS config"`},
	{`a.B required u=$x-1;`, `OK "a.B" required "u"="$x-1"`},
	{`a.B required u=-;`, `ERR "Value not specified for key 'u' in JAAS config"`},
	{`a.B required u=ab;;`, `ERR "Login module control flag not specified in JAAS config"`},
	{`a.B required;;`, `ERR "Login module control flag not specified in JAAS config"`},
	{"a.B\trequired\tu=\"tab\";", `OK "a.B" required "u"="tab"`},
	{"a.B required u=\u00a0x;", `OK "a.B" required "u"="\u00a0x"`},
	{"a.B required u=\u0085x;", `ERR "Value not specified for key 'u' in JAAS config"`},
	{`a.B required u="\u0041";`, `OK "a.B" required "u"="u0041"`},
	{"a.B required u=\"x\"\r\n;", `OK "a.B" required "u"="x"`},
	// A lone '/' comments out the rest of its line including the character after it,
	// even when that is the line break.
	{"a.B required u=x /\n; p=\"y\";", `ERR "JAAS config entry not terminated by semi-colon"`},
	{"a.B required u=x /a\n;", `OK "a.B" required "u"="x"`},
}

// javaNullModule is an input Java rejects with the unhelpful message "null"
// (AppConfigurationEntry's check of an absent class name); Parse says more.
var javaNullModule = []string{`5 required;`, `= required;`, `"" required;`}

func TestParseMatchesJava(t *testing.T) {
	for _, c := range javaCases {
		if got := describe(Parse(c.in)); got != c.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	for _, in := range javaNullModule {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), "class name missing") {
			t.Errorf("Parse(%q) = %v, want the missing class name", in, err)
		}
	}
}

func TestParseEntry(t *testing.T) {
	e, err := Parse(`org.apache.kafka.common.security.scram.ScramLoginModule required
		username="alice" password="alice-secret" // the password
		tokenauth=true;`)
	if err != nil {
		t.Fatal(err)
	}
	want := Entry{Module: "org.apache.kafka.common.security.scram.ScramLoginModule", Flag: Required,
		Options: map[string]string{"username": "alice", "password": "alice-secret", "tokenauth": "true"}}
	if e.Module != want.Module || e.Flag != want.Flag || fmt.Sprint(e.Options) != fmt.Sprint(want.Options) {
		t.Errorf("got %+v, want %+v", e, want)
	}
}

// TestParseErrorsHideValues: an error names keys, never a value (a password).
func TestParseErrorsHideValues(t *testing.T) {
	for _, in := range []string{
		`a.B required password="s3cret"`,
		`a.B required password="s3cret" x=5;`,
		`a.B required password="s3cret"; c.D required password="s3cret";`,
		`a.B required password="s3cret" ; x`,
	} {
		_, err := Parse(in)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%q) = %v", in, err)
		}
	}
}

// describe prints a Parse result as JaasOracle prints Java's.
func describe(e Entry, err error) string {
	if err != nil {
		return "ERR " + javaQuote(err.Error())
	}
	var b strings.Builder
	b.WriteString("OK " + javaQuote(e.Module) + " " + string(e.Flag))
	keys := make([]string, 0, len(e.Options))
	for k := range e.Options {
		keys = append(keys, k)
	}
	// Java's TreeMap orders by UTF-16 code units.
	slices.SortFunc(keys, func(a, b string) int {
		return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
	})
	for _, k := range keys {
		b.WriteString(" " + javaQuote(k) + "=" + javaQuote(e.Options[k]))
	}
	return b.String()
}

func javaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range utf16.Encode([]rune(s)) {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(byte(c))
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&b, "\\u%04x", c)
		default:
			b.WriteByte(byte(c))
		}
	}
	b.WriteByte('"')
	return b.String()
}

func FuzzParse(f *testing.F) {
	for _, c := range javaCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err == nil && (e.Module == "" || e.Flag == "") {
			t.Fatalf("Parse(%q) = %+v without error", s, e)
		}
	})
}
