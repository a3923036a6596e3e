package genaiprocessor

import (
	"encoding/base64"
	"encoding/json"
	"iter"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// This file converts message content from the shapes other conventions use
// (indexed attributes, whole request/response JSON, per-message events) into
// the OTel GenAI message schema: InputMessages / OutputMessages arrays of
// {role, parts: [{type, ...}], name?, finish_reason?} and SystemInstructions
// arrays of parts. Which keys and events are read is data (mapping.yaml);
// the shapes themselves are code.

// maxIndex bounds the N of indexed keys (gen_ai.prompt.N.content); larger
// indexes are not read (and the keys are kept as sent).
const maxIndex = 100_000

// obj is a JSON object that keeps its key order.
type obj []kv

type kv struct {
	k string
	v any
}

// msg is one message of the OTel schema.
type msg struct {
	role   string
	parts  []any
	name   string
	finish string
	index  int // choice index, for ordering output messages
}

func (m msg) object(output bool) obj {
	parts := m.parts
	if parts == nil {
		parts = []any{}
	}
	o := obj{{"role", m.role}, {"parts", parts}}
	if m.name != "" {
		o = append(o, kv{"name", m.name})
	}
	if output && m.finish != "" {
		o = append(o, kv{"finish_reason", m.finish})
	}
	return o
}

func appendMessages(buf []byte, msgs []msg, output bool) []byte {
	buf = append(buf, '[')
	for i, m := range msgs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendAny(buf, m.object(output), 0)
	}
	return append(buf, ']')
}

func appendParts(buf []byte, parts []any) []byte {
	if parts == nil {
		parts = []any{}
	}
	return appendAny(buf, parts, 0)
}

func textPart(s string) obj { return obj{{"type", "text"}, {"content", s}} }

// appendAny appends v as JSON. It handles the values of decoded JSON (with
// json.Number), of pcommon AsRaw, and the builders of this file. Map keys
// are sorted; no HTML escaping.
func appendAny(buf []byte, v any, depth int) []byte {
	if depth > maxJSONDepth {
		return append(buf, "null"...)
	}
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...)
	case string:
		return appendJSONString(buf, x)
	case bool:
		return strconv.AppendBool(buf, x)
	case int:
		return strconv.AppendInt(buf, int64(x), 10)
	case int64:
		return strconv.AppendInt(buf, x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(buf, "null"...)
		}
		return strconv.AppendFloat(buf, x, 'g', -1, 64)
	case json.Number:
		return append(buf, x...)
	case json.RawMessage:
		return append(buf, x...)
	case []byte:
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, x)
		return append(buf, '"')
	case obj:
		buf = append(buf, '{')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, e.k)
			buf = append(buf, ':')
			buf = appendAny(buf, e.v, depth+1)
		}
		return append(buf, '}')
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendAny(buf, e, depth+1)
		}
		return append(buf, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			buf = appendAny(buf, x[k], depth+1)
		}
		return append(buf, '}')
	case pcommon.Value:
		return appendJSON(buf, x, depth)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return append(buf, "null"...)
	}
	return append(buf, b...)
}

// decodeJSON decodes one JSON value keeping numbers as json.Number.
func decodeJSON(s string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // trailing data
	}
	return v, true
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

func toIndex(v any) (int, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return int(n), err == nil && n >= 0 && n <= maxIndex
	case int64:
		return int(x), x >= 0 && x <= maxIndex
	case float64:
		return int(x), x >= 0 && x <= maxIndex && x == math.Trunc(x)
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil && n >= 0 && n <= maxIndex
	}
	return 0, false
}

// contentConv converts content of one span (or joined log records). It
// reads the mapping's role and finish-reason tables and reports issues.
type contentConv struct {
	m     *compiledMapping
	issue func(issueReason, string)
}

func (c *contentConv) role(r string) string {
	r = strings.ToLower(strings.TrimSpace(r))
	if mapped, ok := c.m.roles[r]; ok {
		return mapped
	}
	return r
}

func (c *contentConv) finishReason(s string) string {
	if s == "" {
		return ""
	}
	if f := c.m.byName[fieldFinishReasons]; f != nil {
		return f.normalizeValue(s)
	}
	return s
}

