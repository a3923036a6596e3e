package genaiprocessor

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// Span attributes the processor writes besides the llmcall contract.
const (
	// attrNormalizeIssues lists, as "reason:key", the attributes that could
	// not be used as sent (string slice).
	attrNormalizeIssues = "observatory.normalize.issues"
	// attrPriceTableVersion is the version of the price table a
	// price_table cost came from.
	attrPriceTableVersion = "observatory.cost.price_table_version"
	// attrContentTruncated is true when a content attribute was longer
	// than normalize.max_content_bytes and was cut (bool).
	attrContentTruncated = "observatory.content.truncated"
	// attrContentSource is "log_records" when the span's content was joined
	// from log records.
	attrContentSource = "observatory.content.source"
)

// maxIssuesPerSpan bounds observatory.normalize.issues.
const maxIssuesPerSpan = 32

const noIssue issueReason = -1

// resolved is one field's value after conversion to the field's type.
type resolved struct {
	set bool
	// write: the target must be (re)written, because the value came from
	// an alias or a resource attribute, or was converted.
	write bool
	s     string
	i     int64
	f     float64
	ss    []string
}

// spanWork is the scratch space of one processing call, reused from span to
// span. It is never shared between goroutines.
type spanWork struct {
	vals   []pcommon.Value // by flat source index; valid until the span is mutated
	has    []bool
	res    []resolved // by field index
	remove []string
	// keepKeys are aliases that disagreed with the value used: never removed.
	keepKeys []string
	issues   []string
	stats    *batchStats
	buf      []byte
	// derivedFinish are the finish reasons of output messages converted
	// from another shape.
	derivedFinish []string
	// rawTrunc are content values kept as sent (not JSON) and cut.
	rawTrunc  []kv
	truncated bool
	// errorType is written as error.type when not empty.
	errorType string
}

func (p *genaiProcessor) newWork(stats *batchStats) *spanWork {
	return &spanWork{
		vals:  make([]pcommon.Value, p.mapping.nSources),
		has:   make([]bool, p.mapping.nSources),
		res:   make([]resolved, len(p.mapping.fields)),
		stats: stats,
	}
}

func (w *spanWork) issue(r issueReason, key string) {
	if w.stats != nil {
		w.stats.issues[r]++
	}
	if len(w.issues) < maxIssuesPerSpan {
		w.issues = append(w.issues, r.String()+":"+key)
	}
}

// scan reads a span's attributes once: whether it is a GenAI span, the
// values of mapped sources, the convention markers and whether content in
// another shape is present.
func (p *genaiProcessor) scan(span ptrace.Span, attrs pcommon.Map, w *spanWork) (isGenAI bool, conv int, hasContent bool) {
	m := p.mapping
	clear(w.has)
	conv = -1
	for k, v := range attrs.All() {
		if !isGenAI && k != "" && hasAnyPrefix(k, m.prefixesByByte[k[0]]) {
			isGenAI = true
		}
		if ki, ok := m.keys[k]; ok {
			if ki.slot >= 0 {
				w.vals[ki.slot], w.has[ki.slot] = v, true
			}
			if ki.conv >= 0 && (conv < 0 || ki.conv < conv) {
				conv = ki.conv
			}
			for _, eq := range ki.equals {
				if (conv < 0 || eq.conv < conv) && v.Type() == pcommon.ValueTypeStr && v.Str() == eq.value {
					conv = eq.conv
				}
			}
			hasContent = hasContent || ki.content
		}
		if k != "" {
			for _, pm := range m.keyPrefixes[k[0]] {
				if strings.HasPrefix(k, pm.prefix) {
					if pm.conv >= 0 && (conv < 0 || pm.conv < conv) {
						conv = pm.conv
					}
					hasContent = hasContent || pm.content
				}
			}
		}
	}
	if events := span.Events(); events.Len() > 0 {
		for i := 0; i < events.Len(); i++ {
			name := events.At(i).Name()
			if ci, ok := m.conventionEvents[name]; ok && (conv < 0 || ci < conv) {
				conv = ci
			}
			if _, ok := m.contentEvents[name]; ok {
				hasContent, isGenAI = true, true
			}
		}
	}
	return isGenAI, conv, hasContent
}

