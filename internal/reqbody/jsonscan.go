package reqbody

import (
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit for one value; deeper is an
// error there, so it is one here.
const maxDepth = 10000

// jsonScan is a cursor over a JSON text.
type jsonScan struct {
	b []byte
	i int
}

func (p *jsonScan) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonScan) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// space skips JSON's four whitespace characters.
func (p *jsonScan) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value checks one JSON value of any kind; depth is the nesting level it
// has if it is an object or an array.
func (p *jsonScan) value(depth int) bool {
	switch c := p.peek(); {
	case c == '"':
		return p.skipStr()
	case (c == '{' || c == '[') && depth > maxDepth:
		return false
	case c == '{':
		p.i++
		p.space()
		if p.eat('}') {
			return true
		}
		for {
			p.space()
			if !p.skipStr() {
				return false
			}
			p.space()
			if !p.eat(':') {
				return false
			}
			p.space()
			if !p.value(depth + 1) {
				return false
			}
			p.space()
			if p.eat(',') {
				continue
			}
			return p.eat('}')
		}
	case c == '[':
		p.i++
		p.space()
		if p.eat(']') {
			return true
		}
		for {
			p.space()
			if !p.value(depth + 1) {
				return false
			}
			p.space()
			if p.eat(',') {
				continue
			}
			return p.eat(']')
		}
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return false
}

func (p *jsonScan) literal(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonScan) number() bool {
	p.eat('-')
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return false
	}
	if p.eat('.') {
		if !p.digits() {
			return false
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !p.digits() {
			return false
		}
	}
	return true
}

// digits skips [0-9]+ and reports whether there was one.
func (p *jsonScan) digits() bool {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// skipStr checks a string without decoding it.
func (p *jsonScan) skipStr() bool {
	_, _, ok := p.scanStr()
	return ok
}

// str reads a string and decodes it; a string without escapes is copied
// once.
func (p *jsonScan) str() (string, bool) {
	raw, escaped, ok := p.scanStr()
	switch {
	case !ok:
		return "", false
	case escaped:
		return unescape(raw), true
	}
	return string(raw), true
}

// scanStr checks the string at the cursor and returns its inside as
// written, and whether that holds an escape.
func (p *jsonScan) scanStr() (raw []byte, escaped, ok bool) {
	if !p.eat('"') {
		return nil, false, false
	}
	start := p.i
	for {
		if p.i >= len(p.b) {
			return nil, false, false
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			raw = p.b[start:p.i]
			p.i++
			return raw, escaped, true
		case c < 0x20:
			return nil, false, false // control characters must be escaped
		case c == '\\':
			escaped = true
			p.i++
			if p.i >= len(p.b) {
				return nil, false, false
			}
			switch p.b[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				if _, ok := hex4(p.b[p.i+1:]); !ok {
					return nil, false, false
				}
				p.i += 5
			default:
				return nil, false, false
			}
		default:
			p.i++
		}
	}
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape decodes the inside of a string that scanStr has checked, as
// encoding/json does: a surrogate pair of \u escapes is one character, and
// a surrogate escape that is not half of a pair is U+FFFD.
func unescape(s []byte) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		i++
		switch s[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := hex4(s[i+1:])
			i += 5
			if utf16.IsSurrogate(r) {
				if len(s) >= i+6 && s[i] == '\\' && s[i+1] == 'u' {
					if r2, ok := hex4(s[i+2:]); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							out = utf8.AppendRune(out, d)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, s[i])
		}
		i++
	}
	return string(out)
}
