package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
)

// Limits of a parsed request.
const (
	MaxEmbeddingInputs = 2048
	maxParamNameLen    = 64
)

const invalidJSONMessage = "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload, but what was sent was not valid JSON: %s"

// ParseChatRequest decodes and validates a chat completions body. Errors
// are 400s in OpenAI's shape naming the offending parameter.
func ParseChatRequest(body []byte) (*ChatRequest, *Error) {
	req := new(ChatRequest)
	if err := decodeStrict(body, req); err != nil {
		return nil, chatDecodeError(body, err)
	}
	if e := req.validate(); e != nil {
		return nil, e
	}
	return req, nil
}

// ParseEmbeddingsRequest decodes and validates an embeddings body.
func ParseEmbeddingsRequest(body []byte) (*EmbeddingsRequest, *Error) {
	req := new(EmbeddingsRequest)
	if err := decodeStrict(body, req); err != nil {
		return nil, decodeError(body, err, req)
	}
	if req.Model == "" {
		return nil, BadRequest("model", "", "you must provide a model parameter")
	}
	switch req.EncodingFormat {
	case "", "float", "base64":
	default:
		return nil, BadRequest("encoding_format", "invalid_value", "Invalid value: '%s'. Supported values are: 'float' and 'base64'.", clip(req.EncodingFormat))
	}
	if req.Dimensions != nil && *req.Dimensions < 1 {
		return nil, BadRequest("dimensions", "invalid_value", "Invalid 'dimensions': must be at least 1.")
	}
	if _, e := EmbeddingInputs(req.Input); e != nil {
		return nil, e
	}
	return req, nil
}

// EmbeddingInputs returns the inputs of an embeddings request as strings
// (token-id arrays are returned as their JSON text).
func EmbeddingInputs(input Raw) ([]string, *Error) {
	bad := func(msg string) *Error { return BadRequest("input", "invalid_value", "%s", msg) }
	in := bytes.TrimSpace(input)
	if len(in) == 0 || bytes.Equal(in, []byte("null")) {
		return nil, BadRequest("input", "", "you must provide an input parameter")
	}
	switch in[0] {
	case '"':
		var s string
		if err := json.Unmarshal(in, &s); err != nil {
			return nil, bad("'input' must be a string or an array")
		}
		if s == "" {
			return nil, bad("'input' cannot be an empty string.")
		}
		return []string{s}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(in, &items); err != nil {
			return nil, bad("'input' must be a string, an array of strings, an array of token ids or an array of token-id arrays")
		}
		if len(items) == 0 {
			return nil, bad("'input' cannot be an empty array.")
		}
		if len(items) > MaxEmbeddingInputs {
			return nil, bad(fmt.Sprintf("'input' has %d items; at most %d are allowed.", len(items), MaxEmbeddingInputs))
		}
		if it := bytes.TrimSpace(items[0]); len(it) > 0 && (it[0] == '-' || (it[0] >= '0' && it[0] <= '9')) {
			var toks []int64
			if err := json.Unmarshal(in, &toks); err != nil {
				return nil, bad("'input' mixes token ids with other values")
			}
			return []string{string(in)}, nil
		}
		out := make([]string, 0, len(items))
		for i, it := range items {
			it = bytes.TrimSpace(it)
			switch {
			case len(it) > 0 && it[0] == '"':
				var s string
				if err := json.Unmarshal(it, &s); err != nil || s == "" {
					return nil, bad(fmt.Sprintf("'input[%d]' must be a non-empty string.", i))
				}
				out = append(out, s)
			case len(it) > 0 && it[0] == '[':
				var toks []int64
				if err := json.Unmarshal(it, &toks); err != nil || len(toks) == 0 {
					return nil, bad(fmt.Sprintf("'input[%d]' must be a non-empty array of token ids.", i))
				}
				out = append(out, string(it))
			default:
				return nil, bad(fmt.Sprintf("'input[%d]' must be a string or an array of token ids.", i))
			}
		}
		return out, nil
	default:
		return nil, bad("'input' must be a string or an array")
	}
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the top-level JSON value")
	}
	return nil
}