// normalizeSpan rewrites a GenAI span into the canonical shape and reports
// whether it was one. A span without GenAI attributes is left untouched.
func (p *genaiProcessor) normalizeSpan(res pcommon.Resource, span ptrace.Span, w *spanWork) bool {
	m := p.mapping
	attrs := span.Attributes()

	// Scan once: GenAI or not, which mapped sources are present, which
	// convention markers.
	isGenAI, conv, hasContent := p.scan(span, attrs, w)
	if !isGenAI {
		return false
	}
	w.remove = w.remove[:0]
	w.keepKeys = w.keepKeys[:0]
	w.issues = w.issues[:0]
	w.derivedFinish = nil
	w.rawTrunc = w.rawTrunc[:0]
	w.truncated = false
	w.errorType = ""
	keepAll := p.cfg.Normalize.KeepOriginalAttributes
	maxContent := p.cfg.Normalize.MaxContentBytes

	// Content in other conventions' shapes becomes the canonical content
	// attributes first; the convention is the one recognised before.
	if hasContent {
		p.extractContent(span, attrs, w)
		p.scan(span, attrs, w)
	}

	// Resolve every field from its sources, in priority order. Nothing is
	// mutated until all values have been read.
	for fi, f := range m.fields {
		r := &w.res[fi]
		*r = resolved{}
		won := false
		for si, src := range f.sources {
			idx := f.slots[si]
			if !w.has[idx] {
				continue
			}
			cv, reason, ok := p.convert(f, w.vals[idx], w)
			if !won {
				if !ok {
					if reason != noIssue {
						w.issue(reason, src)
						// A bad value under the canonical key is dropped so the
						// canonical keys stay well-typed; content is never
						// dropped (only cut to max_content_bytes); a bad alias
						// is left as sent.
						if src == f.target && f.typ != typeContent {
							w.remove = append(w.remove, src)
						}
						if src == f.target && f.typ == typeContent && maxContent > 0 {
							if v := w.vals[idx]; v.Type() == pcommon.ValueTypeStr && len(v.Str()) > maxContent {
								w.rawTrunc = append(w.rawTrunc, kv{src, cutUTF8(v.Str(), maxContent)})
								w.truncated = true
								w.issue(issueTruncated, src)
							}
						}
					}
					continue
				}
				*r, won = cv, true
				if src != f.target {
					r.write = true
					if !keepAll && !f.keeps(src) {
						w.remove = append(w.remove, src)
					}
				}
				continue
			}
			// A lower-priority source of a field already resolved.
			if src == f.target || keepAll || f.keeps(src) {
				continue
			}
			switch {
			case !ok && reason != noIssue:
				w.issue(reason, src)
			case ok && sameValue(f.typ, cv, *r):
				w.remove = append(w.remove, src)
			case ok:
				w.issue(issueConflictingAlias, src)
				w.keepKeys = append(w.keepKeys, src)
			}
		}
		if !won {
			ra := res.Attributes()
			for _, src := range f.resourceSources {
				if v, ok := ra.Get(src); ok {
					if cv, _, ok := p.convert(f, v, w); ok {
						*r = cv
						r.write = true
						break
					}
				}
			}
		}
		// Content longer than the cap is cut, staying valid JSON.
		if f.typ == typeContent && r.set && maxContent > 0 && len(r.s) > maxContent {
			r.s, r.write = truncateJSON(r.s, maxContent), true
			w.truncated = true
			w.issue(issueTruncated, f.target)
		}
	}

	p.derive(span, attrs, w)
	convention := ""
	if v, ok := attrs.Get(llmcall.AttrSourceConvention); !ok || v.Type() != pcommon.ValueTypeStr || v.Str() == "" {
		convention = m.defaultConvention
		if conv >= 0 {
			convention = m.conventions[conv].Name
		}
	}
	c := p.computeCost(w, span.StartTimestamp().AsTime())
	issues := mergeIssues(attrs, w.issues)

	// Write. Reserve room for the keys this may add (one allocation
	// instead of the slice doubling).
	attrs.EnsureCapacity(attrs.Len() + len(m.fields)/2 + 8)
	// Cost attributes are always recomputed: client-sent ones never stay.
	attrs.RemoveIf(func(k string, _ pcommon.Value) bool {
		return isCostKey(k) || slices.Contains(w.remove, k) && !slices.Contains(w.keepKeys, k)
	})
	for fi, f := range m.fields {
		r := &w.res[fi]
		if !r.set || !r.write {
			continue
		}
		switch f.typ {
		case typeString, typeContent:
			attrs.PutStr(f.target, r.s)
		case typeTokens, typeInt:
			attrs.PutInt(f.target, r.i)
		case typeDouble:
			attrs.PutDouble(f.target, r.f)
		case typeStringSlice:
			s := attrs.PutEmptySlice(f.target)
			s.EnsureCapacity(len(r.ss))
			for _, v := range r.ss {
				s.AppendEmpty().SetStr(v)
			}
		}
	}
	for _, e := range w.rawTrunc {
		attrs.PutStr(e.k, e.v.(string))
	}
	if w.errorType != "" {
		attrs.PutStr(llmcall.AttrErrorType, w.errorType)
	}
	if w.truncated {
		attrs.PutBool(attrContentTruncated, true)
	}
	if convention != "" {
		attrs.PutStr(llmcall.AttrSourceConvention, convention)
	}
	c.write(attrs)
	if len(issues) > 0 {
		s := attrs.PutEmptySlice(attrNormalizeIssues)
		s.EnsureCapacity(len(issues))
		for _, v := range issues {
			s.AppendEmpty().SetStr(v)
		}
	}
	return true
}

