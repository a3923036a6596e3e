package genaiprocessor

import (
	"sort"
	"unicode/utf8"
)

// truncationMarker ends every string value cut by truncateJSON.
const truncationMarker = "…[truncated]"

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// truncateJSON shortens the JSON document s to at most maxBytes bytes while
// keeping it valid JSON of the same structure: the longest string values
// are cut first (all strings longer than a common limit are cut to that
// limit and end with truncationMarker). When the structure alone is too big,
// trailing elements of the top-level array (messages) are dropped. Input
// that is not JSON is cut like a plain string (it stays invalid, as sent).
func truncateJSON(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	v, ok := decodeJSON(s)
	if !ok {
		return cutUTF8(s, maxBytes)
	}
	var lens []int
	collectStringLens(v, &lens, 0)
	budget := maxBytes
	for range 8 {
		limit := waterLevel(lens, len(appendAny(nil, v, 0)), budget)
		out := appendAny(nil, cutStrings(v, limit, 0), 0)
		if len(out) <= maxBytes {
			return string(out)
		}
		budget -= len(out) - maxBytes + 16
		if budget <= 0 {
			break
		}
	}
	// Strings cut to nothing still do not fit: keep the leading elements
	// of the top-level array that fit.
	base := cutStrings(v, 0, 0)
	if list, isList := base.([]any); isList {
		buf := []byte{'['}
		for i, e := range list {
			next := appendAny(nil, e, 0)
			if len(buf)+len(next)+2 > maxBytes {
				break
			}
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, next...)
		}
		return string(append(buf, ']'))
	}
	if out := appendAny(nil, base, 0); len(out) <= maxBytes {
		return string(out)
	}
	if _, isObj := base.(map[string]any); isObj {
		return "{}"
	}
	return "null"
}

// collectStringLens lists the byte lengths of all string values (not keys).
func collectStringLens(v any, lens *[]int, depth int) {
	if depth > maxJSONDepth {
		return
	}
	switch x := v.(type) {
	case string:
		*lens = append(*lens, len(x))
	case []any:
		for _, e := range x {
			collectStringLens(e, lens, depth+1)
		}
	case map[string]any:
		for _, e := range x {
			collectStringLens(e, lens, depth+1)
		}
	}
}

// waterLevel finds the largest limit L such that cutting every string longer
// than L to L (+ the marker) shrinks a document of size total by enough to
// fit budget. Escaping is ignored here; the caller re-checks the result.
func waterLevel(lens []int, total, budget int) int {
	excess := total - budget
	if excess <= 0 {
		return int(^uint(0) >> 1)
	}
	sorted := append([]int(nil), lens...)
	sort.Sort(sort.Reverse(sort.IntSlice(sorted)))
	saved := func(limit int) int {
		n := 0
		for _, l := range sorted {
			if l <= limit+len(truncationMarker) {
				break
			}
			n += l - limit - len(truncationMarker)
		}
		return n
	}
	lo, hi := 0, 0
	if len(sorted) > 0 {
		hi = sorted[0]
	}
	if saved(0) < excess {
		return 0
	}
	// Largest limit in [lo, hi] with saved(limit) >= excess.
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if saved(mid) >= excess {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// cutStrings returns v with every string value longer than limit cut to
// limit bytes plus the marker (maps and slices are copied). Strings that
// would not get shorter are kept.
func cutStrings(v any, limit, depth int) any {
	if depth > maxJSONDepth {
		return nil
	}
	switch x := v.(type) {
	case string:
		if len(x) > limit+len(truncationMarker) {
			return cutUTF8(x, limit) + truncationMarker
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cutStrings(e, limit, depth+1)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cutStrings(e, limit, depth+1)
		}
		return out
	}
	return v
}