// parseArgs keeps tool-call arguments as JSON when they are a JSON object or
// array in a string, as the schema's examples do; otherwise as sent.
func parseArgs(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t := strings.TrimSpace(s)
	if t != "" && (t[0] == '{' || t[0] == '[') && validJSON(t) {
		return json.RawMessage(t)
	}
	return s
}

func toolCallPart(id, name string, args any) obj {
	p := obj{{"type", "tool_call"}}
	if id != "" {
		p = append(p, kv{"id", id})
	}
	p = append(p, kv{"name", name})
	if args != nil {
		p = append(p, kv{"arguments", parseArgs(args)})
	}
	return p
}

func toolResponsePart(id string, response any) obj {
	p := obj{{"type", "tool_call_response"}}
	if id != "" {
		p = append(p, kv{"id", id})
	}
	return append(p, kv{"response", response})
}

// dataURL splits data:<mime>;base64,<data>.
func dataURL(u string) (mime, data string, ok bool) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", "", false
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok {
		return "", "", false
	}
	mime, isB64 := strings.CutSuffix(meta, ";base64")
	if !isB64 {
		return "", "", false
	}
	return mime, data, true
}

func uriOrBlob(modality, u string) obj {
	if mime, data, ok := dataURL(u); ok {
		p := obj{{"type", "blob"}, {"modality", modality}}
		if mime != "" {
			p = append(p, kv{"mime_type", mime})
		}
		return append(p, kv{"content", data})
	}
	return obj{{"type", "uri"}, {"modality", modality}, {"uri", u}}
}

// contentParts converts a message's content: a string, an array of content
// parts (OpenAI, Anthropic, Responses API or OTel), or a single part.
func (c *contentConv) contentParts(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return []any{textPart(x)}
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			switch ee := e.(type) {
			case string:
				out = append(out, textPart(ee))
			case map[string]any:
				out = append(out, c.partFromObject(ee))
			case nil:
			default:
				out = append(out, textPart(string(appendAny(nil, ee, 0))))
			}
		}
		return out
	case map[string]any:
		return []any{c.partFromObject(x)}
	case []byte:
		return []any{textPart(base64.StdEncoding.EncodeToString(x))}
	}
	return []any{textPart(string(appendAny(nil, v, 0)))}
}

// partFromObject converts one content part object of another API into the
// OTel part of the same meaning; OTel parts and unknown parts are kept.
func (c *contentConv) partFromObject(o map[string]any) any {
	switch str(o["type"]) {
	case "text", "input_text", "output_text":
		if s, ok := o["text"].(string); ok {
			return textPart(s)
		}
	case "image_url", "input_image":
		switch u := o["image_url"].(type) {
		case map[string]any:
			if s := str(u["url"]); s != "" {
				return uriOrBlob("image", s)
			}
		case string:
			if u != "" {
				return uriOrBlob("image", u)
			}
		}
		if id := str(o["file_id"]); id != "" {
			return obj{{"type", "file"}, {"modality", "image"}, {"file_id", id}}
		}
	case "input_audio":
		if a, ok := o["input_audio"].(map[string]any); ok {
			p := obj{{"type", "blob"}, {"modality", "audio"}}
			if f := str(a["format"]); f != "" {
				p = append(p, kv{"mime_type", "audio/" + f})
			}
			return append(p, kv{"content", a["data"]})
		}
	case "image", "document":
		modality := str(o["type"])
		if src, ok := o["source"].(map[string]any); ok {
			switch str(src["type"]) {
			case "base64":
				p := obj{{"type", "blob"}, {"modality", modality}}
				if mt := str(src["media_type"]); mt != "" {
					p = append(p, kv{"mime_type", mt})
				}
				return append(p, kv{"content", src["data"]})
			case "url":
				return obj{{"type", "uri"}, {"modality", modality}, {"uri", src["url"]}}
			}
		}
	case "tool_use":
		return toolCallPart(str(o["id"]), str(o["name"]), o["input"])
	case "tool_result":
		return toolResponsePart(str(o["tool_use_id"]), o["content"])
	case "thinking":
		if s, ok := o["thinking"].(string); ok {
			return obj{{"type", "reasoning"}, {"content", s}}
		}
	case "refusal":
		if s, ok := o["refusal"].(string); ok {
			return obj{{"type", "refusal"}, {"content", s}}
		}
	}
	return o
}

