package gateway

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/gateway/api"
)

func requireSameJSON(t testing.TB, want any, got []byte) {
	t.Helper()
	wb, err := json.Marshal(want)
	require.NoError(t, err)
	var w, g any
	require.NoError(t, json.Unmarshal(wb, &w))
	require.NoError(t, json.Unmarshal(got, &g), "invalid JSON: %s", got)
	require.Equal(t, w, g)
}

func TestContentWritersMatchStructs(t *testing.T) {
	body := `{"model":"m","messages":[
	  {"role":"system","content":"Be <brief> & \"exact\"\u2028\n"},
	  {"role":"user","name":"bob","content":[{"type":"text","text":"é\u0001"},{"type":"image_url","image_url":{"url":"data:image/png;base64,xx"}},{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"input_audio"}]},
	  {"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":" {\"a\": 1} "}},{"id":"c2","type":"function","function":{"name":"g","arguments":"not json"}}]},
	  {"role":"tool","tool_call_id":"c1","content":"42"},
	  {"role":"function","name":"f","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`
	req, e := api.ParseChatRequest([]byte(body))
	require.Nil(t, e)
	requireSameJSON(t, inputMessages(req), appendInputMessages(nil, req))

	text, refusal := "hi <there>", "no"
	resp := &api.ChatResponse{Choices: []api.Choice{
		{Message: api.ResponseMessage{Content: &text}, FinishReason: "stop"},
		{Message: api.ResponseMessage{Refusal: &refusal}, FinishReason: "content_filter"},
		{Message: api.ResponseMessage{ToolCalls: []api.ToolCall{{ID: "1", Function: api.FunctionCall{Name: "f", Arguments: "{}"}}}}, FinishReason: "tool_calls"},
		{Message: api.ResponseMessage{}},
	}}
	requireSameJSON(t, outputMessages(resp), appendOutputMessages(nil, resp))
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "\"\\/\b\f\n\r\t", "\x00\x1f\x7f", "<>&", "\u2028\u2029", "é日本", "bad\xffutf8\xc3", "😀"} {
		want, _ := json.Marshal(s)
		require.Equal(t, string(want), string(appendJSONString(nil, s)), "%q", s)
	}
}

func FuzzContentWriters(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`), "text\xff\u2028")
	f.Add([]byte(`{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"x\":[1, 2]}"}}]},{"role":"tool","tool_call_id":"1","content":[{"type":"text","text":"r"}]}]}`), "")
	f.Fuzz(func(t *testing.T, body []byte, s string) {
		want, _ := json.Marshal(s)
		if string(want) != string(appendJSONString(nil, s)) {
			t.Fatalf("string %q: %s != %s", s, appendJSONString(nil, s), want)
		}
		req, e := api.ParseChatRequest(body)
		if e != nil {
			return
		}
		requireSameJSON(t, inputMessages(req), appendInputMessages(nil, req))
	})
}
