package storeutil

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
)

func TestCanonicalNumber(t *testing.T) {
	// Expected values are what PostgreSQL prints for '<in>'::jsonb.
	for in, want := range map[string]string{
		"0": "0", "-0": "0", "-0.0": "0.0", "5": "5", "-7.25": "-7.25", "0.10": "0.10",
		"1e2": "100", "1E+2": "100", "12E+1": "120", "1.50e-1": "0.150", "0.5e-2": "0.005",
		"1e-20": "0.00000000000000000001", "123.4500e2": "12345.00", "-1.5e1": "-15",
		"1.25e1": "12.5", "-0e5": "0", "0.000e1": "0.00", "9007199254740993": "9007199254740993",
		"1e999999": "1e999999", "abc": "abc",
	} {
		require.Equal(t, want, CanonicalNumber(in), in)
	}
}

func TestCanonicalJSON(t *testing.T) {
	got, err := CanonicalJSON([]byte(` { "b": [1e2, {"z": 1, "a": "<&>"}], "a": "\u00e9\u0000", "a": "last" } `))
	require.NoError(t, err)
	require.Equal(t, `{"a":"last","b":[100,{"a":"<&>","z":1}]}`, string(got))
	_, err = CanonicalJSON([]byte(`{} {}`))
	require.Error(t, err)
	_, err = CanonicalJSON([]byte(`{`))
	require.Error(t, err)
}

func TestNormalizeCallsDedupAndErrors(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := llmcall.Call{ProjectID: "p", TraceID: "t", SpanID: "s", StartTime: start, Name: "first"}
	d := c
	d.Name = "second"
	bad := c
	bad.ProjectID = ""
	out, err := NormalizeCalls([]llmcall.Call{c, bad, d})
	require.ErrorIs(t, err, storage.ErrInvalidRecord)
	require.ErrorContains(t, err, "1 of 3")
	require.ErrorContains(t, err, "missing project id")
	require.Len(t, out, 1)
	require.Equal(t, "first", out[0].Name)
}

func TestNormalizeJSONForWrite(t *testing.T) {
	for in, want := range map[string]string{
		``:                 "",
		`null`:             "",
		` null `:           "",
		`{"a": 1}`:         `{"a": 1}`, // kept as is: no escapes
		`{"a":"\u00e9"}`:   `{"a":"é"}`,
		"{\"a\":\"\xff\"}": `{"a":"` + "\uFFFD" + `"}`,
	} {
		got, err := normalizeJSONForWrite(json.RawMessage(in))
		require.NoError(t, err, in)
		require.Equal(t, want, string(got), in)
		if want == "" {
			require.Nil(t, got)
		}
	}
	_, err := normalizeJSONForWrite(json.RawMessage(`{"a":}`))
	require.Error(t, err)
}

func TestCursorRoundTrip(t *testing.T) {
	c := llmcall.Call{StartTime: time.UnixMicro(1234567890123456).UTC(), SpanID: "s:1,\"x", TraceID: "t"}
	cur, err := DecodeCursor(EncodeCursor(&c))
	require.NoError(t, err)
	require.Equal(t, Cursor{StartMicros: 1234567890123456, SpanID: "s:1,\"x", TraceID: "t"}, cur)
	for _, bad := range []string{"!", "e30", "bnVsbA", "WzEsMl0"} {
		_, err := DecodeCursor(bad)
		require.ErrorIs(t, err, storage.ErrInvalidQuery, bad)
	}
}

func TestCeilMicros(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, t0.UnixMicro(), CeilMicros(t0))
	require.Equal(t, t0.UnixMicro()+1, CeilMicros(t0.Add(time.Nanosecond)))
	require.Equal(t, t0.UnixMicro(), CeilMicros(t0.Add(-999*time.Nanosecond)))
}