// chatDecodeError explains a failed strict decode of a chat request,
// locating an unknown key inside messages when there is one.
func chatDecodeError(body []byte, err error) *Error {
	if !isUnknownField(err) {
		return decodeError(body, err, &ChatRequest{})
	}
	var top struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if e := unknownTopLevel(body, &ChatRequest{}); e != nil {
		return e
	}
	if json.Unmarshal(body, &top) == nil {
		for i, m := range top.Messages {
			var msg Message
			dec := json.NewDecoder(bytes.NewReader(m))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&msg); isUnknownField(err) {
				name := unknownFieldName(err)
				param := fmt.Sprintf("messages[%d].%s", i, name)
				return BadRequest(param, CodeUnknownParameter, "Unknown parameter: '%s'.", param)
			}
		}
	}
	name := unknownFieldName(err)
	return BadRequest(name, CodeUnknownParameter, "Unknown parameter: '%s'.", name)
}

func decodeError(body []byte, err error, v any) *Error {
	if isUnknownField(err) {
		if e := unknownTopLevel(body, v); e != nil {
			return e
		}
		name := unknownFieldName(err)
		return BadRequest(name, CodeUnknownParameter, "Unknown parameter: '%s'.", name)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := clip(te.Field)
		return BadRequest(field, "invalid_type", "Invalid type for '%s': expected %s, but got %s instead.", field, describeKind(te.Type), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return BadRequest("", "", invalidJSONMessage, err.Error())
	}
	return BadRequest("", "", invalidJSONMessage, err.Error())
}

func isUnknownField(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "json: unknown field ")
}

func unknownFieldName(err error) string {
	s := strings.TrimPrefix(err.Error(), "json: unknown field ")
	return clip(strings.Trim(s, `"`))
}

// unknownTopLevel finds a top-level key of body that v's struct does not
// declare.
func unknownTopLevel(body []byte, v any) *Error {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	known := jsonFieldNames(reflect.TypeOf(v).Elem())
	var unknown []string
	for k := range m {
		if _, ok := known[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	// Deterministic: the smallest name.
	name := unknown[0]
	for _, k := range unknown[1:] {
		if k < name {
			name = k
		}
	}
	name = clip(name)
	return BadRequest(name, CodeUnknownParameter, "Unknown parameter: '%s'.", name)
}

func jsonFieldNames(t reflect.Type) map[string]struct{} {
	out := make(map[string]struct{}, t.NumField())
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name != "" && name != "-" {
			out[name] = struct{}{}
		}
	}
	return out
}

func describeKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return describeKind(t.Elem())
	}
	return "a value"
}

// clip bounds user-controlled text echoed in errors.
func clip(s string) string {
	if len(s) > maxParamNameLen {
		return s[:maxParamNameLen] + "…"
	}
	return s
}

