package piiredactionprocessor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/netip"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

const (
	// maxJSONLevels bounds JSON nested inside JSON strings (a tool call's
	// arguments inside a message inside an attribute).
	maxJSONLevels = 4
	// maxValueDepth bounds the nesting of maps and slices walked.
	maxValueDepth = 64
	// hashTokenBytes of the HMAC are shown in a hashed token (64 bits).
	hashTokenBytes = 8
)

// worker holds the state of one ConsumeTraces / ConsumeLogs call; the
// call state (counts, placeholders) is reset for every span and log record.
// Workers are pooled; a worker is used by one goroutine at a time.
type worker struct {
	p    *piiProcessor
	mode Mode

	fs      []finding
	counts  []int64                    // per entity type, this call
	saved   [maxJSONLevels + 1][]int64 // counts before a JSON walk that may fail, per level
	seq     []int                      // per entity type: last placeholder number
	seen    map[string]string
	buf     []byte
	mac     hash.Hash
	sum     []byte
	changed bool // content of this call was changed
	// onFind, when set (accuracy tests), sees every counted entity.
	onFind func(typ entityType, value string)

	stats batchStats

	// Key classifications, memoised: the same few keys and JSON member
	// names come back in every span.
	memberCache map[string]keyClass
	keyCache    [2]map[string]keyClass // [genEvent]
}

// keyCacheMax bounds each classification cache; a full cache is cleared.
const keyCacheMax = 4096

func (w *worker) member(name string) keyClass {
	if kc, ok := w.memberCache[name]; ok {
		return kc
	}
	kc := w.p.keys.member(name)
	if len(w.memberCache) >= keyCacheMax {
		clear(w.memberCache)
	}
	w.memberCache[strings.Clone(name)] = kc
	return kc
}

func (w *worker) classify(key string, genEvent bool) keyClass {
	g := 0
	if genEvent {
		g = 1
	}
	if kc, ok := w.keyCache[g][key]; ok {
		return kc
	}
	kc := w.p.keys.classify(key, genEvent)
	if len(w.keyCache[g]) >= keyCacheMax {
		clear(w.keyCache[g])
	}
	w.keyCache[g][strings.Clone(key)] = kc
	return kc
}

func newWorker(p *piiProcessor) *worker {
	n := p.reg.len()
	w := &worker{
		p:      p,
		counts: make([]int64, n),
		seq:    make([]int, n),
		seen:   map[string]string{},
		stats:  newBatchStats(n),

		memberCache: map[string]keyClass{},
		keyCache:    [2]map[string]keyClass{{}, {}},
	}
	for i := range w.saved {
		w.saved[i] = make([]int64, n)
	}
	if len(p.hashKey) > 0 {
		w.mac = hmac.New(sha256.New, p.hashKey)
	}
	return w
}

// reset starts a new call (span or log record).
func (w *worker) reset(mode Mode) {
	w.mode = mode
	clear(w.counts)
	clear(w.seq)
	clear(w.seen)
	w.changed = false
}

// detect returns the entities of s after overlap resolution and the allow
// list, and counts them. The slice is reused by the next call.
func (w *worker) detect(s string) []finding {
	fs := w.p.det.scan(s, w.fs[:0])
	for i := range w.p.custom {
		fs = w.p.custom[i].scan(s, fs)
	}
	fs = resolveOverlaps(fs, w.p.reg.priority)
	if w.p.allow != nil {
		keep := fs[:0]
		for _, f := range fs {
			if !w.p.allow.allowed(s[f.start:f.end]) {
				keep = append(keep, f)
			}
		}
		fs = keep
	}
	for _, f := range fs {
		w.counts[f.typ]++
		if w.onFind != nil {
			w.onFind(f.typ, s[f.start:f.end])
		}
	}
	w.fs = fs
	return fs
}

