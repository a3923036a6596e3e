package piiredactionprocessor

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON walker redacts the strings inside a JSON document held in a
// string attribute (gen_ai.input.messages, input.value, tool arguments ...)
// without unmarshalling it: it validates the document in one pass and
// records splices for the string tokens that contain entities. Everything
// else (formatting, number spelling, member order) is copied byte for
// byte, so valid JSON in gives valid JSON out. A string that itself holds
// JSON is walked recursively (up to maxJSONLevels).

// maxJSONDepth bounds array/object nesting; deeper documents are scanned
// as plain text.
const maxJSONDepth = 512

type splice struct {
	start, end int
	repl       string
}

type jsonWalker struct {
	w       *worker
	s       string
	i       int
	level   int
	splices []splice
}

// looksJSON: starts with { or [ and ends with } or ] (ignoring white space).
func looksJSON(s string) bool {
	i, j := 0, len(s)-1
	for i <= j && isJSONSpace(s[i]) {
		i++
	}
	for j > i && isJSONSpace(s[j]) {
		j--
	}
	if j <= i {
		return false
	}
	return (s[i] == '{' && s[j] == '}') || (s[i] == '[' && s[j] == ']')
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// redactJSON walks the JSON document s. ok is false when s is not valid
// JSON; the caller then scans it as text.
func (w *worker) redactJSON(s string, level int) (out string, changed, ok bool) {
	jw := jsonWalker{w: w, s: s, level: level}
	jw.ws()
	if !jw.value(0, keyClass{}) {
		return "", false, false
	}
	jw.ws()
	if jw.i != len(s) {
		return "", false, false
	}
	if len(jw.splices) == 0 {
		return s, false, true
	}
	n := len(s)
	for _, sp := range jw.splices {
		n += len(sp.repl) - (sp.end - sp.start)
	}
	b := make([]byte, 0, n)
	last := 0
	for _, sp := range jw.splices {
		b = append(b, s[last:sp.start]...)
		b = append(b, sp.repl...)
		last = sp.end
	}
	b = append(b, s[last:]...)
	w.changed = true
	return string(b), true, true
}

func (jw *jsonWalker) ws() {
	for jw.i < len(jw.s) && isJSONSpace(jw.s[jw.i]) {
		jw.i++
	}
}

func (jw *jsonWalker) value(depth int, kc keyClass) bool {
	if jw.i >= len(jw.s) || depth > maxJSONDepth {
		return false
	}
	switch c := jw.s[jw.i]; {
	case c == '{':
		jw.i++
		jw.ws()
		if jw.i < len(jw.s) && jw.s[jw.i] == '}' {
			jw.i++
			return true
		}
		for {
			jw.ws()
			if jw.i >= len(jw.s) || jw.s[jw.i] != '"' {
				return false
			}
			ts, te, esc, ok := jw.stringToken()
			if !ok {
				return false
			}
			name := jw.s[ts+1 : te-1]
			if esc {
				name = decodeJSONString(name)
			}
			mkc := jw.w.member(name)
			if !mkc.allow {
				// Member names are text too ({"jane@example.com": ...}).
				jw.stringValue(ts, te, esc, name, keyClass{}, true)
			}
			jw.ws()
			if jw.i >= len(jw.s) || jw.s[jw.i] != ':' {
				return false
			}
			jw.i++
			jw.ws()
			if !jw.value(depth+1, mkc) {
				return false
			}
			jw.ws()
			if jw.i >= len(jw.s) {
				return false
			}
			if jw.s[jw.i] == ',' {
				jw.i++
				continue
			}
			if jw.s[jw.i] == '}' {
				jw.i++
				return true
			}
			return false
		}
	case c == '[':
		jw.i++
		jw.ws()
		if jw.i < len(jw.s) && jw.s[jw.i] == ']' {
			jw.i++
			return true
		}
		for {
			jw.ws()
			if !jw.value(depth+1, kc) {
				return false
			}
			jw.ws()
			if jw.i >= len(jw.s) {
				return false
			}
			if jw.s[jw.i] == ',' {
				jw.i++
				continue
			}
			if jw.s[jw.i] == ']' {
				jw.i++
				return true
			}
			return false
		}
	case c == '"':
		ts, te, esc, ok := jw.stringToken()
		if !ok {
			return false
		}
		if !kc.allow {
			raw := jw.s[ts+1 : te-1]
			str := raw
			if esc {
				str = decodeJSONString(raw)
			}
			jw.stringValue(ts, te, esc, str, kc, false)
		}
		return true
	case c == 't':
		return jw.literal("true")
	case c == 'f':
		return jw.literal("false")
	case c == 'n':
		return jw.literal("null")
	default:
		ns := jw.i
		if !jw.number() {
			return false
		}
		if !kc.allow && jw.i-ns >= 9 {
			num := jw.s[ns:jw.i]
			if typ, ok := jw.w.bareNumber(num, kc.hint); ok {
				// The placeholder is a string: {"card": "<CREDIT_CARD_1>"}.
				if ph, changed := jw.w.numberEntity(num, typ); changed {
					jw.splices = append(jw.splices, splice{ns, jw.i, `"` + ph + `"`})
				}
			}
		}
		return true
	}
}

func (jw *jsonWalker) literal(lit string) bool {
	if len(jw.s)-jw.i >= len(lit) && jw.s[jw.i:jw.i+len(lit)] == lit {
		jw.i += len(lit)
		return true
	}
	return false
}

func (jw *jsonWalker) number() bool {
	s, i := jw.s, jw.i
	n := len(s)
	if i < n && s[i] == '-' {
		i++
	}
	switch {
	case i < n && s[i] == '0':
		i++
	case i < n && s[i] >= '1' && s[i] <= '9':
		for i < n && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < n && s[i] == '.' {
		i++
		if i >= n || !isDigit(s[i]) {
			return false
		}
		for i < n && isDigit(s[i]) {
			i++
		}
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= n || !isDigit(s[i]) {
			return false
		}
		for i < n && isDigit(s[i]) {
			i++
		}
	}
	jw.i = i
	return true
}

// stringToken validates the string token at jw.i and returns its bounds
// (including the quotes) and whether it has escapes.
func (jw *jsonWalker) stringToken() (ts, te int, esc, ok bool) {
	s := jw.s
	ts = jw.i
	i := ts + 1
	for i < len(s) {
		// The common case: plain bytes.
		for i < len(s) && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' {
			i++
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"':
			jw.i = i + 1
			return ts, i + 1, esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(s) {
				return 0, 0, false, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) {
					return 0, 0, false, false
				}
				for _, h := range []byte(s[i+2 : i+6]) {
					if ctab[h]&cHex == 0 {
						return 0, 0, false, false
					}
				}
				i += 6
			default:
				return 0, 0, false, false
			}
		case c < 0x20:
			return 0, 0, false, false
		default:
			i++
		}
	}
	return 0, 0, false, false
}

