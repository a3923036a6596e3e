package gateway

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/internal/jsonstr"
)

// This file writes gen_ai.input.messages and gen_ai.output.messages
// straight into a reused buffer, copying the caller's JSON string literals
// verbatim where it can: the span builder runs for every call, and
// building the same JSON through intermediate structs and reflection
// doubled its allocations. inputMessages and outputMessages (spans.go)
// define the format; TestContentWritersMatchStructs and
// FuzzContentWriters hold these writers to it.

func appendInputMessages(b []byte, req *api.ChatRequest) []byte {
	b = append(b, '[')
	for i := range req.Messages {
		if i > 0 {
			b = append(b, ',')
		}
		m := &req.Messages[i]
		role := m.Role
		if role == "function" {
			role = "tool"
		}
		b = append(b, `{"role":`...)
		b = appendJSONString(b, role)
		b = append(b, `,"parts":[`...)
		if role == "tool" {
			b = append(b, `{"type":"tool_call_response"`...)
			if m.ToolCallID != "" {
				b = append(b, `,"id":`...)
				b = appendJSONString(b, m.ToolCallID)
			}
			b = append(b, `,"response":`...)
			if c := bytes.TrimSpace(m.Content); len(c) > 0 && c[0] == '"' {
				b = append(b, c...)
			} else {
				b = appendJSONString(b, m.Text())
			}
			b = append(b, "}]"...)
		} else {
			n := 0
			sep := func() {
				if n > 0 {
					b = append(b, ',')
				}
				n++
			}
			c := bytes.TrimSpace(m.Content)
			switch {
			case len(c) > 0 && c[0] == '"':
				sep()
				b = append(b, `{"type":"text","content":`...)
				b = append(b, c...)
				b = append(b, '}')
			case len(c) > 0 && c[0] == '[':
				parts, _ := m.Parts()
				for _, p := range parts {
					if p.Type == "image_url" && p.ImageURL == nil {
						continue
					}
					sep()
					b = appendInputPart(b, p)
				}
			}
			for _, tc := range m.ToolCalls {
				sep()
				b = appendToolCall(b, tc)
			}
			b = append(b, ']')
		}
		if m.Name != "" {
			b = append(b, `,"name":`...)
			b = appendJSONString(b, m.Name)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendInputPart(b []byte, p api.ContentPart) []byte {
	switch p.Type {
	case "text", "refusal":
		t := p.Text
		if p.Type == "refusal" {
			t = p.Refusal
		}
		b = append(b, `{"type":"text","content":`...)
		b = appendJSONString(b, t)
		return append(b, '}')
	case "image_url":
		if mt, ok := strings.CutPrefix(p.ImageURL.URL, "data:"); ok {
			mt, _, _ = strings.Cut(mt, ";")
			b = append(b, `{"type":"blob","modality":"image"`...)
			if mt != "" {
				b = append(b, `,"mime_type":`...)
				b = appendJSONString(b, mt)
			}
			return append(b, '}')
		}
		b = append(b, `{"type":"uri","modality":"image"`...)
		if p.ImageURL.URL != "" {
			b = append(b, `,"uri":`...)
			b = appendJSONString(b, p.ImageURL.URL)
		}
		return append(b, '}')
	}
	b = append(b, `{"type":`...)
	b = appendJSONString(b, p.Type)
	return append(b, '}')
}

func appendToolCall(b []byte, tc api.ToolCall) []byte {
	b = append(b, `{"type":"tool_call"`...)
	if tc.ID != "" {
		b = append(b, `,"id":`...)
		b = appendJSONString(b, tc.ID)
	}
	if tc.Function.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, tc.Function.Name)
	}
	b = append(b, `,"arguments":`...)
	if a := strings.TrimSpace(tc.Function.Arguments); a != "" && json.Valid([]byte(a)) {
		b = appendCompact(b, a)
	} else {
		b = appendJSONString(b, tc.Function.Arguments)
	}
	return append(b, '}')
}

// appendCompact appends valid JSON without insignificant whitespace, as
// json.Marshal does for a RawMessage.
func appendCompact(b []byte, s string) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(s)) != nil {
		return appendJSONString(b, s)
	}
	return append(b, buf.Bytes()...)
}

func appendOutputMessages(b []byte, resp *api.ChatResponse) []byte {
	b = append(b, '[')
	for i, c := range resp.Choices {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"role":"assistant","parts":[`...)
		n := 0
		sep := func() {
			if n > 0 {
				b = append(b, ',')
			}
			n++
		}
		if c.Message.Content != nil && (*c.Message.Content != "" || len(c.Message.ToolCalls) == 0) {
			sep()
			b = append(b, `{"type":"text","content":`...)
			b = appendJSONString(b, *c.Message.Content)
			b = append(b, '}')
		}
		if c.Message.Refusal != nil && *c.Message.Refusal != "" {
			sep()
			b = append(b, `{"type":"refusal","content":`...)
			b = appendJSONString(b, *c.Message.Refusal)
			b = append(b, '}')
		}
		for _, tc := range c.Message.ToolCalls {
			sep()
			b = appendToolCall(b, tc)
		}
		b = append(b, `],"finish_reason":`...)
		b = appendJSONString(b, otelFinishReason(c.FinishReason))
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONString appends s as encoding/json would (HTML escaped).
func appendJSONString(b []byte, s string) []byte { return jsonstr.Append(b, s, true) }