// canonical is the form of a value that decides "the same entity": case
// and separators do not make a new placeholder or token.
func canonical(typ entityType, v string) string {
	switch typ {
	case entEmail:
		return strings.ToLower(v)
	case entPhone, entCard, entSSN:
		return string(digitsOf(v, make([]byte, 0, len(v))))
	case entIBAN:
		return strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(v))
	case entIP:
		if a, err := netip.ParseAddr(v); err == nil {
			return a.String()
		}
	}
	return v
}

// placeholder returns the replacement of value v of type typ in this call.
func (w *worker) placeholder(typ entityType, v string) string {
	c := canonical(typ, v)
	key := string(rune(typ)) + "\x00" + c
	if ph, ok := w.seen[key]; ok {
		return ph
	}
	upper := w.p.reg.upper[typ]
	var ph string
	if w.mode == ModeHashed && w.mac != nil {
		w.mac.Reset()
		w.mac.Write([]byte(w.p.reg.names[typ]))
		w.mac.Write([]byte{0})
		w.mac.Write([]byte(c))
		w.sum = w.mac.Sum(w.sum[:0])
		ph = "<" + upper + "_h" + hex.EncodeToString(w.sum[:hashTokenBytes]) + ">"
	} else {
		w.seq[typ]++
		ph = redactedPlaceholder(upper, w.seq[typ])
	}
	w.seen[key] = ph
	return ph
}

// rewrites reports whether the current mode changes content.
func (w *worker) rewrites() bool { return w.mode != ModeFull }

// redact returns s with its entities replaced (JSON-aware) and whether it
// changed. In full mode entities are only counted.
func (w *worker) redact(s string, level int) (string, bool) {
	if level < maxJSONLevels && looksJSON(s) {
		copy(w.saved[level], w.counts)
		if out, changed, ok := w.redactJSON(s, level); ok {
			return out, changed
		}
		copy(w.counts, w.saved[level])
		if level == 0 {
			w.stats.invalidJSON++
		}
	}
	return w.redactText(s)
}

// redactText replaces the entities of plain text s.
func (w *worker) redactText(s string) (string, bool) {
	fs := w.detect(s)
	if len(fs) == 0 || !w.rewrites() {
		return s, false
	}
	b := w.buf[:0]
	last := 0
	for _, f := range fs {
		b = append(b, s[last:f.start]...)
		b = append(b, w.placeholder(f.typ, s[f.start:f.end])...)
		last = f.end
	}
	b = append(b, s[last:]...)
	out := string(b)
	w.buf = b[:0]
	if cap(b) > maxPooledBuf {
		w.buf = nil // do not keep a huge buffer in the pool
	}
	w.changed = true
	return out, true
}

// maxPooledBuf bounds the scratch buffer a pooled worker keeps.
const maxPooledBuf = 1 << 20

// wholeSecret handles the value of a key that names a password or token:
// the whole value is one secret. It reports whether v was one.
func (w *worker) wholeSecret(v string, k keyKind) (string, bool) {
	if k == keyPlain || !plausibleSecret(v, k, true) || w.p.allow.allowed(v) || !w.p.det.on[entSecret] {
		return v, false
	}
	w.counts[entSecret]++
	if w.onFind != nil {
		w.onFind(entSecret, v)
	}
	if !w.rewrites() {
		return v, true
	}
	w.changed = true
	return w.placeholder(entSecret, v), true
}

// bareNumber decides whether a bare run of digits (a JSON number, an int
// attribute, a digits-only string), possibly with a leading '+' or '-', is
// an entity: a card (IIN + Luhn), or, when the key says so, a phone number
// or an SSN.
func (w *worker) bareNumber(s string, hint numHint) (entityType, bool) {
	d := s
	if d != "" && (d[0] == '+' || d[0] == '-') {
		d = d[1:]
	}
	if len(d) < 9 || len(d) > 19 {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		if !isDigit(d[i]) {
			return 0, false
		}
	}
	on := &w.p.det.on
	switch {
	case hint == hintPhone && on[entPhone] && len(d) >= 10 && len(d) <= 15:
		return entPhone, true
	case hint == hintSSN && on[entSSN] && len(d) == 9 && ssnValid([]byte(d)):
		return entSSN, true
	case on[entCard] && len(d) >= 13 && cardIIN([]byte(d)) && luhnValid([]byte(d)):
		return entCard, true
	}
	return 0, false
}