// fromChatMessage converts one chat message of the OpenAI shape (role,
// content, name, tool_calls, tool_call_id, function_call, refusal), which
// also covers Anthropic messages and the <= 1.36 event bodies. A message
// already in the OTel shape (with parts) is kept.
func (c *contentConv) fromChatMessage(o map[string]any, defRole string) msg {
	role := str(o["role"])
	if role == "" {
		role = defRole
	}
	m := msg{role: c.role(role), name: str(o["name"])}
	if parts, ok := o["parts"].([]any); ok {
		m.parts = parts
		m.finish = c.finishReason(str(o["finish_reason"]))
		return m
	}
	if id := str(o["tool_call_id"]); id != "" || m.role == "tool" {
		m.parts = append(m.parts, toolResponsePart(id, o["content"]))
	} else {
		m.parts = append(m.parts, c.contentParts(o["content"])...)
	}
	if r, ok := o["refusal"].(string); ok && r != "" {
		m.parts = append(m.parts, obj{{"type", "refusal"}, {"content", r}})
	}
	if calls, ok := o["tool_calls"].([]any); ok {
		for _, e := range calls {
			tc, ok := e.(map[string]any)
			if !ok {
				continue
			}
			name, args := str(tc["name"]), tc["arguments"]
			if fn, ok := tc["function"].(map[string]any); ok {
				name, args = str(fn["name"]), fn["arguments"]
			}
			m.parts = append(m.parts, toolCallPart(str(tc["id"]), name, args))
		}
	}
	if fc, ok := o["function_call"].(map[string]any); ok {
		m.parts = append(m.parts, toolCallPart("", str(fc["name"]), fc["arguments"]))
	}
	return m
}

// fromGeminiContent converts a Gemini Content {role, parts}.
func (c *contentConv) fromGeminiContent(o map[string]any, defRole string) msg {
	role := str(o["role"])
	if role == "" {
		role = defRole
	}
	m := msg{role: c.role(role)}
	parts, _ := o["parts"].([]any)
	for _, e := range parts {
		p, ok := e.(map[string]any)
		if !ok {
			continue
		}
		switch {
		case p["text"] != nil:
			if t, _ := p["thought"].(bool); t {
				m.parts = append(m.parts, obj{{"type", "reasoning"}, {"content", p["text"]}})
			} else {
				m.parts = append(m.parts, obj{{"type", "text"}, {"content", p["text"]}})
			}
		case p["functionCall"] != nil:
			fc, _ := p["functionCall"].(map[string]any)
			m.parts = append(m.parts, toolCallPart(str(fc["id"]), str(fc["name"]), fc["args"]))
		case p["functionResponse"] != nil:
			fr, _ := p["functionResponse"].(map[string]any)
			m.parts = append(m.parts, toolResponsePart(str(fr["id"]), fr["response"]))
		case p["inlineData"] != nil:
			d, _ := p["inlineData"].(map[string]any)
			mime := str(d["mimeType"])
			modality, _, _ := strings.Cut(mime, "/")
			m.parts = append(m.parts, obj{{"type", "blob"}, {"modality", modality}, {"mime_type", mime}, {"content", d["data"]}})
		default:
			m.parts = append(m.parts, p)
		}
	}
	return m
}

// isMessageList reports whether v is an array of message objects.
func isMessageList(v []any) bool {
	if len(v) == 0 {
		return false
	}
	for _, e := range v {
		o, ok := e.(map[string]any)
		if !ok || str(o["role"]) == "" {
			return false
		}
	}
	return true
}

// isPartList reports whether v is an array of typed content parts.
func isPartList(v []any) bool {
	if len(v) == 0 {
		return false
	}
	for _, e := range v {
		o, ok := e.(map[string]any)
		if !ok || str(o["type"]) == "" {
			return false
		}
	}
	return true
}

func (c *contentConv) messages(list []any, defRole string) []msg {
	out := make([]msg, 0, len(list))
	for _, e := range list {
		if o, ok := e.(map[string]any); ok {
			out = append(out, c.fromChatMessage(o, defRole))
		}
	}
	return out
}

