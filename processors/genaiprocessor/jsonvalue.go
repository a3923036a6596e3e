package genaiprocessor

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/llm-observatory/observatory/internal/jsonstr"
)

// maxJSONDepth bounds the recursion when a structured attribute value is
// encoded; deeper values are written as null.
const maxJSONDepth = 64

// appendJSON appends v encoded as JSON: maps keep their order, non-finite
// doubles become null, bytes become base64 strings (as encoding/json does)
// and invalid UTF-8 becomes U+FFFD.
func appendJSON(buf []byte, v pcommon.Value, depth int) []byte {
	if depth > maxJSONDepth {
		return append(buf, "null"...)
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return appendJSONString(buf, v.Str())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(buf, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(buf, "null"...)
		}
		return strconv.AppendFloat(buf, f, 'g', -1, 64)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(buf, v.Bool())
	case pcommon.ValueTypeBytes:
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, v.Bytes().AsRaw())
		return append(buf, '"')
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		buf = append(buf, '[')
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSON(buf, s.At(i), depth+1)
		}
		return append(buf, ']')
	case pcommon.ValueTypeMap:
		buf = append(buf, '{')
		first := true
		for k, vv := range v.Map().All() {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			buf = appendJSON(buf, vv, depth+1)
		}
		return append(buf, '}')
	}
	return append(buf, "null"...)
}

// validJSON reports whether s is one valid JSON value, as json.Valid does
// (invalid UTF-8 inside strings is not its concern: ingest validation has
// rejected it already). It works on the string without copying it and
// scans string contents in a tight loop, which is most of a message
// payload; it is several times faster than json.Valid on such input.
func validJSON(s string) bool {
	var stack []byte // open containers: '[' or '{'
	i := skipWS(s, 0)
	for {
		// A value starts at i.
		if i >= len(s) {
			return false
		}
		var ok bool
		switch c := s[i]; {
		case c == '{':
			i = skipWS(s, i+1)
			if i < len(s) && s[i] == '}' {
				i++
				break
			}
			stack = append(stack, '{')
			if i, ok = scanKey(s, i); !ok {
				return false
			}
			continue
		case c == '[':
			i = skipWS(s, i+1)
			if i < len(s) && s[i] == ']' {
				i++
				break
			}
			stack = append(stack, '[')
			continue
		case c == '"':
			if i, ok = scanString(s, i); !ok {
				return false
			}
		case c == '-' || c >= '0' && c <= '9':
			if i, ok = scanNumber(s, i); !ok {
				return false
			}
		case c == 't' && strings.HasPrefix(s[i:], "true"):
			i += 4
		case c == 'f' && strings.HasPrefix(s[i:], "false"):
			i += 5
		case c == 'n' && strings.HasPrefix(s[i:], "null"):
			i += 4
		default:
			return false
		}
		// After a value: close containers or move to the next element.
		i = skipWS(s, i)
		for {
			if len(stack) == 0 {
				return i == len(s)
			}
			if i >= len(s) {
				return false
			}
			top := stack[len(stack)-1]
			if s[i] == ',' {
				i = skipWS(s, i+1)
				if top == '{' {
					if i, ok = scanKey(s, i); !ok {
						return false
					}
				}
				break
			}
			if top == '{' && s[i] == '}' || top == '[' && s[i] == ']' {
				stack = stack[:len(stack)-1]
				i = skipWS(s, i+1)
				continue
			}
			return false
		}
	}
}

func skipWS(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanKey reads `"key" :` and the whitespace after it.
func scanKey(s string, i int) (int, bool) {
	if i >= len(s) || s[i] != '"' {
		return i, false
	}
	i, ok := scanString(s, i)
	if !ok {
		return i, false
	}
	i = skipWS(s, i)
	if i >= len(s) || s[i] != ':' {
		return i, false
	}
	return skipWS(s, i+1), true
}

// scanString reads a string literal starting at the opening quote.
func scanString(s string, i int) (int, bool) {
	i++
	for i < len(s) {
		// Skip eight plain bytes at a time (no quote, backslash or control
		// character among them).
		for i+8 <= len(s) && !hasSpecialByte(load64(s, i)) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(s) {
				return i, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) {
					return i, false
				}
				for _, h := range []byte(s[i+2 : i+6]) {
					if !isHex(h) {
						return i, false
					}
				}
				i += 6
			default:
				return i, false
			}
		case c < 0x20:
			return i, false
		default:
			i++
		}
	}
	return i, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = scanDigits(s, i)
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		j := scanDigits(s, i+1)
		if j == i+1 {
			return i, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := scanDigits(s, i)
		if j == i {
			return i, false
		}
		i = j
	}
	return i, true
}

func scanDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// load64 reads s[i:i+8] little-endian (the compiler merges the loads).
func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// hasSpecialByte reports whether any byte of x is below 0x20, '"' or '\\'
// (the exact "has zero byte" / "has byte less than" bit tricks).
func hasSpecialByte(x uint64) bool {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((x-lsb*0x20)&^x|(q-lsb)&^q|(b-lsb)&^b)&msb != 0
}

// appendJSONString appends s as a JSON string literal (HTML characters
// kept as they are).
func appendJSONString(buf []byte, s string) []byte { return jsonstr.Append(buf, s, false) }
