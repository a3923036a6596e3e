package genaiprocessor

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	v := pcommon.NewValueMap()
	require.NoError(t, v.Map().FromRaw(map[string]any{
		"role":  "assistant",
		"n":     int64(-42),
		"f":     1.5e-7,
		"big":   1e21,
		"ok":    true,
		"nil":   nil,
		"bytes": []byte{0, 1, 2, 250},
		"text":  "quote \" backslash \\ newline \n tab \t ctl \x01 <html> & \u2028 ünï 😀",
		"parts": []any{map[string]any{"type": "text", "content": "hi"}, int64(1), "x"},
		"empty": map[string]any{},
		"list":  []any{},
	}))
	got := appendJSON(nil, v, 0)
	require.True(t, json.Valid(got), string(got))
	var gotAny, wantAny any
	require.NoError(t, json.Unmarshal(got, &gotAny))
	want, err := json.Marshal(v.AsRaw())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(want, &wantAny))
	assert.Equal(t, wantAny, gotAny)
}

func TestAppendJSONEdgeCases(t *testing.T) {
	assert.Equal(t, `"\ufffd"`, string(appendJSON(nil, pcommon.NewValueStr("\xff"), 0)))
	assert.Equal(t, `null`, string(appendJSON(nil, pcommon.NewValueDouble(math.NaN()), 0)))
	assert.Equal(t, `null`, string(appendJSON(nil, pcommon.NewValueDouble(math.Inf(-1)), 0)))
	assert.Equal(t, `null`, string(appendJSON(nil, pcommon.NewValueEmpty(), 0)))

	// Deep nesting is cut, not a stack overflow.
	v := pcommon.NewValueSlice()
	cur := v
	for range 1000 {
		cur = cur.Slice().AppendEmpty()
		cur.SetEmptySlice()
	}
	out := appendJSON(nil, v, 0)
	assert.True(t, json.Valid(out))
}

// TestValidJSONSpecialBytes puts every kind of special byte at every offset
// of a long string, across the 8-byte fast path.
func TestValidJSONSpecialBytes(t *testing.T) {
	for _, special := range []string{`"`, `\`, `\"`, `\\`, `\n`, `\u00e9`, `\u12`, "\n", "\x1f", "\x7f", "é", "😀", "\xff", " "} {
		for pre := range 20 {
			for post := range 10 {
				s := `["` + strings.Repeat("a", pre) + special + strings.Repeat("b", post) + `"]`
				require.Equal(t, json.Valid([]byte(s)), validJSON(s), "%q", s)
			}
		}
	}
}
