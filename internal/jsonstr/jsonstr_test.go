package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func encode(t *testing.T, s string, html bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	require.NoError(t, enc.Encode(s))
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\n\r\t\b\f\x00\x1f", "<a&b>", "bad \xff utf8", "line\u2028sep\u2029", "héllo 世界"} {
		for _, html := range []bool{true, false} {
			require.Equal(t, string(encode(t, s, html)), string(Append(nil, s, html)), "%q html=%v", s, html)
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("x<y>&\"\\\n\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{true, false} {
			require.Equal(t, string(encode(t, s, html)), string(Append(nil, s, html)))
		}
	})
}