// stringValue redacts the string token [ts, te) whose decoded content is
// str. name: the token is a member name (never parsed as nested JSON,
// never a whole secret).
func (jw *jsonWalker) stringValue(ts, te int, esc bool, str string, kc keyClass, name bool) {
	w := jw.w
	if str == "" {
		return
	}
	if !name {
		if ph, ok := w.wholeSecret(str, kc.secret); ok {
			if ph != str {
				jw.replaceToken(ts, te, esc, ph)
			}
			return
		}
		if kc.hint != hintNone && !esc {
			if typ, ok := w.bareNumber(str, kc.hint); ok {
				if ph, changed := w.numberEntity(str, typ); changed {
					jw.replaceToken(ts, te, esc, ph)
				}
				return
			}
		}
		if jw.level+1 < maxJSONLevels && looksJSON(str) {
			copy(w.saved[jw.level+1], w.counts)
			if out, changed, ok := w.redactJSON(str, jw.level+1); ok {
				if changed {
					jw.splices = append(jw.splices, splice{ts, te, string(appendJSONString(nil, out))})
				}
				return
			}
			copy(w.counts, w.saved[jw.level+1])
		}
	}
	if !esc {
		fs := w.detect(str)
		if !w.rewrites() {
			return
		}
		for _, f := range fs {
			jw.splices = append(jw.splices, splice{ts + 1 + f.start, ts + 1 + f.end, w.placeholder(f.typ, str[f.start:f.end])})
		}
		return
	}
	if out, changed := w.redactText(str); changed {
		jw.splices = append(jw.splices, splice{ts, te, string(appendJSONString(nil, out))})
	}
}

// replaceToken replaces the whole content of a string token with ph (a
// placeholder: no characters that need escaping).
func (jw *jsonWalker) replaceToken(ts, te int, esc bool, ph string) {
	if esc {
		jw.splices = append(jw.splices, splice{ts, te, `"` + ph + `"`})
		return
	}
	jw.splices = append(jw.splices, splice{ts + 1, te - 1, ph})
}

// decodeJSONString decodes the content of a valid JSON string token.
// Unpaired surrogates become U+FFFD, as in encoding/json.
func decodeJSONString(raw string) string {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			j := strings.IndexByte(raw[i:], '\\')
			if j < 0 {
				b = append(b, raw[i:]...)
				break
			}
			b = append(b, raw[i:i+j]...)
			i += j
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			b = append(b, raw[i+1])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(raw[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := hex4(raw[i+2 : i+6]); utf16.DecodeRune(r, r2) != utf8.RuneError {
						b = utf8.AppendRune(b, utf16.DecodeRune(r, r2))
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			continue
		}
		i += 2
	}
	return string(b)
}

func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		}
	}
	return r
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string token, escaping only what
// JSON requires (quotes, backslashes, control characters).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[last:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		last = i + 1
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}