// fromRequest reads a whole request body: OpenAI chat (messages), Anthropic
// (system + messages), Gemini (contents + systemInstruction), OpenAI
// Responses (input + instructions), embeddings (input), completions
// (prompt), or a bare message array.
func (c *contentConv) fromRequest(v any, role string) (in []msg, sys []any, ok bool) {
	switch x := v.(type) {
	case []any:
		if isMessageList(x) {
			return c.messages(x, role), nil, true
		}
		return nil, nil, false
	case map[string]any:
		if s, has := x["system"]; has && s != nil {
			sys, ok = c.contentParts(s), true
		}
		if s, has := x["instructions"].(string); has && s != "" {
			sys, ok = []any{textPart(s)}, true
		}
		for _, k := range []string{"systemInstruction", "system_instruction"} {
			if si, has := x[k].(map[string]any); has {
				sys, ok = c.fromGeminiContent(si, "system").parts, true
			}
		}
		switch {
		case x["messages"] != nil:
			if list, isList := x["messages"].([]any); isList {
				return c.messages(list, role), sys, true
			}
		case x["contents"] != nil:
			if list, isList := x["contents"].([]any); isList {
				for _, e := range list {
					if o, isObj := e.(map[string]any); isObj {
						in = append(in, c.fromGeminiContent(o, role))
					}
				}
				return in, sys, true
			}
		case x["input"] != nil:
			return c.fromResponsesInput(x["input"], role), sys, true
		case x["prompt"] != nil:
			m := msg{role: c.role(role)}
			switch p := x["prompt"].(type) {
			case string:
				m.parts = []any{textPart(p)}
			case []any:
				m.parts = c.contentParts(p)
			default:
				m.parts = c.contentParts(p)
			}
			return []msg{m}, sys, true
		}
		return nil, sys, ok
	}
	return nil, nil, false
}

// fromResponsesInput reads the input of an OpenAI Responses or embeddings
// request: a string, strings, or items (messages, function calls and their
// outputs).
func (c *contentConv) fromResponsesInput(v any, role string) []msg {
	switch x := v.(type) {
	case string:
		return []msg{{role: c.role(role), parts: []any{textPart(x)}}}
	case []any:
		var out []msg
		var texts []any
		for _, e := range x {
			switch item := e.(type) {
			case string:
				texts = append(texts, textPart(item))
			case map[string]any:
				switch str(item["type"]) {
				case "function_call":
					out = append(out, msg{role: "assistant", parts: []any{toolCallPart(str(item["call_id"]), str(item["name"]), item["arguments"])}})
				case "function_call_output":
					out = append(out, msg{role: "tool", parts: []any{toolResponsePart(str(item["call_id"]), item["output"])}})
				default:
					if str(item["role"]) != "" {
						out = append(out, c.fromChatMessage(item, role))
					} else {
						out = append(out, msg{role: c.role(role), parts: []any{c.partFromObject(item)}})
					}
				}
			default:
				texts = append(texts, textPart(string(appendAny(nil, item, 0))))
			}
		}
		if len(texts) > 0 {
			out = append([]msg{{role: c.role(role), parts: texts}}, out...)
		}
		return out
	}
	return []msg{{role: c.role(role), parts: c.contentParts(v)}}
}

