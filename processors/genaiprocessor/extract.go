package genaiprocessor

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

// ruleResult is what one content rule found on a span.
type ruleResult struct {
	present bool     // the rule's source is on the span
	json    []byte   // messages as JSON; nil when the source yielded none
	sys     []byte   // system instructions as JSON (input rules)
	finish  []string // finish reasons of output messages
	keys    []string // attribute keys read
	events  []int    // positions of span events read
}

// hasContentValue reports whether key holds a non-empty value.
func hasContentValue(attrs pcommon.Map, key string) bool {
	v, ok := attrs.Get(key)
	if !ok {
		return false
	}
	switch v.Type() {
	case pcommon.ValueTypeEmpty:
		return false
	case pcommon.ValueTypeStr:
		return v.Str() != ""
	}
	return true
}

// extractContent writes gen_ai.input.messages, gen_ai.output.messages and
// gen_ai.system_instructions from the other shapes content comes in (see
// content in mapping.yaml) when the span does not carry them, and removes
// the sources read (unless normalize.keep_original_attributes is set).
func (p *genaiProcessor) extractContent(span ptrace.Span, attrs pcommon.Map, w *spanWork) {
	m := p.mapping
	conv := &contentConv{m: m, issue: w.issue}
	needIn := !hasContentValue(attrs, llmcall.AttrInputMessages)
	needOut := !hasContentValue(attrs, llmcall.AttrOutputMessages)
	needSys := !hasContentValue(attrs, llmcall.AttrSystemInstructions)
	evs, evPos := p.spanContentEvents(span.Events())

	var removeKeys []string
	var removeEvents []int
	consume := func(r ruleResult) {
		removeKeys = append(removeKeys, r.keys...)
		removeEvents = append(removeEvents, r.events...)
	}
	var inJSON, outJSON, sysJSON []byte
	for _, r := range m.inputRules {
		// With the input there, only a source that may also carry system
		// instructions is worth converting.
		parse := needIn || needSys && (r.format == formatDetailsEvent || r.format == formatRawJSON && mayHaveSystem(attrs, r.Attribute))
		res := p.applyRule(conv, r, attrs, evs, evPos, false, parse)
		if !res.present {
			continue
		}
		switch {
		case needIn && (res.json != nil || res.sys != nil):
			inJSON, needIn = res.json, res.json == nil
			if res.sys != nil && needSys {
				sysJSON, needSys = res.sys, false
			}
			consume(res)
		case !needIn:
			// The input is already there: this is another encoding of it.
			if res.sys != nil && needSys {
				sysJSON, needSys = res.sys, false
			}
			consume(res)
		}
	}
	for _, r := range m.outputRules {
		res := p.applyRule(conv, r, attrs, evs, evPos, true, needOut)
		if !res.present {
			continue
		}
		switch {
		case needOut && res.json != nil:
			outJSON, needOut = res.json, false
			w.derivedFinish = res.finish
			consume(res)
		case !needOut:
			consume(res)
		}
	}
	if inJSON != nil {
		attrs.PutStr(llmcall.AttrInputMessages, string(inJSON))
	}
	if outJSON != nil {
		attrs.PutStr(llmcall.AttrOutputMessages, string(outJSON))
	}
	if sysJSON != nil {
		attrs.PutStr(llmcall.AttrSystemInstructions, string(sysJSON))
	}
	if p.cfg.Normalize.KeepOriginalAttributes {
		return
	}
	if len(removeKeys) > 0 {
		attrs.RemoveIf(func(k string, _ pcommon.Value) bool {
			for _, r := range removeKeys {
				if r == k {
					return true
				}
			}
			return false
		})
	}
	if len(removeEvents) > 0 {
		i := -1
		span.Events().RemoveIf(func(ptrace.SpanEvent) bool {
			i++
			for _, r := range removeEvents {
				if r == i {
					return true
				}
			}
			return false
		})
	}
}

