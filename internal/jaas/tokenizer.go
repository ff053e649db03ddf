package jaas

// The tokenizer reproduces the java.io.StreamTokenizer that Kafka's JaasConfig
// configures: Java's default syntax (letters and U+00A0..U+00FF are word characters,
// U+0000..U+0020 whitespace, '/' a comment character, '"' and '\'' quotes, digits, '.'
// and '-' numeric) plus slashSlashComments, slashStarComments and '-', '_', '$' as word
// characters. What matters to the grammar is only which token comes next and, for words
// and quoted strings, its text: a number or an ordinary character has none, which is
// why a bare numeric value (u=3600) is an error in Java.

// Token kinds; an ordinary character is returned as itself (';', '=', ...).
const (
	ttEOF    = -1
	ttWord   = -3
	ttNumber = -2
)

// character classes, as StreamTokenizer's ctype bits.
const (
	ctWhitespace = 1 << iota
	ctDigit
	ctAlpha
	ctQuote
)

var ctype = func() [256]byte {
	var t [256]byte
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= ctAlpha
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] |= ctAlpha
	}
	for c := 128 + 32; c <= 255; c++ {
		t[c] |= ctAlpha
	}
	for c := 0; c <= ' '; c++ {
		t[c] = ctWhitespace
	}
	t['"'] = ctQuote
	t['\''] = ctQuote
	for c := '0'; c <= '9'; c++ {
		t[c] |= ctDigit
	}
	t['.'] |= ctDigit
	t['-'] |= ctDigit
	// JaasConfig: tokenizer.wordChars for '-', '_' and '$'.
	t['-'] |= ctAlpha
	t['_'] |= ctAlpha
	t['$'] |= ctAlpha
	return t
}()

func class(c rune) byte {
	switch {
	case c < 0:
		return ctWhitespace
	case c < 256:
		return ctype[c]
	}
	return ctAlpha
}

// needChar marks that no character is pushed back.
const needChar = -2

type tokenizer struct {
	in    []rune
	pos   int
	peekc rune

	ttype int     // token kind: ttEOF, ttWord, ttNumber, a quote or an ordinary character
	sval  *string // text of a word or quoted string; nil for the rest (Java's null)
}

func newTokenizer(s string) *tokenizer {
	return &tokenizer{in: []rune(s), peekc: needChar}
}

func (t *tokenizer) read() rune {
	if t.pos >= len(t.in) {
		return -1
	}
	c := t.in[t.pos]
	t.pos++
	return c
}

// next reads the next token, as StreamTokenizer.nextToken.
func (t *tokenizer) next() int {
	t.sval = nil
	c := t.peekc
	if c == needChar {
		c = t.read()
	}
	if c < 0 {
		t.ttype = ttEOF
		return t.ttype
	}
	t.peekc = needChar

	ct := class(c)
	for ct&ctWhitespace != 0 {
		c = t.read()
		if c < 0 {
			t.ttype = ttEOF
			return t.ttype
		}
		ct = class(c)
	}

	if ct&ctDigit != 0 {
		if c == '-' {
			c = t.read()
			if c != '.' && (c < '0' || c > '9') {
				t.peekc = c
				t.ttype = '-'
				return t.ttype
			}
		}
		seenDot := false
		for {
			if c == '.' && !seenDot {
				seenDot = true
			} else if c < '0' || c > '9' {
				break
			}
			c = t.read()
		}
		t.peekc = c
		t.ttype = ttNumber
		return t.ttype
	}

	if ct&ctAlpha != 0 {
		var buf []rune
		for {
			buf = append(buf, c)
			c = t.read()
			if class(c)&(ctAlpha|ctDigit) == 0 {
				break
			}
		}
		t.peekc = c
		s := string(buf)
		t.sval = &s
		t.ttype = ttWord
		return t.ttype
	}

	if ct&ctQuote != 0 {
		t.ttype = int(c)
		t.sval = t.quoted(c)
		return t.ttype
	}

	if c == '/' { // Java's default comment character, with // and /* */ turned on
		c = t.read()
		switch c {
		case '*':
			prev := rune(0)
			for {
				c = t.read()
				if c < 0 {
					t.ttype = ttEOF
					return t.ttype
				}
				if c == '/' && prev == '*' {
					return t.next()
				}
				prev = c
			}
		default:
			// "//" and, since '/' is also Java's default comment character, a lone
			// '/' both comment out the rest of the line; like Java, the character
			// after the '/' is consumed first, even a line break.
			return t.skipLine()
		}
	}
	t.ttype = int(c)
	return t.ttype
}

func (t *tokenizer) skipLine() int {
	c := t.read()
	for c != '\n' && c != '\r' && c >= 0 {
		c = t.read()
	}
	t.peekc = c
	return t.next()
}

// quoted reads a quoted string opened by q, with StreamTokenizer's escapes (\a \b \f
// \n \r \t \v, octal \ooo up to \377, any other \x is x). A string ends at its closing
// quote, at a line break (which is kept for the next token) or at the end of input.
func (t *tokenizer) quoted(q rune) *string {
	var buf []rune
	d := t.read()
	for d >= 0 && d != q && d != '\n' && d != '\r' {
		var c rune
		if d == '\\' {
			c = t.read()
			first := c
			if c >= '0' && c <= '7' {
				c -= '0'
				c2 := t.read()
				if '0' <= c2 && c2 <= '7' {
					c = c<<3 + (c2 - '0')
					c2 = t.read()
					if '0' <= c2 && c2 <= '7' && first <= '3' {
						c = c<<3 + (c2 - '0')
						d = t.read()
					} else {
						d = c2
					}
				} else {
					d = c2
				}
			} else {
				switch c {
				case 'a':
					c = 0x7
				case 'b':
					c = '\b'
				case 'f':
					c = 0xC
				case 'n':
					c = '\n'
				case 'r':
					c = '\r'
				case 't':
					c = '\t'
				case 'v':
					c = 0xB
				case -1:
					c = 0xFFFF // Java stores (char) -1
				}
				d = t.read()
			}
		} else {
			c = d
			d = t.read()
		}
		buf = append(buf, c)
	}
	if d != q {
		t.peekc = d
	}
	s := string(buf)
	return &s
}