// numberEntity counts a bare-number entity and returns its replacement.
func (w *worker) numberEntity(s string, typ entityType) (string, bool) {
	if w.p.allow.allowed(s) {
		return s, false
	}
	w.counts[typ]++
	if w.onFind != nil {
		w.onFind(typ, s)
	}
	if !w.rewrites() {
		return s, false
	}
	w.changed = true
	return w.placeholder(typ, s), true
}

// processAttrs redacts the values of an attribute map. genEvent: the map
// belongs to a span event or log record named gen_ai.*. top: span or log
// record attributes, where client-sent observatory.pii.* keys are removed
// (the processor writes them).
func (w *worker) processAttrs(m pcommon.Map, genEvent, top bool) {
	m.RemoveIf(func(k string, v pcommon.Value) bool {
		if top && strings.HasPrefix(k, attrPIIPrefix) {
			return true
		}
		kc := w.classify(k, genEvent)
		if kc.allow {
			return false
		}
		if kc.content && w.mode == ModeNone {
			w.countOnly(v, kc)
			w.changed = true
			return true
		}
		w.processValue(v, kc, 0)
		return false
	})
}

// countOnly counts the entities of v without changing it (none mode,
// before the value is dropped).
func (w *worker) countOnly(v pcommon.Value, kc keyClass) {
	saved := w.mode
	w.mode = ModeFull
	w.processValue(v, kc, 0)
	w.mode = saved
}

// processValue redacts a string, or the strings inside a map or slice.
func (w *worker) processValue(v pcommon.Value, kc keyClass, depth int) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s := v.Str()
		if s == "" {
			return
		}
		if ns, ok := w.wholeSecret(s, kc.secret); ok {
			if ns != s {
				v.SetStr(ns)
			}
			return
		}
		if kc.hint != hintNone {
			if typ, ok := w.bareNumber(s, kc.hint); ok {
				if ns, changed := w.numberEntity(s, typ); changed {
					v.SetStr(ns)
				}
				return
			}
		}
		if ns, changed := w.redact(s, 0); changed {
			v.SetStr(ns)
		}
	case pcommon.ValueTypeInt:
		// A card or phone number sent as a number: {"card": 4111111111111111}.
		n := v.Int()
		if n < 100_000_000 && n > -100_000_000 {
			return
		}
		s := strconv.FormatInt(n, 10)
		if typ, ok := w.bareNumber(s, kc.hint); ok {
			if ns, changed := w.numberEntity(s, typ); changed {
				v.SetStr(ns)
			}
		}
	case pcommon.ValueTypeMap:
		if depth >= maxValueDepth {
			return
		}
		v.Map().Range(func(k string, mv pcommon.Value) bool {
			mkc := w.member(k)
			if !mkc.allow {
				w.processValue(mv, mkc, depth+1)
			}
			return true
		})
	case pcommon.ValueTypeSlice:
		if depth >= maxValueDepth {
			return
		}
		sl := v.Slice()
		for i := 0; i < sl.Len(); i++ {
			w.processValue(sl.At(i), kc, depth+1)
		}
	}
}

// writeSummary records the call's counts and mode on its attributes and in
// the batch statistics.
func (w *worker) writeSummary(m pcommon.Map) {
	mi := w.mode.index()
	for t, c := range w.counts {
		if c > 0 {
			m.PutInt(w.p.reg.attrKeys[t], c)
			w.stats.detected[mi][t] += c
		}
	}
	m.PutStr(attrPIIMode, string(w.mode))
}

// flushCounts adds the call's counts to the batch statistics without
// writing them anywhere (resource attributes).
func (w *worker) flushCounts() {
	mi := w.mode.index()
	for t, c := range w.counts {
		w.stats.detected[mi][t] += c
	}
}