// applyRule reads one content rule's source on a span. When !parse (the
// target is already there), it only finds what the rule would read.
func (p *genaiProcessor) applyRule(conv *contentConv, r contentRule, attrs pcommon.Map, evs []contentEvent, evPos []int, output, parse bool) ruleResult {
	var res ruleResult
	if !parse {
		return p.ruleSources(r, attrs, evs, evPos, output)
	}
	var msgs []msg
	switch r.format {
	case formatDetailsEvent, formatMessageEvents:
		var sel []contentEvent
		for i, ev := range evs {
			if ev.spec == nil {
				continue
			}
			match := false
			if r.format == formatDetailsEvent {
				match = ev.name == r.Event
			} else {
				match = !output && ev.spec.kind == eventMessage || output && ev.spec.kind == eventChoice
			}
			if match {
				sel = append(sel, ev)
				res.events = append(res.events, evPos[i])
			}
		}
		if len(sel) == 0 {
			return res
		}
		res.present = true
		ec := conv.fromEvents(sel)
		switch {
		case r.format == formatDetailsEvent && output:
			res.json = ec.detailsOut
			res.finish = finishOfJSON(conv, ec.detailsOut)
			return res
		case r.format == formatDetailsEvent:
			res.json, res.sys = ec.detailsIn, ec.detailsSys
			return res
		case output:
			msgs = ec.out
		default:
			msgs = ec.in
		}
	case formatIndexedMessages, formatOpenInferenceMessages, formatIndexedText:
		var cs consumed
		switch r.format {
		case formatIndexedMessages:
			msgs = conv.fromIndexedMessages(attrs, r.Prefix, r.defaultRole(output), &cs)
		case formatOpenInferenceMessages:
			msgs = conv.fromOpenInferenceMessages(attrs, r.Prefix, r.defaultRole(output), &cs)
		default:
			msgs = conv.fromIndexedText(attrs, r.Prefix, r.Suffix, r.Role, &cs)
		}
		if len(cs.keys) == 0 {
			return res
		}
		res.present, res.keys = true, cs.keys
	case formatTextEvent:
		for i, ev := range evs {
			if ev.name != r.Event {
				continue
			}
			v, ok := ev.attrs[r.Attribute]
			if !ok {
				continue
			}
			res.present = true
			res.events = append(res.events, evPos[i])
			msgs = append(msgs, conv.valueMessages(v, r.Role, output)...)
		}
		if !res.present {
			return res
		}
	case formatText:
		v, ok := attrs.Get(r.Attribute)
		if !ok {
			return res
		}
		res.present, res.keys = true, []string{r.Attribute}
		if v.Type() == pcommon.ValueTypeStr {
			msgs = conv.textMessages(v.Str(), r.Role, output)
		} else {
			msgs = conv.valueMessages(v.AsRaw(), r.Role, output)
		}
	case formatRawJSON:
		v, ok := attrs.Get(r.Attribute)
		if !ok {
			return res
		}
		var skip bool
		var sys []any
		msgs, sys, skip = p.rawJSON(conv, r, attrs, v, output)
		if skip {
			return res
		}
		res.present, res.keys = true, []string{r.Attribute}
		if r.MimeTypeAttribute != "" {
			if _, ok := attrs.Get(r.MimeTypeAttribute); ok {
				res.keys = append(res.keys, r.MimeTypeAttribute)
			}
		}
		if sys != nil {
			res.sys = appendParts(nil, sys)
		}
	}
	if len(msgs) == 0 {
		return res
	}
	if output {
		fillFinishReasons(msgs, p.peekFinishReasons(attrs))
		for _, m := range msgs {
			if m.finish != "" {
				res.finish = append(res.finish, m.finish)
			}
		}
	}
	res.json = appendMessages(nil, msgs, output)
	return res
}

// ruleSources finds the attribute keys and span events a rule reads,
// without converting them.
func (p *genaiProcessor) ruleSources(r contentRule, attrs pcommon.Map, evs []contentEvent, evPos []int, output bool) ruleResult {
	var res ruleResult
	switch r.format {
	case formatDetailsEvent, formatMessageEvents, formatTextEvent:
		for i, ev := range evs {
			var match bool
			switch r.format {
			case formatDetailsEvent, formatTextEvent:
				match = ev.name == r.Event
			default:
				match = ev.spec != nil && (!output && ev.spec.kind == eventMessage || output && ev.spec.kind == eventChoice)
			}
			if match {
				res.events = append(res.events, evPos[i])
			}
		}
	case formatIndexedMessages, formatOpenInferenceMessages, formatIndexedText:
		known := openLLMetrySuffix
		if r.format == formatOpenInferenceMessages {
			known = openInferenceSuffix
		}
		for k := range attrs.All() {
			rest, ok := strings.CutPrefix(k, r.Prefix)
			if !ok {
				continue
			}
			if _, suffix, ok := splitIndex(rest); ok && (r.format == formatIndexedText && suffix == r.Suffix || r.format != formatIndexedText && known(suffix)) {
				res.keys = append(res.keys, k)
			}
		}
	case formatText, formatRawJSON:
		if v, ok := attrs.Get(r.Attribute); ok {
			if r.format == formatRawJSON && output && isEmbeddingsResponse(v) {
				return res // kept: not content
			}
			res.keys = append(res.keys, r.Attribute)
			if r.MimeTypeAttribute != "" {
				if _, ok := attrs.Get(r.MimeTypeAttribute); ok {
					res.keys = append(res.keys, r.MimeTypeAttribute)
				}
			}
		}
	}
	res.present = len(res.keys) > 0 || len(res.events) > 0
	return res
}

