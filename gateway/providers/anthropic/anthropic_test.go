package anthropic

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/gateway/api"
	"github.com/llm-observatory/observatory/gateway/providers"
)

func chat(t *testing.T, body string) *providers.ChatRequest {
	t.Helper()
	req, e := api.ParseChatRequest([]byte(body))
	require.Nil(t, e)
	return &providers.ChatRequest{Body: req, Model: "claude-x"}
}

func TestTranslateToolConversation(t *testing.T) {
	req := chat(t, `{"model":"c","max_tokens":50,"user":"u1","parallel_tool_calls":false,"messages":[
	  {"role":"developer","content":"Be exact."},
	  {"role":"user","content":"Weather in Paris and Rome?"},
	  {"role":"assistant","content":null,"tool_calls":[
	    {"id":"t1","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}},
	    {"id":"t2","type":"function","function":{"name":"w","arguments":"{\"city\":\"Rome\"}"}}]},
	  {"role":"tool","tool_call_id":"t1","content":"sunny"},
	  {"role":"tool","tool_call_id":"t2","content":"rain"}],
	  "tool_choice":{"type":"function","function":{"name":"w"}},
	  "tools":[{"type":"function","function":{"name":"w","description":"weather"}}]}`)
	out, err := Translate(req, 4096)
	require.NoError(t, err)
	b, _ := json.Marshal(out)
	require.JSONEq(t, `{"model":"claude-x","max_tokens":50,
	  "system":[{"type":"text","text":"Be exact."}],
	  "messages":[
	    {"role":"user","content":[{"type":"text","text":"Weather in Paris and Rome?"}]},
	    {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"w","input":{"city":"Paris"}},{"type":"tool_use","id":"t2","name":"w","input":{"city":"Rome"}}]},
	    {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"sunny"},{"type":"tool_result","tool_use_id":"t2","content":"rain"}]}],
	  "tools":[{"name":"w","description":"weather","input_schema":{"type":"object","properties":{}}}],
	  "tool_choice":{"type":"tool","name":"w","disable_parallel_tool_use":true},
	  "metadata":{"user_id":"u1"}}`, string(b))
}

func TestTranslateRefusals(t *testing.T) {
	for _, body := range []string{
		`{"model":"c","n":2,"messages":[{"role":"user","content":"x"}]}`,
		`{"model":"c","messages":[{"role":"system","content":"only system"}]}`,
		`{"model":"c","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`,
		`{"model":"c","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}`,
		`{"model":"c","messages":[{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{not json"}}]}]}`,
	} {
		_, err := Translate(chat(t, body), 100)
		var pe *providers.Error
		require.ErrorAs(t, err, &pe, body)
		require.Equal(t, providers.Terminal, pe.Class)
		require.Equal(t, 400, pe.Status)
	}
}

func TestResponseTranslation(t *testing.T) {
	b, err := os.ReadFile("../../testdata/anthropic_message.json")
	require.NoError(t, err)
	var r Response
	require.NoError(t, json.Unmarshal(b, &r))
	cr := ToOpenAI(&r, 123)
	require.Equal(t, "tool_calls", cr.Choices[0].FinishReason)
	require.Equal(t, "get_weather", cr.Choices[0].Message.ToolCalls[0].Function.Name)
	require.Equal(t, 117, cr.Usage.PromptTokens)
	require.Equal(t, 147, cr.Usage.TotalTokens)
	for in, out := range map[string]string{"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls", "refusal": "content_filter"} {
		require.Equal(t, out, FinishReason(in))
	}
}

func TestStreamTranslation(t *testing.T) {
	b, err := os.ReadFile("../../testdata/anthropic_stream.txt")
	require.NoError(t, err)
	s := NewStream(strings.NewReader(string(b)), false)
	n := 0
	for {
		c, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.Nil(t, c.Usage, "no usage chunk unless asked")
		n++
	}
	require.Equal(t, 8, n) // role, 2 text, tool start, 3 json deltas, finish

	// A stream cut before message_stop is an error, not a silent success.
	cut := strings.Split(string(b), "event: message_stop")[0]
	s = NewStream(strings.NewReader(cut), true)
	var last error
	for last == nil {
		_, last = s.Next()
	}
	var pe *providers.Error
	require.ErrorAs(t, last, &pe)
	require.Equal(t, "bad_response", pe.Reason)

	s = NewStream(strings.NewReader("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"), true)
	_, err = s.Next()
	require.ErrorAs(t, err, &pe)
	require.Equal(t, providers.Retryable, pe.Class)
	require.Equal(t, "Overloaded", pe.Message)
}

func FuzzAnthropicStream(f *testing.F) {
	b, err := os.ReadFile("../../testdata/anthropic_stream.txt")
	if err == nil {
		f.Add(b)
	}
	f.Add([]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\ndata: {\"type\":\"message_stop\"}\n\n"))
	f.Add([]byte("data: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := NewStream(strings.NewReader(string(in)), true)
		for i := 0; i < 10000; i++ {
			c, err := s.Next()
			if err != nil {
				var pe *providers.Error
				if !errors.Is(err, io.EOF) && !errors.As(err, &pe) {
					t.Fatalf("unclassified error %T %v", err, err)
				}
				return
			}
			if _, err := json.Marshal(c); err != nil {
				t.Fatal(err)
			}
		}
		t.Fatal("stream did not end")
	})
}