// derive fills the fields computed from others: input (output) tokens that
// left out cached (reasoning) tokens, total tokens, finish reasons from
// converted output messages or of a failed call, the operation and the
// provider when none was sent.
func (p *genaiProcessor) derive(span ptrace.Span, attrs pcommon.Map, w *spanWork) {
	m := p.mapping
	in := &w.res[m.pos[fieldInputTokens]]
	out := &w.res[m.pos[fieldOutputTokens]]
	cr := &w.res[m.pos[fieldCacheRead]]
	cw := &w.res[m.pos[fieldCacheWrite]]
	rs := &w.res[m.pos[fieldReasoning]]
	total := &w.res[m.pos[fieldTotalTokens]]
	maxTokens := p.cfg.Normalize.MaxTokenCount

	// Input tokens include cached tokens and output tokens include
	// reasoning tokens (OTel GenAI >= 1.40). Emitters written earlier
	// (Anthropic's raw input_tokens, Gemini's candidates count) leave them
	// out. That is certain when input < cached (output < reasoning), or when
	// the total the span sent only adds up with them added.
	var cached, reasoning int64
	if cr.set {
		cached += cr.i
	}
	if cw.set {
		cached += cw.i
	}
	if rs.set {
		reasoning = rs.i
	}
	exclIn := in.set && cached > 0 && in.i < cached
	exclOut := out.set && reasoning > 0 && out.i < reasoning
	if total.set && in.set && out.set && !exclIn && !exclOut && total.i != in.i+out.i {
		switch sum := in.i + out.i; {
		case cached > 0 && total.i == sum+cached:
			exclIn = true
		case reasoning > 0 && total.i == sum+reasoning:
			exclOut = true
		case cached > 0 && reasoning > 0 && total.i == sum+cached+reasoning:
			exclIn, exclOut = true, true
		}
	}
	oldSum := in.i + out.i
	if exclIn && in.i+cached <= maxTokens {
		in.i += cached
		in.write = true
		w.issue(issueInputExcludedCache, llmcall.AttrInputTokens)
	}
	if exclOut && out.i+reasoning <= maxTokens {
		out.i += reasoning
		out.write = true
		w.issue(issueOutputExcludedReasoning, llmcall.AttrOutputTokens)
	}
	switch {
	case !total.set && (in.set || out.set):
		*total = resolved{set: true, write: true, i: in.i + out.i}
	case total.set && total.i == oldSum && in.i+out.i != oldSum && in.i+out.i <= maxTokens:
		// The sent total left out the same tokens.
		total.i, total.write = in.i+out.i, true
	case total.set && in.set && out.set && total.i < in.i+out.i:
		w.issue(issueInconsistentTotal, m.byName[fieldTotalTokens].target)
	}

	reqModel := &w.res[m.pos[fieldRequestModel]]
	respModel := &w.res[m.pos[fieldResponseModel]]
	hasModel := reqModel.set || respModel.set
	if fr := &w.res[m.pos[fieldFinishReasons]]; !fr.set && len(w.derivedFinish) > 0 {
		*fr = resolved{set: true, write: true, ss: w.derivedFinish}
	}
	if fr := &w.res[m.pos[fieldFinishReasons]]; !fr.set && hasModel && m.finishOnError != "" &&
		span.Status().Code() == ptrace.StatusCodeError {
		*fr = resolved{set: true, write: true, ss: []string{m.finishOnError}}
	}

	if m.errorTypeOnError != "" && span.Status().Code() == ptrace.StatusCodeError {
		if _, ok := attrs.Get(llmcall.AttrErrorType); !ok {
			w.errorType = exceptionType(span)
			if w.errorType == "" {
				w.errorType = m.errorTypeOnError
			}
		}
	}

	if op := &w.res[m.pos[fieldOperation]]; !op.set {
		for _, rule := range m.inference {
			if rule.SpanNamePrefix != "" && strings.HasPrefix(span.Name(), rule.SpanNamePrefix) || anyKey(attrs, rule.AnyOf) {
				*op = resolved{set: true, write: true, s: rule.Operation}
				break
			}
		}
	}
	if pr := &w.res[m.pos[fieldProvider]]; !pr.set && len(m.providerRules) > 0 {
		if v, ok := attrs.Get("server.address"); ok && v.Type() == pcommon.ValueTypeStr {
			host := strings.ToLower(v.Str())
			for _, rule := range m.providerRules {
				if host == rule.ServerAddressSuffix || strings.HasSuffix(host, "."+rule.ServerAddressSuffix) {
					*pr = resolved{set: true, write: true, s: rule.Provider}
					break
				}
			}
		}
	}
}