// mayHaveSystem reports, cheaply, whether a request body may carry system
// instructions apart from its messages (Anthropic system, Responses API
// instructions, Gemini systemInstruction).
func mayHaveSystem(attrs pcommon.Map, key string) bool {
	v, ok := attrs.Get(key)
	if !ok {
		return false
	}
	if v.Type() != pcommon.ValueTypeStr {
		return true
	}
	s := v.Str()
	return strings.Contains(s, `"system"`) || strings.Contains(s, `"instructions"`) ||
		strings.Contains(s, `"systemInstruction"`) || strings.Contains(s, `"system_instruction"`)
}

// isEmbeddingsResponse reports, cheaply, whether v looks like an
// embeddings response body (which carries no messages and is kept).
func isEmbeddingsResponse(v pcommon.Value) bool {
	if v.Type() != pcommon.ValueTypeStr {
		return false
	}
	s := v.Str()
	return strings.Contains(s, `"embedding"`) && strings.Contains(s, `"data"`) && !strings.Contains(s, `"choices"`)
}

// defaultRole is the default role of a message rule: the configured one, else
// user for input and assistant for output.
func (r contentRule) defaultRole(output bool) string {
	if r.Role != "" {
		return r.Role
	}
	if output {
		return "assistant"
	}
	return "user"
}

// valueMessages reads a structured (or string) content value.
func (c *contentConv) valueMessages(v any, role string, output bool) []msg {
	switch x := v.(type) {
	case string:
		return c.textMessages(x, role, output)
	case []any:
		if isMessageList(x) {
			return c.messages(x, role)
		}
	case nil:
		return nil
	}
	return []msg{{role: c.role(role), parts: c.contentParts(v)}}
}

// rawJSON reads a whole request (input) or response (output) body.
func (p *genaiProcessor) rawJSON(conv *contentConv, r contentRule, attrs pcommon.Map, v pcommon.Value, output bool) (msgs []msg, sys []any, skip bool) {
	mime := ""
	if r.MimeTypeAttribute != "" {
		if mv, ok := attrs.Get(r.MimeTypeAttribute); ok {
			mime = strings.ToLower(strings.TrimSpace(mv.AsString()))
		}
	}
	var body any
	text := ""
	switch v.Type() {
	case pcommon.ValueTypeStr:
		text = v.Str()
		if text == "" {
			return nil, nil, true
		}
		if strings.HasPrefix(mime, "text/") {
			return []msg{{role: conv.role(r.Role), parts: []any{textPart(text)}}}, nil, false
		}
		d, ok := decodeJSON(text)
		if !ok {
			if strings.Contains(mime, "json") {
				conv.issue(issueInvalidJSON, r.Attribute)
			}
			return []msg{{role: conv.role(r.Role), parts: []any{textPart(text)}}}, nil, false
		}
		body = d
	case pcommon.ValueTypeMap, pcommon.ValueTypeSlice:
		body = v.AsRaw()
		text = string(appendJSON(nil, v, 0))
	case pcommon.ValueTypeEmpty:
		return nil, nil, true
	default:
		text = v.AsString()
		return []msg{{role: conv.role(r.Role), parts: []any{textPart(text)}}}, nil, false
	}
	if s, isStr := body.(string); isStr {
		// A JSON string: its text.
		return []msg{{role: conv.role(r.Role), parts: []any{textPart(s)}}}, nil, false
	}
	if output {
		out, ok, skipIt := conv.fromResponse(body, r.Role)
		if skipIt {
			return nil, nil, true
		}
		if ok && len(out) > 0 {
			return out, nil, false
		}
	} else {
		in, s, ok := conv.fromRequest(body, r.Role)
		if ok && (len(in) > 0 || s != nil) {
			return in, s, false
		}
	}
	// Not a body we know: keep it whole as one text part.
	return []msg{{role: conv.role(r.Role), parts: []any{textPart(text)}}}, nil, false
}

// peekFinishReasons reads the span's finish reasons from the finish_reasons
// field's sources, without changing anything.
func (p *genaiProcessor) peekFinishReasons(attrs pcommon.Map) []string {
	f := p.mapping.byName[fieldFinishReasons]
	if f == nil {
		return nil
	}
	for _, src := range f.sources {
		v, ok := attrs.Get(src)
		if !ok {
			continue
		}
		if r, _, ok := p.convert(f, v, nil); ok {
			return r.ss
		}
	}
	return nil
}

// fillFinishReasons gives output messages without one the span's finish
// reason of the same position.
func fillFinishReasons(msgs []msg, frs []string) {
	for i := range msgs {
		if msgs[i].finish == "" && i < len(frs) {
			msgs[i].finish = frs[i]
		}
	}
}

// finishOfJSON lists the finish_reason of each message of an OutputMessages
// JSON.
func finishOfJSON(conv *contentConv, b []byte) []string {
	if b == nil {
		return nil
	}
	v, ok := decodeJSON(string(b))
	if !ok {
		return nil
	}
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if o, ok := e.(map[string]any); ok {
			if s := conv.finishReason(str(o["finish_reason"])); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