// fromResponse reads a whole response body: OpenAI chat / completions
// (choices), Gemini (candidates), OpenAI Responses (output), Anthropic
// (content + stop_reason) or a bare message array. skip is set for bodies
// that carry no messages by nature (embeddings).
func (c *contentConv) fromResponse(v any, role string) (out []msg, ok, skip bool) {
	switch x := v.(type) {
	case []any:
		if isMessageList(x) {
			return c.messages(x, role), true, false
		}
	case map[string]any:
		if choices, isList := x["choices"].([]any); isList {
			for i, e := range choices {
				ch, isObj := e.(map[string]any)
				if !isObj {
					continue
				}
				var m msg
				switch {
				case ch["message"] != nil:
					mo, _ := ch["message"].(map[string]any)
					m = c.fromChatMessage(mo, role)
				case ch["delta"] != nil:
					mo, _ := ch["delta"].(map[string]any)
					m = c.fromChatMessage(mo, role)
				case ch["text"] != nil:
					m = msg{role: c.role(role), parts: c.contentParts(ch["text"])}
				default:
					m = msg{role: c.role(role)}
				}
				m.finish = c.finishReason(str(ch["finish_reason"]))
				m.index = i
				if idx, isIdx := toIndex(ch["index"]); isIdx {
					m.index = idx
				}
				out = append(out, m)
			}
			sort.SliceStable(out, func(i, j int) bool { return out[i].index < out[j].index })
			return out, true, false
		}
		if cands, isList := x["candidates"].([]any); isList {
			for _, e := range cands {
				cand, isObj := e.(map[string]any)
				if !isObj {
					continue
				}
				co, _ := cand["content"].(map[string]any)
				m := c.fromGeminiContent(co, role)
				m.finish = c.finishReason(str(cand["finishReason"]))
				out = append(out, m)
			}
			return out, true, false
		}
		if items, isList := x["output"].([]any); isList {
			m := msg{role: c.role(role)}
			for _, e := range items {
				item, isObj := e.(map[string]any)
				if !isObj {
					continue
				}
				switch str(item["type"]) {
				case "message":
					m.parts = append(m.parts, c.contentParts(item["content"])...)
				case "function_call":
					m.parts = append(m.parts, toolCallPart(str(item["call_id"]), str(item["name"]), item["arguments"]))
				case "reasoning":
					var texts []string
					summary, _ := item["summary"].([]any)
					for _, s := range summary {
						if so, isObj := s.(map[string]any); isObj && str(so["text"]) != "" {
							texts = append(texts, str(so["text"]))
						}
					}
					if len(texts) > 0 {
						m.parts = append(m.parts, obj{{"type", "reasoning"}, {"content", strings.Join(texts, "\n")}})
					}
				default:
					m.parts = append(m.parts, item)
				}
			}
			switch status := str(x["status"]); status {
			case "completed":
				m.finish = "stop"
			case "incomplete":
				m.finish = "length"
			case "failed":
				m.finish = "error"
			default:
				m.finish = c.finishReason(status)
			}
			return []msg{m}, true, false
		}
		if content, isList := x["content"].([]any); isList && (x["stop_reason"] != nil || str(x["type"]) == "message" || str(x["role"]) != "") {
			r := str(x["role"])
			if r == "" {
				r = role
			}
			m := msg{role: c.role(r), parts: c.contentParts(content), finish: c.finishReason(str(x["stop_reason"]))}
			return []msg{m}, true, false
		}
		if data, isList := x["data"].([]any); isList && len(data) > 0 {
			if d, isObj := data[0].(map[string]any); isObj && d["embedding"] != nil {
				return nil, false, true
			}
		}
	}
	return nil, false, false
}

// textMessages reads a string that may hold a message array, a request or
// response body, an array of content parts, or plain text.
func (c *contentConv) textMessages(s, role string, output bool) []msg {
	t := strings.TrimSpace(s)
	if t != "" && (t[0] == '[' || t[0] == '{') {
		if v, ok := decodeJSON(t); ok {
			if list, isList := v.([]any); isList && isPartList(list) && !isMessageList(list) {
				return []msg{{role: c.role(role), parts: c.contentParts(list)}}
			}
			if output {
				if msgs, ok, _ := c.fromResponse(v, role); ok && len(msgs) > 0 {
					return msgs
				}
			} else if msgs, _, ok := c.fromRequest(v, role); ok && len(msgs) > 0 {
				return msgs
			}
		}
	}
	if s == "" {
		return nil
	}
	return []msg{{role: c.role(role), parts: []any{textPart(s)}}}
}

// textOrParts reads an indexed content value: a string that may hold a JSON
// array of content parts (OpenLLMetry stringifies non-string content), or a
// structured value.
func (c *contentConv) textOrParts(v pcommon.Value) []any {
	if v.Type() != pcommon.ValueTypeStr {
		return c.contentParts(v.AsRaw())
	}
	s := v.Str()
	t := strings.TrimSpace(s)
	if t != "" && t[0] == '[' {
		if d, ok := decodeJSON(t); ok {
			if list, isList := d.([]any); isList && isPartList(list) {
				return c.contentParts(list)
			}
		}
	}
	return c.contentParts(s)
}

// indexed is one N of an indexed key family (<prefix>N.<suffix>).
type indexed struct {
	n      int
	fields map[string]pcommon.Value
}

// collectIndexed groups the keys <prefix>N.<suffix> by N (ascending).
func collectIndexed(attrs pcommon.Map, prefix string) []indexed {
	return groupIndexed(attrs.All(), prefix)
}