func (r *ChatRequest) validate() *Error {
	if r.Model == "" {
		return BadRequest("model", "", "you must provide a model parameter")
	}
	if len(r.Messages) == 0 {
		return BadRequest("messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	for i := range r.Messages {
		if e := r.Messages[i].validate(i); e != nil {
			return e
		}
	}
	if r.StreamOptions != nil && !r.Stream {
		return BadRequest("stream_options", "invalid_value", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
	}
	if r.N != nil && (*r.N < 1 || *r.N > 128) {
		return BadRequest("n", "invalid_value", "Invalid 'n': must be between 1 and 128.")
	}
	if r.Temperature != nil && (*r.Temperature < 0 || *r.Temperature > 2 || math.IsNaN(*r.Temperature)) {
		return BadRequest("temperature", "invalid_value", "Invalid 'temperature': must be between 0 and 2.")
	}
	if r.TopP != nil && (*r.TopP < 0 || *r.TopP > 1 || math.IsNaN(*r.TopP)) {
		return BadRequest("top_p", "invalid_value", "Invalid 'top_p': must be between 0 and 1.")
	}
	if r.MaxTokens != nil && *r.MaxTokens < 1 {
		return BadRequest("max_tokens", "invalid_value", "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got %d instead.", *r.MaxTokens)
	}
	if r.MaxCompletionTokens != nil && *r.MaxCompletionTokens < 1 {
		return BadRequest("max_completion_tokens", "invalid_value", "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1, but got %d instead.", *r.MaxCompletionTokens)
	}
	for i, t := range r.Tools {
		if t.Type != "function" && t.Type != "custom" {
			return BadRequest(fmt.Sprintf("tools[%d].type", i), "invalid_value", "Invalid value: '%s'. Supported values are: 'function' and 'custom'.", clip(t.Type))
		}
		if t.Type == "function" && t.Function.Name == "" {
			return BadRequest(fmt.Sprintf("tools[%d].function.name", i), "missing_required_parameter", "Missing required parameter: 'tools[%d].function.name'.", i)
		}
	}
	return nil
}

func (m *Message) validate(i int) *Error {
	switch m.Role {
	case "system", "developer", "user", "assistant", "tool", "function":
	default:
		param := fmt.Sprintf("messages[%d].role", i)
		if m.Role == "" {
			return BadRequest(param, "missing_required_parameter", "Missing required parameter: '%s'.", param)
		}
		return BadRequest(param, "invalid_value", "Invalid value: '%s'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.", clip(m.Role))
	}
	c := bytes.TrimSpace(m.Content)
	absent := len(c) == 0 || bytes.Equal(c, []byte("null"))
	param := fmt.Sprintf("messages[%d].content", i)
	switch {
	case absent && m.Role != "assistant":
		return BadRequest(param, "missing_required_parameter", "Missing required parameter: '%s'.", param)
	case absent && len(m.ToolCalls) == 0 && len(m.FunctionCall) == 0 && m.Refusal == nil && len(m.Audio) == 0:
		return BadRequest(param, "missing_required_parameter", "Missing required parameter: '%s'.", param)
	case !absent && c[0] != '"' && c[0] != '[':
		return BadRequest(param, "invalid_type", "Invalid type for '%s': expected one of a string or array of objects, but got %s instead.", param, jsonKind(c))
	case !absent && c[0] == '[':
		if _, err := m.Parts(); err != nil {
			return BadRequest(param, "invalid_type", "Invalid '%s': %v", param, err)
		}
	}
	if m.Role == "tool" && m.ToolCallID == "" {
		p := fmt.Sprintf("messages[%d].tool_call_id", i)
		return BadRequest(p, "missing_required_parameter", "Missing required parameter: '%s'.", p)
	}
	return nil
}

func jsonKind(b []byte) string {
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == '{':
		return "an object"
	case b[0] == 't' || b[0] == 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

// Parts returns the content of m as parts: a string content is one text
// part; an absent content is no part.
func (m *Message) Parts() ([]ContentPart, error) {
	c := bytes.TrimSpace(m.Content)
	if len(c) == 0 || bytes.Equal(c, []byte("null")) {
		return nil, nil
	}
	if c[0] == '"' {
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return nil, fmt.Errorf("decode content: %w", err)
		}
		return []ContentPart{{Type: "text", Text: s}}, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(c, &raw); err != nil {
		return nil, fmt.Errorf("content must be a string or an array of parts: %w", err)
	}
	parts := make([]ContentPart, 0, len(raw))
	for i, r := range raw {
		var p ContentPart
		if err := json.Unmarshal(r, &p); err != nil {
			return nil, fmt.Errorf("part %d: %w", i, err)
		}
		if p.Type == "" {
			return nil, fmt.Errorf("part %d has no type", i)
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// Text returns the concatenated text parts of m.
func (m *Message) Text() string {
	parts, _ := m.Parts()
	if len(parts) == 1 {
		return parts[0].Text
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// WantsUsage reports whether a streamed request asked for the usage chunk.
func (r *ChatRequest) WantsUsage() bool {
	return r.StreamOptions != nil && r.StreamOptions.IncludeUsage != nil && *r.StreamOptions.IncludeUsage
}
