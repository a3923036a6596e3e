package api

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseChatRequestKeepsUnknownButValidArguments(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},
	  {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
	  {"role":"tool","tool_call_id":"c1","content":"42"}],
	  "temperature":0,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}},"logit_bias":{"50256":-100},
	  "stream":true,"stream_options":{"include_usage":true},"seed":7,"reasoning_effort":"low"}`
	req, e := ParseChatRequest([]byte(body))
	require.Nil(t, e)
	require.True(t, req.WantsUsage())
	require.Equal(t, 0.0, *req.Temperature)
	parts, err := req.Messages[0].Parts()
	require.NoError(t, err)
	require.Len(t, parts, 2)
	require.Equal(t, "https://x/y.png", parts[1].ImageURL.URL)
	// Re-encoding keeps every argument.
	out, err := json.Marshal(req)
	require.NoError(t, err)
	var a, b map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &a))
	require.NoError(t, json.Unmarshal(out, &b))
	require.Equal(t, a, b)
}

func TestParseChatRequestErrors(t *testing.T) {
	for body, want := range map[string]struct{ param, code string }{
		`{"messages":[{"role":"user","content":"x"}]}`:                                    {"model", ""},
		`{"model":"m","messages":[{"role":"user"}]}`:                                      {"messages[0].content", "missing_required_parameter"},
		`{"model":"m","messages":[{"role":"user","content":5}]}`:                          {"messages[0].content", "invalid_type"},
		`{"model":"m","messages":[{"role":"tool","content":"x"}]}`:                        {"messages[0].tool_call_id", "missing_required_parameter"},
		`{"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]}`:             {"messages[0].content", "invalid_type"},
		`{"model":"m","messages":[{"role":"user","content":"x"}],"n":0}`:                  {"n", "invalid_value"},
		`{"model":"m","messages":[{"role":"user","content":"x"}],"top_p":2}`:              {"top_p", "invalid_value"},
		`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}`:         {"max_tokens", "invalid_value"},
		`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"x"}]}`: {"tools[0].type", "invalid_value"},
		`{"model":"m","messages":[{"role":"user","content":"x"}]} {}`:                     {"", ""},
		`{"model":"m","messages":"hi"}`:                                                   {"messages", "invalid_type"},
	} {
		_, e := ParseChatRequest([]byte(body))
		require.NotNil(t, e, body)
		require.Equal(t, 400, e.Status)
		require.Equal(t, TypeInvalidRequest, e.Type)
		require.Equal(t, want.param, deref(e.Param), body)
		require.Equal(t, want.code, deref(e.Code), body)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestEmbeddingInputs(t *testing.T) {
	for in, n := range map[string]int{`"a"`: 1, `["a","b"]`: 2, `[1,2,3]`: 1, `[[1,2],[3]]`: 2} {
		got, e := EmbeddingInputs([]byte(in))
		require.Nil(t, e, in)
		require.Len(t, got, n, in)
	}
	for _, in := range []string{``, `null`, `""`, `[]`, `[""]`, `[1,"a"]`, `[[]]`, `{}`, `[true]`} {
		_, e := EmbeddingInputs([]byte(in))
		require.NotNil(t, e, in)
	}
}

func TestErrorMarshal(t *testing.T) {
	e := NewError(404, TypeInvalidRequest, CodeModelNotFound, "model", "The model `%s` does not exist", "x")
	require.JSONEq(t, `{"error":{"message":"The model `+"`x`"+` does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}`, string(e.Marshal()))
	e = NewError(401, TypeInvalidRequest, "", "", "no key")
	require.JSONEq(t, `{"error":{"message":"no key","type":"invalid_request_error","param":null,"code":null}}`, string(e.Marshal()))
}

func FuzzParseChatRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]}],"tools":[{"type":"function","function":{"name":"f"}}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x","x":1}]}`,
		`{"model":"m","foo":1}`, `{`, `[]`, `null`, `{"model":"m","messages":[],"temperature":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := ParseChatRequest(b)
		if (req == nil) == (e == nil) {
			t.Fatal("exactly one of request and error must be set")
		}
		if e != nil {
			if e.Status != 400 || e.Message == "" || !json.Valid(e.Marshal()) {
				t.Fatalf("bad error: %+v", e)
			}
			return
		}
		if req.Model == "" || len(req.Messages) == 0 {
			t.Fatal("accepted a request without model or messages")
		}
		// An accepted request re-encodes and parses again.
		out, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, e := ParseChatRequest(out); e != nil {
			t.Fatalf("re-encoded request rejected: %v\n%s", e, out)
		}
		for i := range req.Messages {
			_ = req.Messages[i].Text()
		}
	})
}

func FuzzParseEmbeddingsRequest(f *testing.F) {
	for _, s := range []string{`{"model":"m","input":"x"}`, `{"model":"m","input":[[1,2]],"encoding_format":"base64"}`, `{"model":"m","input":[]}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := ParseEmbeddingsRequest(b)
		if (req == nil) == (e == nil) {
			t.Fatal("exactly one of request and error must be set")
		}
		if req != nil {
			in, e := EmbeddingInputs(req.Input)
			if e != nil || len(in) == 0 {
				t.Fatal("accepted request without inputs")
			}
		}
	})
}
