package reqbody

import "github.com/autho/autho"

// parseJSON reads a JSON body in one pass over the bytes. It accepts
// exactly what encoding/json's Decoder accepts for a single object (the
// login's FuzzParseJSON checks the two agree on every input) and decodes
// keys and strings as encoding/json does, so that "api\u005ftoken" is
// api_token and an unpaired surrogate escape is U+FFFD. It exists because
// the Decoder's token walk cost more than a dozen allocations and several
// microseconds per login, a large share of what a refused login costs.
//
// The caller has checked that body is valid UTF-8.
func parseJSON(body []byte, fields []*Field) error {
	p := jsonScan{b: body}
	var keys keySet
	p.space()
	if !p.eat('{') {
		return autho.ErrMalformedBody
	}
	p.space()
	if !p.eat('}') {
		for {
			p.space()
			f, key, ok := p.key(fields)
			var variant bool
			if ok && f == nil {
				_, variant = lookup(fields, key)
			}
			// A repeated key is refused, so each field is set at most once.
			if !ok || variant || !keys.add(key) {
				return autho.ErrMalformedBody
			}
			p.space()
			if !p.eat(':') {
				return autho.ErrMalformedBody
			}
			p.space()
			if f != nil {
				f.Found = true
			}
			if f != nil && p.peek() == '"' {
				f.Value, ok = p.str()
				f.String = ok
			} else {
				// Any other value, or another key's: checked, not kept.
				ok = p.value(1)
			}
			if !ok {
				return autho.ErrMalformedBody
			}
			p.space()
			if p.eat(',') {
				continue
			}
			if p.eat('}') {
				break
			}
			return autho.ErrMalformedBody
		}
	}
	p.space()
	if p.i != len(p.b) {
		return autho.ErrMalformedBody // trailing data
	}
	return nil
}

// key reads an object's key: the field it names, if any, and the key
// itself. A field's name written without escapes costs no allocation.
func (p *jsonScan) key(fields []*Field) (*Field, string, bool) {
	raw, escaped, ok := p.scanStr()
	if !ok {
		return nil, "", false
	}
	if !escaped {
		for _, f := range fields {
			if string(raw) == f.Name {
				return f, f.Name, true
			}
		}
		return nil, string(raw), true
	}
	key := unescape(raw)
	f, _ := lookup(fields, key)
	return f, key, true
}

// keySet remembers an object's keys to refuse a duplicate. A login body
// has two or three keys: they are compared in place, and only a body with
// many keys pays for a map (so a 64 KiB body of distinct keys stays linear).
type keySet struct {
	few  [4]string
	n    int
	many map[string]struct{}
}

// add reports whether k is new, and remembers it.
func (s *keySet) add(k string) bool {
	if s.many != nil {
		if _, dup := s.many[k]; dup {
			return false
		}
		s.many[k] = struct{}{}
		return true
	}
	for _, f := range s.few[:s.n] {
		if f == k {
			return false
		}
	}
	if s.n < len(s.few) {
		s.few[s.n] = k
		s.n++
		return true
	}
	s.many = make(map[string]struct{}, 2*len(s.few))
	for _, f := range s.few {
		s.many[f] = struct{}{}
	}
	s.many[k] = struct{}{}
	return true
}
