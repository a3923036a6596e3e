package demo

import "encoding/json"

// part and message follow the OTel GenAI message JSON schemas
// (gen-ai-input-messages.json, gen-ai-output-messages.json).
type part struct {
	Type      string `json:"type"`
	Content   string `json:"content,omitempty"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments any    `json:"arguments,omitempty"`
	Response  any    `json:"response,omitempty"`
}

type message struct {
	Role         string `json:"role"`
	Parts        []part `json:"parts"`
	FinishReason string `json:"finish_reason,omitempty"`
}

func userMsg(text string) message {
	return message{Role: "user", Parts: []part{{Type: "text", Content: text}}}
}

func assistantMsg(text string) message {
	return message{Role: "assistant", Parts: []part{{Type: "text", Content: text}}}
}

func toolCallMsg(id, name string, args any) message {
	return message{Role: "assistant", Parts: []part{{Type: "tool_call", ID: id, Name: name, Arguments: args}}}
}

func toolResponseMsg(id string, response any) message {
	return message{Role: "tool", Parts: []part{{Type: "tool_call_response", ID: id, Response: response}}}
}

// asOutput turns messages into output messages with a finish reason.
func asOutput(msgs []message, finish string) []message {
	out := make([]message, len(msgs))
	for i, m := range msgs {
		m.FinishReason = finish
		out[i] = m
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // only strings, numbers, maps and slices are marshalled here
		return "null"
	}
	return string(b)
}

// tokens estimates the token count of a text the way tokenizers behave on
// English prose: about four characters per token.
func tokens(s string) int {
	return max(1, (len(s)+3)/4)
}

// messageTokens counts a chat history, with the usual few tokens of framing
// per message.
func messageTokens(msgs []message) int {
	n := 0
	for _, m := range msgs {
		n += 4 + partTokens(m.Parts)
	}
	return n
}

func partTokens(parts []part) int {
	n := 0
	for _, p := range parts {
		switch p.Type {
		case "text":
			n += tokens(p.Content)
		case "tool_call":
			n += tokens(p.Name) + tokens(mustJSON(p.Arguments)) + 6
		case "tool_call_response":
			n += tokens(mustJSON(p.Response))
		}
	}
	return n
}