// groupIndexed groups the keys <prefix>N.<suffix> of kvs by N (ascending).
func groupIndexed(kvs iter.Seq2[string, pcommon.Value], prefix string) []indexed {
	var byN map[int]map[string]pcommon.Value
	for k, v := range kvs {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		n, suffix, ok := splitIndex(rest)
		if !ok {
			continue
		}
		if byN == nil {
			byN = map[int]map[string]pcommon.Value{}
		}
		if byN[n] == nil {
			byN[n] = map[string]pcommon.Value{}
		}
		byN[n][suffix] = v
	}
	out := make([]indexed, 0, len(byN))
	for n, f := range byN {
		out = append(out, indexed{n: n, fields: f})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	return out
}

// splitIndex splits "N.rest" into N and rest.
func splitIndex(s string) (int, string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 6 || i >= len(s) || s[i] != '.' || i+1 == len(s) {
		return 0, "", false
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n > maxIndex {
		return 0, "", false
	}
	return n, s[i+1:], true
}

// sub groups the fields <sub>K.<rest> of an entry by K.
func (e indexed) sub(prefix string) []indexed {
	return groupIndexed(maps.All(e.fields), prefix)
}

func (e indexed) str(key string) string {
	v, ok := e.fields[key]
	if !ok {
		return ""
	}
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return v.AsString()
}

func (e indexed) raw(key string) any {
	v, ok := e.fields[key]
	if !ok {
		return nil
	}
	return v.AsRaw()
}

// consumed lists the full keys of the fields an indexed reader used.
type consumed struct {
	keys []string
}

func (cs *consumed) add(prefix string, n int, suffix string) {
	cs.keys = append(cs.keys, prefix+strconv.Itoa(n)+"."+suffix)
}

// openLLMetrySuffix reports whether suffix is one the indexed_messages
// reader understands.
func openLLMetrySuffix(s string) bool {
	switch s {
	case "role", "content", "tool_call_id", "finish_reason", "name", "function_call.name", "function_call.arguments":
		return true
	}
	if rest, ok := strings.CutPrefix(s, "tool_calls."); ok {
		_, f, ok := splitIndex(rest)
		return ok && (f == "id" || f == "name" || f == "arguments" || f == "type" ||
			f == "function.name" || f == "function.arguments")
	}
	return false
}

// claim marks the fields of e that the convention knows as consumed and
// reports whether it knew any.
func (e indexed) claim(prefix string, cs *consumed, known func(suffix string) bool) bool {
	used := false
	for suffix := range e.fields {
		if known(suffix) {
			cs.add(prefix, e.n, suffix)
			used = true
		}
	}
	return used
}

// fromIndexedMessages reads OpenLLMetry's gen_ai.prompt.N.* /
// gen_ai.completion.N.* keys.
func (c *contentConv) fromIndexedMessages(attrs pcommon.Map, prefix, role string, cs *consumed) []msg {
	var out []msg
	for _, e := range collectIndexed(attrs, prefix) {
		if !e.claim(prefix, cs, openLLMetrySuffix) {
			continue
		}
		r := e.str("role")
		if r == "" {
			r = role
		}
		m := msg{role: c.role(r), name: e.str("name"), finish: c.finishReason(e.str("finish_reason")), index: e.n}
		if id := e.str("tool_call_id"); id != "" || m.role == "tool" {
			m.parts = append(m.parts, toolResponsePart(id, e.raw("content")))
		} else if v, ok := e.fields["content"]; ok {
			if v.Type() != pcommon.ValueTypeStr && v.Type() != pcommon.ValueTypeSlice && v.Type() != pcommon.ValueTypeMap {
				c.issue(issueWrongType, prefix+strconv.Itoa(e.n)+".content")
			}
			m.parts = append(m.parts, c.textOrParts(v)...)
		}
		for _, tc := range e.sub("tool_calls.") {
			name, args := tc.str("name"), tc.raw("arguments")
			if name == "" {
				name, args = tc.str("function.name"), tc.raw("function.arguments")
			}
			m.parts = append(m.parts, toolCallPart(tc.str("id"), name, args))
		}
		if name := e.str("function_call.name"); name != "" {
			m.parts = append(m.parts, toolCallPart("", name, e.raw("function_call.arguments")))
		}
		out = append(out, m)
	}
	return out
}

func openInferenceSuffix(s string) bool {
	rest, ok := strings.CutPrefix(s, "message.")
	if !ok {
		return false
	}
	switch rest {
	case "role", "content", "name", "tool_call_id", "function_call_name", "function_call_arguments_json":
		return true
	}
	if r, ok := strings.CutPrefix(rest, "contents."); ok {
		_, f, ok := splitIndex(r)
		return ok && strings.HasPrefix(f, "message_content.")
	}
	if r, ok := strings.CutPrefix(rest, "tool_calls."); ok {
		_, f, ok := splitIndex(r)
		return ok && strings.HasPrefix(f, "tool_call.")
	}
	return false
}

// fromOpenInferenceMessages reads llm.input_messages.N.message.* /
// llm.output_messages.N.message.*.
func (c *contentConv) fromOpenInferenceMessages(attrs pcommon.Map, prefix, role string, cs *consumed) []msg {
	var out []msg
	for _, e := range collectIndexed(attrs, prefix) {
		if !e.claim(prefix, cs, openInferenceSuffix) {
			continue
		}
		r := e.str("message.role")
		if r == "" {
			r = role
		}
		m := msg{role: c.role(r), name: e.str("message.name"), index: e.n}
		var parts []any
		if contents := e.sub("message.contents."); len(contents) > 0 {
			for _, mc := range contents {
				switch t := mc.str("message_content.type"); t {
				case "text", "":
					if _, ok := mc.fields["message_content.text"]; ok {
						parts = append(parts, textPart(mc.str("message_content.text")))
					}
				case "image":
					parts = append(parts, uriOrBlob("image", mc.str("message_content.image.image.url")))
				default:
					p := obj{{"type", t}}
					if s := mc.str("message_content.text"); s != "" {
						p = append(p, kv{"content", s})
					}
					parts = append(parts, p)
				}
			}
		} else if v, ok := e.fields["message.content"]; ok {
			parts = c.textOrParts(v)
		}
		if id := e.str("message.tool_call_id"); id != "" || m.role == "tool" {
			var resp any = e.str("message.content")
			if _, hasContent := e.fields["message.content"]; !hasContent && len(parts) > 0 {
				resp = parts
			}
			m.parts = append(m.parts, toolResponsePart(id, resp))
		} else {
			m.parts = append(m.parts, parts...)
		}
		for _, tc := range e.sub("message.tool_calls.") {
			m.parts = append(m.parts, toolCallPart(tc.str("tool_call.id"), tc.str("tool_call.function.name"), tc.raw("tool_call.function.arguments")))
		}
		if name := e.str("message.function_call_name"); name != "" {
			m.parts = append(m.parts, toolCallPart("", name, e.raw("message.function_call_arguments_json")))
		}
		out = append(out, m)
	}
	return out
}

// fromIndexedText reads <prefix>N.<suffix> text values (llm.prompts.N.prompt.text).
func (c *contentConv) fromIndexedText(attrs pcommon.Map, prefix, suffix, role string, cs *consumed) []msg {
	var out []msg
	for _, e := range collectIndexed(attrs, prefix) {
		v, ok := e.fields[suffix]
		if !ok {
			continue
		}
		cs.add(prefix, e.n, suffix)
		out = append(out, msg{role: c.role(role), parts: c.contentParts(v.AsString()), index: e.n})
	}
	return out
}

// contentEvent is a span event or log record that carries content, decoded
// into plain Go values (so a log record can wait for its span without
// holding pdata).
type contentEvent struct {
	name  string
	spec  *contentEventSpec
	body  any            // message and choice events
	attrs map[string]any // details events
	// What a held span may wait for (log records): input, output.
	givesIn, givesOut bool
}

// bodyFromAttributes is the body of a <= 1.36 event recorded as a span
// event: its attributes, or the JSON in gen_ai.event.content (Semantic
// Kernel and others).
func bodyFromAttributes(attrs pcommon.Map) any {
	if v, ok := attrs.Get("gen_ai.event.content"); ok && v.Type() == pcommon.ValueTypeStr {
		if d, ok := decodeJSON(v.Str()); ok {
			return d
		}
		return v.Str()
	}
	return attrs.AsRaw()
}

// decodeBody turns a log record body into Go values; a string holding a
// JSON object is decoded.
func decodeBody(v pcommon.Value) any {
	if v.Type() == pcommon.ValueTypeStr {
		s := strings.TrimSpace(v.Str())
		if s != "" && s[0] == '{' {
			if d, ok := decodeJSON(s); ok {
				return d
			}
		}
		return v.Str()
	}
	return v.AsRaw()
}

// eventContent is what content events yielded.
type eventContent struct {
	in, out                   []msg
	detailsIn, detailsOut     []byte // JSON
	detailsSys                []byte
	hasIn, hasOut             bool // message / choice events seen
	hasDetailsIn, hasDetailsO bool
	convention                string // of the message events, if any
}

// detailsJSON encodes a details attribute: a JSON string is kept as is,
// structured values are encoded; other strings are kept as sent (the field
// pass reports invalid_json).
func detailsJSON(v any) []byte {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return []byte(x)
	}
	return appendAny(nil, v, 0)
}

// fromEvents converts content events, in order. Choices are ordered by
// their index.
func (c *contentConv) fromEvents(evs []contentEvent) eventContent {
	var ec eventContent
	for _, ev := range evs {
		switch ev.spec.kind {
		case eventDetails:
			get := func(key string) any {
				if v, ok := ev.attrs[key]; ok {
					return v
				}
				if b, ok := ev.body.(map[string]any); ok {
					return b[key]
				}
				return nil
			}
			if b := detailsJSON(get("gen_ai.input.messages")); b != nil && ec.detailsIn == nil {
				ec.detailsIn, ec.hasDetailsIn = b, true
			}
			if b := detailsJSON(get("gen_ai.output.messages")); b != nil && ec.detailsOut == nil {
				ec.detailsOut, ec.hasDetailsO = b, true
			}
			if b := detailsJSON(get("gen_ai.system_instructions")); b != nil && ec.detailsSys == nil {
				ec.detailsSys = b
			}
		case eventMessage:
			ec.hasIn = true
			if ec.convention == "" {
				ec.convention = ev.spec.Convention
			}
			switch b := ev.body.(type) {
			case map[string]any:
				if ev.spec.Role == "tool" && b["tool_call_id"] == nil && b["id"] != nil {
					b = cloneMap(b)
					b["tool_call_id"] = b["id"]
				}
				ec.in = append(ec.in, c.fromChatMessage(b, ev.spec.Role))
			default:
				ec.in = append(ec.in, msg{role: c.role(ev.spec.Role), parts: c.contentParts(b)})
			}
		case eventChoice:
			ec.hasOut = true
			if ec.convention == "" {
				ec.convention = ev.spec.Convention
			}
			b, _ := ev.body.(map[string]any)
			var m msg
			if mo, ok := b["message"].(map[string]any); ok {
				// The <= 1.36 gen_ai.choice body has tool_calls next to
				// message (OpenLLMetry's events); some emitters put them
				// inside it.
				if tc, ok := b["tool_calls"].([]any); ok && len(tc) > 0 && mo["tool_calls"] == nil {
					mo = cloneMap(mo)
					mo["tool_calls"] = tc
				}
				m = c.fromChatMessage(mo, "assistant")
			} else if b != nil {
				m = c.fromChatMessage(b, "assistant")
			} else {
				m = msg{role: "assistant", parts: c.contentParts(ev.body)}
			}
			m.index = len(ec.out)
			if idx, ok := toIndex(b["index"]); ok {
				m.index = idx
			}
			m.finish = c.finishReason(str(b["finish_reason"]))
			ec.out = append(ec.out, m)
		}
	}
	sort.SliceStable(ec.out, func(i, j int) bool { return ec.out[i].index < ec.out[j].index })
	return ec
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// spanContentEvents returns the span's events that content rules read, with
// their positions.
func (p *genaiProcessor) spanContentEvents(events ptrace.SpanEventSlice) (evs []contentEvent, pos []int) {
	m := p.mapping
	for i := 0; i < events.Len(); i++ {
		e := events.At(i)
		name := e.Name()
		if _, ok := m.contentEvents[name]; !ok {
			continue
		}
		spec := m.events[name]
		ce := contentEvent{name: name, spec: spec}
		if spec == nil {
			// A text event (gen_ai.content.prompt): its attributes.
			ce.attrs = e.Attributes().AsRaw()
		} else if spec.kind == eventDetails {
			ce.attrs = e.Attributes().AsRaw()
		} else {
			ce.body = bodyFromAttributes(e.Attributes())
		}
		evs = append(evs, ce)
		pos = append(pos, i)
	}
	return evs, pos
}