// exceptionType is the exception.type of the span's last exception event.
func exceptionType(span ptrace.Span) string {
	events := span.Events()
	for i := events.Len() - 1; i >= 0; i-- {
		e := events.At(i)
		if e.Name() != "exception" {
			continue
		}
		if v, ok := e.Attributes().Get("exception.type"); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
			return v.Str()
		}
	}
	return ""
}

func anyKey(attrs pcommon.Map, keys []string) bool {
	for _, k := range keys {
		if _, ok := attrs.Get(k); ok {
			return true
		}
	}
	return false
}

func hasAnyPrefix(k string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

func isCostKey(k string) bool {
	switch k {
	case llmcall.AttrCostInput, llmcall.AttrCostOutput, llmcall.AttrCostTotal,
		llmcall.AttrCostSource, llmcall.AttrUnpriced, attrPriceTableVersion:
		return true
	}
	return false
}

// mergeIssues keeps the issues an earlier pass recorded (an upstream
// collector, or the same span processed twice) and adds new ones.
func mergeIssues(attrs pcommon.Map, issues []string) []string {
	v, ok := attrs.Get(attrNormalizeIssues)
	if !ok || v.Type() != pcommon.ValueTypeSlice || v.Slice().Len() == 0 {
		return issues
	}
	out := make([]string, 0, v.Slice().Len()+len(issues))
	for i := 0; i < v.Slice().Len() && len(out) < maxIssuesPerSpan; i++ {
		out = append(out, v.Slice().At(i).AsString())
	}
	for _, s := range issues {
		if len(out) >= maxIssuesPerSpan {
			break
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func sameValue(t fieldType, a, b resolved) bool {
	switch t {
	case typeString, typeContent:
		return a.s == b.s
	case typeTokens, typeInt:
		return a.i == b.i
	case typeDouble:
		return a.f == b.f
	case typeStringSlice:
		return slices.Equal(a.ss, b.ss)
	}
	return false
}

// convert reads v as field f's type. ok=false with noIssue means "absent"
// (an empty string or value); with a reason it means the value is bad.
func (p *genaiProcessor) convert(f *compiledField, v pcommon.Value, w *spanWork) (resolved, issueReason, bool) {
	r := resolved{set: true}
	switch f.typ {
	case typeString:
		switch v.Type() {
		case pcommon.ValueTypeStr:
			r.s = v.Str()
		case pcommon.ValueTypeInt, pcommon.ValueTypeDouble, pcommon.ValueTypeBool:
			r.s, r.write = v.AsString(), true
		case pcommon.ValueTypeEmpty:
			return r, noIssue, false
		default:
			return r, issueWrongType, false
		}
		if r.s == "" {
			return r, noIssue, false
		}
		if s := f.normalizeValue(r.s); s != r.s {
			r.s, r.write = s, true
		}
		return r, noIssue, true

	case typeTokens, typeInt:
		n, reason, changed := toInt(v)
		if reason != noIssue {
			return r, reason, false
		}
		if f.typ == typeTokens {
			if n < 0 {
				return r, issueNegativeValue, false
			}
			if n > p.cfg.Normalize.MaxTokenCount {
				return r, issueAbsurdValue, false
			}
		} else if f.hasMin && float64(n) < f.min || f.hasMax && float64(n) > f.max {
			return r, issueOutOfRange, false
		}
		r.i, r.write = n, changed
		return r, noIssue, true

	case typeDouble:
		x, reason, changed := toFloat(v)
		if reason != noIssue {
			return r, reason, false
		}
		if f.hasMin && x < f.min || f.hasMax && x > f.max {
			return r, issueOutOfRange, false
		}
		r.f, r.write = x, changed
		return r, noIssue, true

	case typeStringSlice:
		switch v.Type() {
		case pcommon.ValueTypeSlice:
			s := v.Slice()
			if s.Len() == 0 {
				return r, noIssue, false
			}
			r.ss = make([]string, s.Len())
			for i := range r.ss {
				e := s.At(i)
				switch e.Type() {
				case pcommon.ValueTypeStr:
					r.ss[i] = e.Str()
				case pcommon.ValueTypeInt, pcommon.ValueTypeDouble, pcommon.ValueTypeBool:
					r.ss[i], r.write = e.AsString(), true
				default:
					return r, issueWrongType, false
				}
			}
		case pcommon.ValueTypeStr:
			str := v.Str()
			if str == "" {
				return r, noIssue, false
			}
			r.write = true
			var decoded []string
			if str[0] == '[' && json.Unmarshal([]byte(str), &decoded) == nil {
				if len(decoded) == 0 {
					return r, noIssue, false
				}
				r.ss = decoded
			} else {
				r.ss = []string{str}
			}
		case pcommon.ValueTypeEmpty:
			return r, noIssue, false
		default:
			return r, issueWrongType, false
		}
		for i, s := range r.ss {
			if n := f.normalizeValue(s); n != s {
				r.ss[i], r.write = n, true
			}
		}
		return r, noIssue, true

	case typeContent:
		switch v.Type() {
		case pcommon.ValueTypeStr:
			r.s = v.Str()
			if r.s == "" {
				return r, noIssue, false
			}
			if !validJSON(r.s) {
				return r, issueInvalidJSON, false
			}
			return r, noIssue, true
		case pcommon.ValueTypeMap, pcommon.ValueTypeSlice:
			w.buf = appendJSON(w.buf[:0], v, 0)
			r.s, r.write = string(w.buf), true
			return r, noIssue, true
		case pcommon.ValueTypeEmpty:
			return r, noIssue, false
		default:
			return r, issueWrongType, false
		}
	}
	return r, issueWrongType, false
}

// normalizeValue lower-cases (when configured) and maps a value through the
// field's value table.
func (f *compiledField) normalizeValue(s string) string {
	if f.lowerCase {
		s = strings.ToLower(s)
	}
	if mapped, ok := f.values[s]; ok {
		return mapped
	}
	return s
}

// toInt reads an integer: an int, an integral double or a decimal string.
func toInt(v pcommon.Value) (n int64, reason issueReason, changed bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), noIssue, false
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, issueNonFinite, false
		}
		if f != math.Trunc(f) || f >= math.MaxInt64 || f < math.MinInt64 {
			return 0, issueWrongType, false
		}
		return int64(f), noIssue, true
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseInt(strings.TrimSpace(v.Str()), 10, 64)
		if err != nil {
			return 0, issueWrongType, false
		}
		return n, noIssue, true
	}
	return 0, issueWrongType, false
}

// toFloat reads a finite number: a double, an int or a decimal string.
func toFloat(v pcommon.Value) (x float64, reason issueReason, changed bool) {
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		x = v.Double()
	case pcommon.ValueTypeInt:
		x, changed = float64(v.Int()), true
	case pcommon.ValueTypeStr:
		var err error
		x, err = strconv.ParseFloat(strings.TrimSpace(v.Str()), 64)
		if err != nil {
			return 0, issueWrongType, false
		}
		changed = true
	default:
		return 0, issueWrongType, false
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, issueNonFinite, false
	}
	return x, noIssue, changed
}
